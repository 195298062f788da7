package infra_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBlobContainerTheHandlerUsesIsCreated: the container BLOB_CONTAINER
// names (in the settings and as the handler's default) is one the media
// storage account's module creates.
func TestBlobContainerTheHandlerUsesIsCreated(t *testing.T) {
	main := read(t, "main.bicep")
	all, _ := appSettings(t)
	value, ok := all["BLOB_CONTAINER"]
	if !ok {
		t.Fatal("BLOB_CONTAINER is not set by main.bicep")
	}
	media := block(t, main, `module mediaStorage 'modules/storage.bicep' =`)
	var created []string
	for _, line := range strings.Split(block(t, media, `containerNames:`), "\n") {
		if p := strings.TrimSpace(line); p != "" {
			created = append(created, p)
		}
	}
	if !slices.Contains(created, value) {
		t.Errorf("BLOB_CONTAINER = %s, which the media storage module does not create (%v)", value, created)
	}
	s, ok := handlerSettings(t)["BLOB_CONTAINER"]
	if !ok {
		t.Fatal("the handler does not read BLOB_CONTAINER")
	}
	if got := strings.Trim(bicepParam(t, main, value).def, "'"); got != s.def {
		t.Errorf("the default of %s is %q, the handler's default of BLOB_CONTAINER is %q", value, got, s.def)
	}
}

// TestAzdWrapperMatchesMain: infra/azd/main.bicep (azure.yaml's entry point)
// passes only parameters main.bicep declares, its parameters file fills only
// parameters it declares, and it outputs every value the azd hooks read.
func TestAzdWrapperMatchesMain(t *testing.T) {
	main := read(t, "main.bicep")
	wrapper := read(t, "azd/main.bicep")

	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^param (\w+) `).FindAllStringSubmatch(wrapper, -1) {
		declared[m[1]] = true
	}
	body := block(t, block(t, wrapper, `module app '../main.bicep' =`), `params:`)
	params := objectKeys(strings.ReplaceAll(body, "\n    ", "\n  "))
	if len(params) < 10 {
		t.Fatalf("found %d parameters passed to main.bicep; is the parser still matching?", len(params))
	}
	for name := range params {
		bicepParam(t, main, name) // fails the test when main.bicep lacks it
	}
	for _, m := range regexp.MustCompile(`(?m)^    (\w+): (\w+)$`).FindAllStringSubmatch(body, -1) {
		if m[2] != "true" && m[2] != "false" && !declared[m[2]] {
			t.Errorf("azd/main.bicep passes %s: %s, which it does not declare", m[1], m[2])
		}
	}

	var file struct {
		Parameters map[string]json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(read(t, "azd/main.parameters.json")), &file); err != nil {
		t.Fatalf("azd/main.parameters.json: %v", err)
	}
	for name := range file.Parameters {
		if !declared[name] {
			t.Errorf("azd/main.parameters.json sets %s, which azd/main.bicep does not declare", name)
		}
	}

	outputs := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^output (\w+) string = app\.outputs\.(\w+)$`).FindAllStringSubmatch(wrapper, -1) {
		outputs[m[1]] = true
		if !regexp.MustCompile(`(?m)^output ` + m[2] + ` `).MatchString(main) {
			t.Errorf("azd/main.bicep re-exports %s, which main.bicep does not output", m[2])
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^output (\w+) `).FindAllStringSubmatch(wrapper, -1) {
		outputs[m[1]] = true
	}
	deploy := read(t, "azd/hooks/deploy.sh")
	reads := regexp.MustCompile(`\boutput ([A-Z_]+)\)`).FindAllStringSubmatch(deploy, -1)
	if len(reads) < 4 {
		t.Fatalf("found %d outputs read by infra/azd/hooks/deploy.sh; is the parser still matching?", len(reads))
	}
	for _, m := range reads {
		if !outputs[m[1]] {
			t.Errorf("infra/azd/hooks/deploy.sh reads %s, which infra/azd/main.bicep does not output", m[1])
		}
	}

	yaml := read(t, "../azure.yaml")
	for _, want := range []string{"path: infra/azd", "module: main", "run: infra/azd/hooks/deploy.sh", "run: infra/azd/hooks/preprovision.sh"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("azure.yaml does not contain %q", want)
		}
	}
}

// TestAzdDeployHook runs infra/azd/hooks/deploy.sh in a copy of its folder
// layout with every tool it calls (azd, npm, make, func, az, npx and
// bin/handler) replaced by a stub that records its arguments, for both
// frontend hostings: the function app is published from dist/deploy with
// --custom, and only staticWebApp writes staticwebapp.config.json for the
// storage output and deploys the export with the Static Web App's token.
func TestAzdDeployHook(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatalf("the deploy hook is a sh script: %v", err)
	}
	for _, hosting := range []string{"staticWebApp", "functionApp"} {
		t.Run(hosting, func(t *testing.T) {
			root := t.TempDir()
			for _, dir := range []string{"infra/azd/hooks", "stubs", "bin"} {
				if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			script := read(t, "azd/hooks/deploy.sh")
			if err := os.WriteFile(filepath.Join(root, "infra/azd/hooks/deploy.sh"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			calls := filepath.Join(root, "calls.log")
			// Each stub logs "<tool> <cwd relative to root> <args>".
			stub := func(path, extra string) {
				body := "#!/bin/sh\necho \"$(basename \"$0\") ${PWD#" + root + "} $*\" >> " + calls + "\n" + extra
				if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{
				"FUNCTION_APP_NAME":    "func-videofn-abc",
				"FRONTEND_HOSTING":     hosting,
				"STORAGE_ACCOUNT_URL":  "https://stvideofnabc.blob.core.windows.net/",
				"STATIC_WEB_APP_NAME":  "swa-videofn-abc",
				"AZURE_RESOURCE_GROUP": "rg-videofn",
				"FRONTEND_URL":         "https://videofn.example",
			}
			var azd strings.Builder
			azd.WriteString("case \"$3\" in\n")
			for k, v := range env {
				azd.WriteString("  " + k + ") printf '%s\\n' '" + v + "';;\n")
			}
			azd.WriteString("  *) exit 1;;\nesac\n")
			stub(filepath.Join(root, "stubs/azd"), azd.String())
			stub(filepath.Join(root, "stubs/npm"), "")
			stub(filepath.Join(root, "stubs/make"), "mkdir -p dist/deploy\n")
			stub(filepath.Join(root, "stubs/func"), "")
			stub(filepath.Join(root, "stubs/az"), "echo deployment-token\n")
			stub(filepath.Join(root, "stubs/npx"), "")
			stub(filepath.Join(root, "bin/handler"), "")

			cmd := exec.Command("sh", filepath.Join(root, "infra/azd/hooks/deploy.sh"))
			cmd.Env = append(os.Environ(), "PATH="+filepath.Join(root, "stubs")+":"+os.Getenv("PATH"), "YTDLP_BINARY=/opt/yt-dlp")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("deploy.sh: %v\n%s", err, out)
			}
			got := read(t, calls)
			want := []string{
				"npm  --prefix frontend ci",
				"npm  --prefix frontend run build",
				"make  package YTDLP_BINARY=/opt/yt-dlp FFMPEG_BINARY= FFPROBE_BINARY=",
				"func /dist/deploy azure functionapp publish func-videofn-abc --custom",
			}
			swa := []string{
				"handler  swa-config --dir frontend/out --storage-origin https://stvideofnabc.blob.core.windows.net/",
				"az  staticwebapp secrets list --name swa-videofn-abc --resource-group rg-videofn --query properties.apiKey -o tsv",
				"deploy ./frontend/out --deployment-token deployment-token --env production",
			}
			if hosting == "staticWebApp" {
				want = append(want, swa...)
			}
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("deploy.sh did not run %q; it ran:\n%s", w, got)
				}
			}
			if hosting == "functionApp" {
				for _, w := range swa {
					if strings.Contains(got, w) {
						t.Errorf("with functionApp, deploy.sh ran %q", w)
					}
				}
			}
			// The export is built before make package copies it into the package.
			if strings.Index(got, "run build") > strings.Index(got, "make  package") {
				t.Errorf("deploy.sh packages before building the frontend:\n%s", got)
			}
		})
	}
}
