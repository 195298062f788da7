package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exportScript = `self.__next_f.push([1,"home"])`

// writeExport writes a minimal static export (next build, trailingSlash:
// true) and a file next to it that must never be served.
func writeExport(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	for name, body := range map[string]string{
		"index.html":                 `<!DOCTYPE html><html><body>home<script>` + exportScript + `</script></body></html>`,
		"library/index.html":         `<!DOCTYPE html><html><body>library</body></html>`,
		"404.html":                   `<!DOCTYPE html><html><body>page not found</body></html>`,
		"_next/static/chunks/app.js": "console.log(1)\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("outside the export"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func sha256Base64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// blobOrigin is the origin of the connection string's blob endpoint.
func blobOrigin(t *testing.T, connectionString string) string {
	t.Helper()
	for _, part := range strings.Split(connectionString, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(k, "BlobEndpoint") {
			u, err := url.Parse(v)
			if err != nil {
				t.Fatal(err)
			}
			return u.Scheme + "://" + u.Host
		}
	}
	t.Fatal("no BlobEndpoint in the storage connection string")
	return ""
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// rawGet sends path as it is (no client-side cleaning) and returns the
// status line and the whole response.
func rawGet(t *testing.T, base, path string) string {
	t.Helper()
	u, _ := url.Parse(base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, u.Host)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.Status + "\n" + string(b)
}

// TestServeFrontendExport runs the handler as the function app runs it with
// FRONTEND_DIR: the export's pages with the page policy and the API's
// security headers, its 404 page, and /api untouched.
func TestServeFrontendExport(t *testing.T) {
	env := testEnv(t)
	dir := writeExport(t)
	env["FRONTEND_DIR"] = dir
	h := start(t, env)
	origin := blobOrigin(t, env["AZURE_STORAGE_CONNECTION_STRING"])

	res, body := get(t, "GET", h.URL+"/")
	if res.StatusCode != 200 || !strings.Contains(body, "home") {
		t.Fatalf("GET / = %d %q", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	sum := sha256Base64(exportScript)
	for _, want := range []string{"script-src 'self' 'sha256-" + sum + "';", "connect-src 'self' " + origin + ";", "media-src 'self' blob: " + origin + ";", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("page CSP %q lacks %q", csp, want)
		}
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "no-cache",
		"Content-Type":                 "text/html; charset=utf-8",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("GET /: %s %q, want %q", name, got, want)
		}
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Error("GET /: no X-Request-ID")
	}

	for _, tt := range []struct {
		method, path string
		status       int
		body, ctype  string
	}{
		{"GET", "/library/", 200, "library", "text/html; charset=utf-8"},
		{"GET", "/library", 200, "library", "text/html; charset=utf-8"},
		{"HEAD", "/library/", 200, "", "text/html; charset=utf-8"},
		{"GET", "/_next/static/chunks/app.js", 200, "console.log", "text/javascript; charset=utf-8"},
		{"GET", "/nowhere/", 404, "page not found", "text/html; charset=utf-8"},
		{"GET", "/import-worker", 404, "page not found", "text/html; charset=utf-8"},
		{"GET", "/api/nowhere", 404, `"not_found"`, "application/json"},
		{"GET", "/api", 404, `"not_found"`, "application/json"},
		{"POST", "/library/", 404, `"not_found"`, "application/json"},
		{"GET", "/api/openapi.json", 200, `"openapi"`, "application/json"},
	} {
		res, body := get(t, tt.method, h.URL+tt.path)
		if res.StatusCode != tt.status || !strings.Contains(body, tt.body) || !strings.HasPrefix(res.Header.Get("Content-Type"), tt.ctype) {
			t.Errorf("%s %s = %d %q (%s); want %d with %q (%s)", tt.method, tt.path, res.StatusCode, body, res.Header.Get("Content-Type"), tt.status, tt.body, tt.ctype)
		}
		apiCSP := "default-src 'none'; frame-ancestors 'none'"
		if strings.HasPrefix(tt.path, "/api") || tt.method == "POST" {
			if got := res.Header.Get("Content-Security-Policy"); got != apiCSP {
				t.Errorf("%s %s: CSP %q, want the API's", tt.method, tt.path, got)
			}
		} else if got := res.Header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("%s %s: CSP %q, want the page policy", tt.method, tt.path, got)
		}
	}
	if res, _ := get(t, "GET", h.URL+"/_next/static/chunks/app.js"); res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("hashed chunk Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	for _, path := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/library/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"} {
		if got := rawGet(t, h.URL, path); strings.Contains(got, "outside the export") || strings.HasPrefix(got, "200") {
			t.Errorf("GET %s escaped the export:\n%s", path, got)
		}
	}

	// The Static Web Apps configuration for the same export carries the
	// policy the handler serves.
	if err := run(context.Background(), []string{"handler", "swa-config", "--dir", dir, "--storage-origin", origin}, func(string) string { return "" }, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "staticwebapp.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var swa struct {
		GlobalHeaders map[string]string `json:"globalHeaders"`
	}
	if err := json.Unmarshal(raw, &swa); err != nil {
		t.Fatal(err)
	}
	if got := swa.GlobalHeaders["Content-Security-Policy"]; got != csp {
		t.Errorf("staticwebapp.config.json CSP\n %q\nthe handler serves\n %q", got, csp)
	}
	for _, name := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Resource-Policy"} {
		if got := swa.GlobalHeaders[name]; got != res.Header.Get(name) {
			t.Errorf("staticwebapp.config.json %s %q, the handler serves %q", name, got, res.Header.Get(name))
		}
	}
	if swa.GlobalHeaders["Strict-Transport-Security"] == "" {
		t.Error("staticwebapp.config.json: no HSTS (Static Web Apps is HTTPS only)")
	}
}

// TestWithoutFrontendPagesAre404JSON: without FRONTEND_DIR every path
// outside the API answers like an unknown API route.
func TestWithoutFrontendPagesAre404JSON(t *testing.T) {
	h := start(t, testEnv(t))
	res, body := get(t, "GET", h.URL+"/library/")
	if res.StatusCode != 404 || !strings.Contains(body, `"not_found"`) {
		t.Errorf("GET /library/ = %d %q, want 404 not_found", res.StatusCode, body)
	}
	if res, body := get(t, "GET", h.URL+"/"); res.StatusCode != 200 || body != "ok\n" {
		t.Errorf("GET / = %d %q, want the readiness answer", res.StatusCode, body)
	}
}

func TestSWAConfigRejectsBadArguments(t *testing.T) {
	dir := writeExport(t)
	for _, args := range [][]string{
		{"--dir", dir},
		{"--storage-origin", "https://a.blob.core.windows.net"},
		{"--dir", dir, "--storage-origin", "not a url"},
		{"--dir", t.TempDir(), "--storage-origin", "https://a.blob.core.windows.net"},
		{"--dir", dir, "--storage-origin", "https://a.blob.core.windows.net", "extra"},
	} {
		err := run(context.Background(), append([]string{"handler", "swa-config"}, args...), func(string) string { return "" }, io.Discard)
		if err == nil {
			t.Errorf("swa-config %q succeeded", args)
		}
	}
}
