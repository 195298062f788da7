package httpapi

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// functionBinding is the part of a function.json binding the tests read.
type functionBinding struct {
	Type       string   `json:"type"`
	Direction  string   `json:"direction"`
	Name       string   `json:"name"`
	Methods    []string `json:"methods"`
	Route      string   `json:"route"`
	AuthLevel  string   `json:"authLevel"`
	QueueName  string   `json:"queueName"`
	Connection string   `json:"connection"`
	DataType   string   `json:"dataType"`
	Schedule   string   `json:"schedule"`
}

type function struct {
	Name     string
	Bindings []functionBinding `json:"bindings"`
}

func loadFunctions(t *testing.T) []function {
	t.Helper()
	paths, err := filepath.Glob("../../functions/*/function.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no function.json found: %v", err)
	}
	var fns []function
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var fn function
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		if err := dec.Decode(&fn); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fn.Name = filepath.Base(filepath.Dir(p))
		fns = append(fns, fn)
	}
	return fns
}

// frontendFunction is the catch-all HTTP function that forwards every other
// path (the static export, Options.Frontend); host.json's empty routePrefix
// lets it receive / too. The host prefers literal routes to it.
const frontendFunction = "frontend"

// patternsOf returns the ServeMux patterns a function forwards to: one per
// method for HTTP functions, "POST /<name>" for the others, none for the
// frontend's catch-all (routes.go's fallback serves it).
func patternsOf(t *testing.T, fn function) []string {
	t.Helper()
	trigger := fn.Bindings[0]
	if trigger.Type != "httpTrigger" {
		return []string{"POST /" + fn.Name}
	}
	if fn.Name == frontendFunction {
		return nil
	}
	var out []string
	for _, m := range trigger.Methods {
		out = append(out, strings.ToUpper(m)+" /"+trigger.Route)
	}
	return out
}

func serverPatterns() []string {
	s := NewServer(Options{})
	var out []string
	for _, rt := range s.routes() {
		if rt.pattern == "GET /{$}" {
			continue // the host's readiness probe, not a function
		}
		out = append(out, rt.pattern)
	}
	return out
}

// TestEveryRouteHasAFunctionAndBack proves that the host can reach every
// route, and that every function forwards to a route that exists.
func TestEveryRouteHasAFunctionAndBack(t *testing.T) {
	routes := serverPatterns()
	forwarded := map[string]string{}
	for _, fn := range loadFunctions(t) {
		for _, p := range patternsOf(t, fn) {
			if other, dup := forwarded[p]; dup {
				t.Errorf("%s is forwarded by both %s and %s", p, other, fn.Name)
			}
			forwarded[p] = fn.Name
			if !slices.Contains(routes, p) {
				t.Errorf("function %s forwards to %q, which routes.go does not serve", fn.Name, p)
			}
		}
	}
	for _, r := range routes {
		if _, ok := forwarded[r]; !ok {
			t.Errorf("route %q has no function in functions/", r)
		}
	}
}

// TestFunctionBindings checks each function.json against the host's
// contract (ARCHITECTURE.md, API.md).
func TestFunctionBindings(t *testing.T) {
	validName := regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	for _, fn := range loadFunctions(t) {
		t.Run(fn.Name, func(t *testing.T) {
			if !validName.MatchString(fn.Name) {
				t.Errorf("folder name %q: use lowercase letters, digits and hyphens", fn.Name)
			}
			if len(fn.Bindings) == 0 {
				t.Fatal("no bindings")
			}
			trig := fn.Bindings[0]
			switch trig.Type {
			case "httpTrigger":
				if len(fn.Bindings) != 2 || fn.Bindings[1].Type != "http" || fn.Bindings[1].Direction != "out" {
					t.Errorf("HTTP functions have exactly httpTrigger + http out; got %+v", fn.Bindings)
				}
				if trig.AuthLevel != "anonymous" {
					t.Errorf("authLevel %q: the handler authenticates itself; use anonymous", trig.AuthLevel)
				}
				switch {
				case fn.Name == frontendFunction:
					if trig.Route != "{*path}" || !slices.Equal(trig.Methods, []string{"get", "head"}) {
						t.Errorf("the frontend function catches every path for GET and HEAD; got route %q, methods %v", trig.Route, trig.Methods)
					}
				case strings.Contains(trig.Route, "{*"):
					t.Errorf("route %q: only the frontend function may catch all paths", trig.Route)
				case !strings.HasPrefix(trig.Route, "api/"):
					// host.json's routePrefix is empty (for the frontend).
					t.Errorf("route %q must start with api/", trig.Route)
				}
				if len(trig.Methods) == 0 {
					t.Error("methods must be listed")
				}
			case "serviceBusTrigger":
				if len(fn.Bindings) != 1 {
					t.Errorf("queue functions have only their trigger; got %d bindings", len(fn.Bindings))
				}
				want := map[string]string{"import-worker": "%IMPORT_QUEUE%", "video-processor": "%PROCESSING_QUEUE%", "mail-sender": "%MAIL_QUEUE%",
					"publish-worker": "%PUBLISH_QUEUE%"}[fn.Name]
				if trig.QueueName != want {
					t.Errorf("queueName %q, want %q", trig.QueueName, want)
				}
				if trig.Connection != "ServiceBusConnection" || trig.DataType != "binary" || trig.Name != messageBinding || trig.Direction != "in" {
					t.Errorf("got %+v; want name %q, connection ServiceBusConnection, dataType binary", trig, messageBinding)
				}
			case "timerTrigger":
				if trig.Name != timerBinding || trig.Schedule == "" {
					t.Errorf("timer trigger must be named %q with a schedule; got %+v", timerBinding, trig)
				}
			default:
				t.Errorf("unexpected trigger type %q", trig.Type)
			}
		})
	}
}

// TestOpenAPIMatchesRoutes fails when a route in routes.go is missing from
// openapi.yaml or the spec names a route that does not exist.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPIYAML())
	if err == nil {
		err = doc.Validate(loader.Context)
	}
	if err != nil {
		t.Fatal(err)
	}
	var inSpec []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inSpec = append(inSpec, method+" "+path)
		}
	}
	var inCode []string
	for _, p := range serverPatterns() {
		if strings.Contains(p, " /api/") {
			inCode = append(inCode, p)
		}
	}
	sort.Strings(inSpec)
	sort.Strings(inCode)
	for _, p := range inCode {
		if !slices.Contains(inSpec, p) {
			t.Errorf("route %q is missing from openapi.yaml", p)
		}
	}
	for _, p := range inSpec {
		if !slices.Contains(inCode, p) {
			t.Errorf("openapi.yaml describes %q, which routes.go does not serve", p)
		}
	}
}

func TestHostJSON(t *testing.T) {
	raw, err := os.ReadFile("../../host.json")
	if err != nil {
		t.Fatal(err)
	}
	var host struct {
		Version         string `json:"version"`
		FunctionTimeout string `json:"functionTimeout"`
		ExtensionBundle struct {
			ID      string `json:"id"`
			Version string `json:"version"`
		} `json:"extensionBundle"`
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
			EnableForwardingHttpRequest bool `json:"enableForwardingHttpRequest"`
		} `json:"customHandler"`
		Extensions struct {
			HTTP struct {
				RoutePrefix string `json:"routePrefix"`
			} `json:"http"`
			ServiceBus struct {
				MaxConcurrentCalls         int    `json:"maxConcurrentCalls"`
				MaxAutoLockRenewalDuration string `json:"maxAutoLockRenewalDuration"`
				AutoCompleteMessages       *bool  `json:"autoCompleteMessages"`
			} `json:"serviceBus"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &host); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", host.Version, "2.0"},
		{"bundle id", host.ExtensionBundle.ID, "Microsoft.Azure.Functions.ExtensionBundle"},
		{"bundle version", host.ExtensionBundle.Version, "[4.*, 5.0.0)"},
		{"executable", host.CustomHandler.Description.DefaultExecutablePath, "handler"},
		{"forwarding", host.CustomHandler.EnableForwardingHttpRequest, true},
		// Empty, so the frontend function also gets / and the pages; every
		// API function's route starts with api/ itself.
		{"route prefix", host.Extensions.HTTP.RoutePrefix, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if host.Extensions.ServiceBus.MaxConcurrentCalls < 1 {
		t.Error("serviceBus.maxConcurrentCalls must be set")
	}
	if a := host.Extensions.ServiceBus.AutoCompleteMessages; a == nil || !*a {
		t.Error("serviceBus.autoCompleteMessages must be true: a 2xx reply completes the message")
	}
	timeout := parseTimeSpan(t, host.FunctionTimeout)
	renewal := parseTimeSpan(t, host.Extensions.ServiceBus.MaxAutoLockRenewalDuration)
	if renewal < timeout {
		t.Errorf("maxAutoLockRenewalDuration %v is shorter than functionTimeout %v: a long import would lose its lock and run twice", renewal, timeout)
	}
}

// parseTimeSpan parses the hh:mm:ss form host.json uses.
func parseTimeSpan(t *testing.T, s string) time.Duration {
	t.Helper()
	var h, m, sec int
	if _, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); err != nil {
		t.Fatalf("time span %q: %v", s, err)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
}
