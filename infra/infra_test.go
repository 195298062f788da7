// Package infra_test checks the Bicep templates offline. No Bicep compiler or
// Azure CLI runs here, so these tests read the .bicep text and compare it with
// what the handler needs: the settings internal/config reads, the queues the
// function.json triggers listen on, and the deploy rules that are not visible
// until a deployment fails (Flex Consumption's instance floor, the scale
// controller's Service Bus role, the input asserts).
package infra_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Built-in role definition IDs (Azure RBAC, identical in every tenant).
const (
	serviceBusDataOwner    = "090c5cfd-751d-490a-894a-3ce6f1109419"
	serviceBusDataSender   = "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"
	serviceBusDataReceiver = "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// bicepFiles returns every .bicep file of infra/, main.bicep first.
func bicepFiles(t *testing.T) []string {
	t.Helper()
	modules, err := filepath.Glob("modules/*.bicep")
	if err != nil || len(modules) == 0 {
		t.Fatalf("no modules/*.bicep found (err %v)", err)
	}
	return append([]string{"main.bicep"}, modules...)
}

// param is one `param` declaration: its decorators (the lines above it up to
// the previous blank line) and its default value expression ("" if none).
type param struct {
	decorators string
	def        string
}

func bicepParam(t *testing.T, src, name string) param {
	t.Helper()
	lines := strings.Split(src, "\n")
	re := regexp.MustCompile(`^param ` + regexp.QuoteMeta(name) + `\s+\S+(?:\s*=\s*(.*))?$`)
	for i, line := range lines {
		m := re.FindStringSubmatch(strings.TrimRight(line, "\r "))
		if m == nil {
			continue
		}
		start := i
		for start > 0 && strings.TrimSpace(lines[start-1]) != "" {
			start--
		}
		return param{decorators: strings.Join(lines[start:i], "\n"), def: strings.TrimSpace(m[1])}
	}
	t.Fatalf("param %s not declared", name)
	return param{}
}

// block returns the body of the first `{ ... }` or `[ ... ]` that opens at
// the end of a line matching head, up to the line that closes it at the same
// indentation.
func block(t *testing.T, src, head string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^([ \t]*)` + head + `.*[\{\[][ \t\r]*$`)
	loc := re.FindStringSubmatchIndex(src)
	if loc == nil {
		t.Fatalf("no block %q", head)
	}
	indent := src[loc[2]:loc[3]]
	rest := src[loc[1]:]
	end := regexp.MustCompile(`(?m)^` + indent + `[\}\]]`).FindStringIndex(rest)
	if end == nil {
		t.Fatalf("block %q is not closed", head)
	}
	return rest[:end[0]]
}

// objectKeys returns the top-level keys of a Bicep object body and their value
// expressions.
func objectKeys(body string) map[string]string {
	keys := map[string]string{}
	re := regexp.MustCompile(`^  ([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$`)
	for _, line := range strings.Split(body, "\n") {
		if m := re.FindStringSubmatch(strings.TrimRight(line, "\r ")); m != nil {
			keys[m[1]] = m[2]
		}
	}
	return keys
}

// appSettings returns every app setting the templates give the function app:
// the handler's settings of main.bicep (unconditional core ones flagged) and
// the host settings of modules/functionapp.bicep.
func appSettings(t *testing.T) (all, core map[string]string) {
	t.Helper()
	main := read(t, "main.bicep")
	all = map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^var (\w+Settings) =`).FindAllStringSubmatch(main, -1) {
		for k, v := range objectKeys(block(t, main, `var `+m[1]+` =`)) {
			all[k] = v
		}
	}
	core = objectKeys(block(t, main, `var coreSettings =`))
	for k, v := range objectKeys(block(t, read(t, "modules/functionapp.bicep"), `var hostSettings =`)) {
		all[k] = v
		core[k] = v
	}
	if len(core) == 0 {
		t.Fatal("no coreSettings found in main.bicep")
	}
	return all, core
}

// setting is one environment variable internal/config reads.
type setting struct {
	method string // loader method: str, required, oneOf, boolean, integer
	def    string // default of l.str, unquoted
}

// handlerSettings parses internal/config/config.go for the loader calls with
// a literal name: l.str("NAME", "default"), l.required("NAME"), ...
func handlerSettings(t *testing.T) map[string]setting {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../internal/config/config.go", nil, 0)
	if err != nil {
		t.Fatalf("parse config.go: %v", err)
	}
	settings := map[string]setting{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "l" {
			return true
		}
		switch sel.Sel.Name {
		case "str", "required", "oneOf", "boolean", "integer":
		default:
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		name, _ := strconv.Unquote(lit.Value)
		s := setting{method: sel.Sel.Name}
		if sel.Sel.Name == "str" && len(call.Args) > 1 {
			if d, ok := call.Args[1].(*ast.BasicLit); ok && d.Kind == token.STRING {
				s.def, _ = strconv.Unquote(d.Value)
			}
		}
		settings[name] = s
		return true
	})
	if len(settings) < 20 {
		t.Fatalf("found only %d settings in config.go; has the loader changed?", len(settings))
	}
	return settings
}

// TestMaximumInstanceCountFloor: Flex Consumption rejects a maximum instance
// count below 40, so a lower value must fail at parameter validation instead
// of deep inside the deployment.
func TestMaximumInstanceCountFloor(t *testing.T) {
	for _, file := range []string{"main.bicep", "modules/functionapp.bicep"} {
		p := bicepParam(t, read(t, file), "maximumInstanceCount")
		if !strings.Contains(p.decorators, "@minValue(40)") {
			t.Errorf("%s: maximumInstanceCount has no @minValue(40); decorators:\n%s", file, p.decorators)
		}
		if p.def != "" {
			if n, err := strconv.Atoi(p.def); err != nil || n < 40 {
				t.Errorf("%s: maximumInstanceCount default %q is below 40", file, p.def)
			}
		}
	}
	var params struct {
		Parameters map[string]struct {
			Value json.RawMessage `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(read(t, "main.parameters.json")), &params); err != nil {
		t.Fatalf("main.parameters.json: %v", err)
	}
	if v, ok := params.Parameters["maximumInstanceCount"]; ok {
		if n, err := strconv.Atoi(string(v.Value)); err != nil || n < 40 {
			t.Errorf("main.parameters.json: maximumInstanceCount %s is below 40", v.Value)
		}
	}
}

// TestConnectionBudgetIsSteeredByThePool: the README must budget PostgreSQL
// connections with pool_max_conns or PgBouncer, not by lowering the instance
// count (which Flex Consumption does not allow below 40).
func TestConnectionBudgetIsSteeredByThePool(t *testing.T) {
	readme := read(t, "README.md")
	i := strings.Index(readme, "## Connection budget")
	if i < 0 {
		t.Fatal(`infra/README.md has no "## Connection budget" section`)
	}
	section := readme[i+3:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	for _, want := range []string{"pool_max_conns", "max_connections", "PgBouncer", "6432", "transaction"} {
		if !strings.Contains(section, want) {
			t.Errorf("Connection budget section does not mention %q", want)
		}
	}
	if strings.Contains(strings.ToLower(section), "lower `maximuminstancecount`") {
		t.Error("Connection budget section still advises lowering maximumInstanceCount")
	}
}

// TestAssertsGuardInputsThatCannotWork: each input that deploys but cannot
// work has an assert, and the experimental feature is switched on where
// Bicep looks for it (the nearest bicepconfig.json).
func TestAssertsGuardInputsThatCannotWork(t *testing.T) {
	var cfg struct {
		ExperimentalFeaturesEnabled map[string]bool `json:"experimentalFeaturesEnabled"`
	}
	var jsonText strings.Builder
	for _, line := range strings.Split(read(t, "bicepconfig.json"), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			jsonText.WriteString(line + "\n")
		}
	}
	if err := json.Unmarshal([]byte(jsonText.String()), &cfg); err != nil {
		t.Fatalf("bicepconfig.json: %v", err)
	}
	if !cfg.ExperimentalFeaturesEnabled["assertions"] {
		t.Error("bicepconfig.json does not enable experimentalFeaturesEnabled.assertions")
	}

	asserts := func(file string) map[string]string {
		found := map[string]string{}
		for _, m := range regexp.MustCompile(`(?m)^assert (\w+) = (.+)$`).FindAllStringSubmatch(read(t, file), -1) {
			found[m[1]] = m[2]
		}
		return found
	}
	main := asserts("main.bicep")
	cases := []struct {
		what string
		file string
		refs []string // every one must appear in one assert's expression
	}{
		{"equal queue names", "main.bicep", []string{"importQueueName", "processingQueueName", "mailQueueName", "publishQueueName", "!="}},
		{"namePrefix characters and hyphens", "main.bicep", []string{"prefix", "'--'", "endsWith(prefix, '-')"}},
		{"host storage account name", "main.bicep", []string{"names.hostStorage", "<= 24"}},
		{"media storage account name", "main.bicep", []string{"names.mediaStorage", "<= 24"}},
		{"Key Vault name", "main.bicep", []string{"names.keyVault", "<= 24", "'--'"}},
		{"PostgreSQL without password auth and without Entra administrator", "main.bicep", []string{"postgresAppIdentityIsAdmin", "postgresEntraAdmins"}},
		{"PostgreSQL module on its own", "modules/postgres.bicep", []string{"passwordAuth", "administrators"}},
	}
	for _, c := range cases {
		all := main
		if c.file != "main.bicep" {
			all = asserts(c.file)
		}
		ok := false
		for _, expr := range all {
			if containsAll(expr, c.refs) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s: no assert covers %s (an assert referring to %q)", c.file, c.what, c.refs)
		}
	}

	// The module's assert must test the value the server really gets.
	pg := read(t, "modules/postgres.bicep")
	if !strings.Contains(pg, "passwordAuth: passwordAuth") {
		t.Error("modules/postgres.bicep: authConfig.passwordAuth is not the passwordAuth variable the assert checks")
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestNamesFitAtTheLongestPrefix: the storage account and Key Vault names
// built from the longest namePrefix the parameter allows stay within 24
// characters (uniqueString yields 13 characters).
func TestNamesFitAtTheLongestPrefix(t *testing.T) {
	main := read(t, "main.bicep")
	p := bicepParam(t, main, "namePrefix")
	m := regexp.MustCompile(`@maxLength\((\d+)\)`).FindStringSubmatch(p.decorators)
	if m == nil {
		t.Fatal("namePrefix has no @maxLength")
	}
	maxPrefix, _ := strconv.Atoi(m[1])
	cm := regexp.MustCompile(`var compactPrefix = take\(replace\(prefix, '-', ''\), (\d+)\)`).FindStringSubmatch(main)
	if cm == nil {
		t.Fatal("compactPrefix is no longer take(replace(prefix, '-', ''), N); update this test")
	}
	compact, _ := strconv.Atoi(cm[1])
	compact = min(compact, maxPrefix)
	const suffixLen = 13 // uniqueString()
	names := objectKeys(block(t, main, `var names =`))
	expand := func(tmpl string) int {
		tmpl = strings.Trim(tmpl, "'")
		n := len(tmpl)
		for _, x := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(tmpl, -1) {
			n -= len(x[0])
			switch expr := x[1]; {
			case expr == "prefix":
				n += maxPrefix
			case expr == "suffix":
				n += suffixLen
			case expr == "compactPrefix":
				n += compact
			case strings.HasPrefix(expr, "take(compactPrefix, "):
				k, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(expr, "take(compactPrefix, "), ")"))
				if err != nil {
					t.Fatalf("cannot read %q", expr)
				}
				n += min(k, compact)
			default:
				t.Fatalf("name template %q uses %q; teach this test", tmpl, expr)
			}
		}
		return n
	}
	for _, c := range []struct {
		key string
		max int
	}{{"hostStorage", 24}, {"mediaStorage", 24}, {"keyVault", 24}} {
		tmpl, ok := names[c.key]
		if !ok {
			t.Fatalf("names.%s missing", c.key)
		}
		if n := expand(tmpl); n > c.max {
			t.Errorf("names.%s = %s is %d characters with a %d-character prefix; the limit is %d", c.key, tmpl, n, maxPrefix, c.max)
		}
	}
}

// TestServiceBusScaleRole: the scale controller reads queue length with the
// app identity, which needs Azure Service Bus Data Owner (granted by default),
// next to the send and receive roles the handler and triggers use.
func TestServiceBusScaleRole(t *testing.T) {
	sb := read(t, "modules/servicebus.bicep")
	for role, id := range map[string]string{"Data Owner": serviceBusDataOwner, "Data Sender": serviceBusDataSender, "Data Receiver": serviceBusDataReceiver} {
		if !strings.Contains(sb, "'"+id+"'") {
			t.Errorf("modules/servicebus.bicep does not assign Azure Service Bus %s (%s)", role, id)
		}
	}
	assignments := block(t, sb, `resource roleAssignments 'Microsoft.Authorization/roleAssignments@`)
	if !strings.Contains(assignments, "for roleId in roleDefinitionIds") || !strings.Contains(assignments, "scope: namespace") {
		t.Errorf("roleAssignments does not assign roleDefinitionIds on the namespace:\n%s", assignments)
	}
	if !regexp.MustCompile(`var roleDefinitionIds = grantDataOwner \? .*dataOwnerRoleId`).MatchString(sb) {
		t.Error("roleDefinitionIds does not include the Data Owner role when grantDataOwner is true")
	}
	main := read(t, "main.bicep")
	if p := bicepParam(t, main, "serviceBusGrantDataOwner"); p.def != "true" {
		t.Errorf("serviceBusGrantDataOwner defaults to %q, want true", p.def)
	}
	if !strings.Contains(block(t, main, `module serviceBus 'modules/servicebus.bicep' =`), "grantDataOwner: serviceBusGrantDataOwner") {
		t.Error("main.bicep does not pass serviceBusGrantDataOwner to the Service Bus module")
	}
}

// TestQueuesTheHandlerUsesAreCreated: every queue a function.json trigger
// listens on, through an app setting or literally, is one the Service Bus
// module creates; and the handler's default for each queue setting is the
// queue the templates create, so a setting lost on the way still matches.
func TestQueuesTheHandlerUsesAreCreated(t *testing.T) {
	main := read(t, "main.bicep")
	sbModule := block(t, main, `module serviceBus 'modules/servicebus.bicep' =`)
	var queueParams []string
	for _, line := range strings.Split(block(t, sbModule, `queueNames:`), "\n") {
		if p := strings.TrimSpace(line); p != "" {
			queueParams = append(queueParams, p)
		}
	}
	if len(queueParams) == 0 {
		t.Fatal("the serviceBus module gets no queueNames")
	}
	sb := read(t, "modules/servicebus.bicep")
	if !strings.Contains(block(t, sb, `resource queues 'Microsoft.ServiceBus/namespaces/queues@`), "for queueName in queueNames") {
		t.Fatal("modules/servicebus.bicep does not create a queue for each of queueNames")
	}
	created := map[string]string{} // queue name (default) -> param
	for _, p := range queueParams {
		created[strings.Trim(bicepParam(t, main, p).def, "'")] = p
	}

	all, _ := appSettings(t)
	settings := handlerSettings(t)
	for name, s := range settings {
		if !strings.HasSuffix(name, "_QUEUE") {
			continue
		}
		value, ok := all[name]
		if !ok {
			t.Errorf("%s is read by the handler but not set by main.bicep", name)
			continue
		}
		if !slices.Contains(queueParams, value) {
			t.Errorf("%s = %s, which is not one of the queues the Service Bus module creates (%v)", name, value, queueParams)
		}
		if p, ok := created[s.def]; !ok || p != value {
			t.Errorf("%s: the handler's default %q is not the default of %s", name, s.def, value)
		}
	}

	paths, err := filepath.Glob("../functions/*/function.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no function.json found (err %v)", err)
	}
	triggers := 0
	for _, path := range paths {
		var fn struct {
			Bindings []struct {
				Type       string `json:"type"`
				QueueName  string `json:"queueName"`
				Connection string `json:"connection"`
			} `json:"bindings"`
		}
		if err := json.Unmarshal([]byte(read(t, path)), &fn); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, b := range fn.Bindings {
			if !strings.EqualFold(b.Type, "serviceBusTrigger") {
				continue
			}
			triggers++
			if _, ok := all[b.Connection+"__fullyQualifiedNamespace"]; !ok {
				t.Errorf("%s: connection %q has no %s__fullyQualifiedNamespace app setting", path, b.Connection, b.Connection)
			}
			q := b.QueueName
			if strings.HasPrefix(q, "%") && strings.HasSuffix(q, "%") {
				setting := strings.Trim(q, "%")
				value, ok := all[setting]
				if !ok {
					t.Errorf("%s: queueName %s names app setting %s, which main.bicep does not set", path, q, setting)
					continue
				}
				if !slices.Contains(queueParams, value) {
					t.Errorf("%s: %s = %s is not a queue the Service Bus module creates", path, setting, value)
				}
				continue
			}
			if _, ok := created[q]; !ok {
				t.Errorf("%s: queue %q is not created by the Service Bus module (creates %v)", path, q, created)
			}
		}
	}
	if triggers < 3 {
		t.Errorf("found %d Service Bus triggers in functions/*/function.json, want at least 3 (imports, video-processing, mail)", triggers)
	}
}

// TestEverySettingIsSetOrDocumented: every setting the handler requires is
// set unconditionally by the templates, and every optional one is either set
// or named in infra/README.md (where its absence in Azure is explained).
func TestEverySettingIsSetOrDocumented(t *testing.T) {
	all, core := appSettings(t)
	readme := read(t, "README.md")
	for name, s := range handlerSettings(t) {
		if s.method == "required" {
			if _, ok := core[name]; !ok {
				t.Errorf("%s is required by the handler but not among main.bicep's coreSettings", name)
			}
			continue
		}
		if _, ok := all[name]; ok {
			continue
		}
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("%s is read by the handler, not set by main.bicep, and not named (as `%s`) in infra/README.md", name, name)
		}
	}
}

// TestAPIVersionsAreExplicit: every resource declaration pins an API version,
// so a deployment never changes behaviour because a provider's default moved.
func TestAPIVersionsAreExplicit(t *testing.T) {
	decl := regexp.MustCompile(`(?m)^resource (\w+) '([^']*)'`)
	versioned := regexp.MustCompile(`^[A-Za-z0-9.]+/[A-Za-z0-9/]+@\d{4}-\d{2}-\d{2}(-preview)?$`)
	total := 0
	for _, file := range bicepFiles(t) {
		for _, m := range decl.FindAllStringSubmatch(read(t, file), -1) {
			total++
			if !versioned.MatchString(m[2]) {
				t.Errorf("%s: resource %s has type %q without an explicit API version", file, m[1], m[2])
			}
		}
	}
	if total < 20 {
		t.Errorf("found only %d resource declarations; is the parser still matching?", total)
	}
}

// TestFrontendHostingChoosesWhoServesTheFrontend: frontendHosting picks the
// Static Web App with its linked backend (default) or the function app
// serving the static export itself; each choice deploys only what it uses
// and gives the handler what it needs.
func TestFrontendHostingChoosesWhoServesTheFrontend(t *testing.T) {
	main := read(t, "main.bicep")
	p := bicepParam(t, main, "frontendHosting")
	if p.def != "'staticWebApp'" {
		t.Errorf("frontendHosting defaults to %s, want 'staticWebApp'", p.def)
	}
	for _, v := range []string{"'staticWebApp'", "'functionApp'"} {
		if !strings.Contains(p.decorators, v) {
			t.Errorf("frontendHosting does not allow %s; decorators:\n%s", v, p.decorators)
		}
	}
	if !strings.Contains(main, "var useStaticWebApp = frontendHosting == 'staticWebApp'") {
		t.Fatal("main.bicep has no useStaticWebApp derived from frontendHosting")
	}
	for _, m := range []string{"module staticWebApp 'modules/staticwebapp.bicep'", "module staticWebAppBackend 'modules/staticwebapp-backend.bicep'"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m) + ` = if \(useStaticWebApp\) \{`).MatchString(main) {
			t.Errorf("%s is not deployed only with useStaticWebApp", m)
		}
	}

	// functionApp: the handler gets FRONTEND_DIR, pointing at the deploy
	// folder's www (what make package fills), and nothing else does.
	if !regexp.MustCompile(`(?m)^var frontendSettings = useStaticWebApp \? \{\} : \{`).MatchString(main) {
		t.Error("frontendSettings must be empty with the Static Web App and set otherwise")
	}
	dir := strings.Trim(objectKeys(block(t, main, `var frontendSettings =`))["FRONTEND_DIR"], "'")
	if dir != "/home/site/wwwroot/www" {
		t.Errorf("FRONTEND_DIR = %q, want the deploy folder's www (/home/site/wwwroot/www)", dir)
	}
	if !strings.Contains(read(t, "../Makefile"), "dist/deploy/www") {
		t.Error("make package does not put the export in dist/deploy/www, where FRONTEND_DIR points")
	}
	if !strings.Contains(block(t, main, `module functionApp 'modules/functionapp.bicep' =`), "frontendSettings") {
		t.Error("the function app's appSettings do not include frontendSettings")
	}

	// The origin the browser sees: FRONTEND_URL and the media account's CORS
	// follow the choice.
	if !strings.Contains(main, "var hostedOrigin = useStaticWebApp ? 'https://${staticWebApp!.outputs.defaultHostname}' : 'https://${names.functionApp}.azurewebsites.net'") {
		t.Error("hostedOrigin does not follow frontendHosting")
	}
	if !strings.Contains(main, "var frontendUrl = empty(customOrigin) ? hostedOrigin : customOrigin") {
		t.Error("FRONTEND_URL does not default to the hosted origin")
	}
	if !strings.Contains(block(t, main, `module mediaStorage 'modules/storage.bicep' =`), "union([hostedOrigin, frontendUrl]") {
		t.Error("the media account's CORS does not allow the hosted origin")
	}

	// The catch-all function gets / only when the host's placeholder page is off.
	host := objectKeys(block(t, read(t, "modules/functionapp.bicep"), `var hostSettings =`))
	if host["AzureWebJobsDisableHomepage"] != "'true'" {
		t.Errorf("AzureWebJobsDisableHomepage = %q, want 'true'", host["AzureWebJobsDisableHomepage"])
	}
}

// TestMediaToolPathsMatchThePackage: YTDLP_PATH, FFMPEG_PATH and
// FFPROBE_PATH point where `make package` puts the pinned binaries
// (dist/deploy/tools/<name>, mounted at /home/site/wwwroot), and the
// parameters file agrees with the defaults.
func TestMediaToolPathsMatchThePackage(t *testing.T) {
	main := read(t, "main.bicep")
	all, _ := appSettings(t)
	makefile := read(t, "../Makefile")
	params := read(t, "main.parameters.json")
	for _, c := range []struct{ setting, param, tool, shipped string }{
		{"YTDLP_PATH", "ytdlpPath", "yt-dlp", "dist/deploy/tools/yt-dlp"},
		{"FFMPEG_PATH", "ffmpegPath", "ffmpeg", "dist/deploy/tools/$$tool"},
		{"FFPROBE_PATH", "ffprobePath", "ffprobe", "dist/deploy/tools/$$tool"},
	} {
		if got := all[c.setting]; got != c.param {
			t.Errorf("%s = %q, want the parameter %s", c.setting, got, c.param)
		}
		want := "/home/site/wwwroot/tools/" + c.tool
		if def := strings.Trim(bicepParam(t, main, c.param).def, "'"); def != want {
			t.Errorf("%s defaults to %q, want %q", c.param, def, want)
		}
		if !strings.Contains(params, `"`+c.param+`": {`+"\n"+`      "value": "`+want+`"`) {
			t.Errorf("main.parameters.json does not set %s to %s", c.param, want)
		}
		if !strings.Contains(makefile, c.shipped) {
			t.Errorf("make package does not ship %s (%s)", c.tool, c.shipped)
		}
	}
	if !strings.Contains(makefile, "for tool in ffmpeg ffprobe") {
		t.Error("make package does not loop over ffmpeg and ffprobe")
	}
}
