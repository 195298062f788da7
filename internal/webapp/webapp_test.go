package webapp

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	storage = "http://127.0.0.1:10000"
	// Inline scripts as Next.js writes them (entities stay raw in script text).
	homeScript    = `(self.__next_f=self.__next_f||[]).push([0]);self.__next_f.push([1,"a &amp; b\u003c/x"])`
	libraryScript = "self.__next_f.push([1,\"library\"])\n"
)

// writeExport writes a small static export (the shape `next build` makes with
// trailingSlash: true) under a fresh directory, next to a file outside it.
func writeExport(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	files := map[string]string{
		"index.html":                 `<!DOCTYPE html><html><head><script src="/_next/static/chunks/app.js" async></script></head><body><div style="color:red">home</div><script>` + homeScript + `</script></body></html>`,
		"library/index.html":         `<!DOCTYPE html><html><body>library<script>` + libraryScript + `</script><script type="module" src="/_next/static/chunks/lib.js"></script></body></html>`,
		"library/index.txt":          "0:[\"rsc\"]\n",
		"404.html":                   `<!DOCTYPE html><html><body>not here<script>` + homeScript + `</script></body></html>`,
		"_next/static/chunks/app.js": "console.log('app')\n",
		"_next/static/css/app.css":   "body{color:#fff}\n",
		"favicon.ico":                "\x00\x00\x01\x00",
		"emptydir/.keep":             "",
		".env":                       "SECRET=1\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(parent, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openSite(t *testing.T, dir string) *Site {
	t.Helper()
	s, err := Open(dir, storage)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func hashOf(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func directive(t *testing.T, policy, name string) string {
	t.Helper()
	for _, d := range strings.Split(policy, "; ") {
		if d == name || strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	t.Fatalf("policy %q has no %s", policy, name)
	return ""
}

func TestPolicyHashesEveryInlineScriptAndAllowsStorage(t *testing.T) {
	s := openSite(t, writeExport(t))
	policy := s.ContentSecurityPolicy()
	script := directive(t, policy, "script-src")
	want := "script-src 'self' "
	// Sorted, each distinct hash once (the home script is in two files).
	a, b := hashOf(homeScript), hashOf(libraryScript)
	if a > b {
		a, b = b, a
	}
	if want += a + " " + b; script != want {
		t.Errorf("script-src:\n got %s\nwant %s", script, want)
	}
	for _, tt := range []struct{ name, want string }{
		{"default-src", "default-src 'self'"},
		{"style-src", "style-src 'self' 'unsafe-inline'"},
		{"img-src", "img-src 'self' data: blob: " + storage},
		{"media-src", "media-src 'self' blob: " + storage},
		{"connect-src", "connect-src 'self' " + storage},
		{"font-src", "font-src 'self'"},
		{"object-src", "object-src 'none'"},
		{"base-uri", "base-uri 'self'"},
		{"form-action", "form-action 'self'"},
		{"frame-ancestors", "frame-ancestors 'none'"},
	} {
		if got := directive(t, policy, tt.name); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	if strings.Contains(script, "unsafe") {
		t.Errorf("script-src must not allow unsafe sources: %s", script)
	}
}

func TestServeExport(t *testing.T) {
	s := openSite(t, writeExport(t))
	tests := []struct {
		name, method, path string
		status             int
		body               string // substring
		contentType        string
		cache              string
	}{
		{"home", "GET", "/", 200, "home", "text/html; charset=utf-8", "no-cache"},
		{"home file", "GET", "/index.html", 200, "home", "text/html; charset=utf-8", "no-cache"},
		{"page with slash", "GET", "/library/", 200, "library", "text/html; charset=utf-8", "no-cache"},
		{"page without slash", "GET", "/library", 200, "library", "text/html; charset=utf-8", "no-cache"},
		{"query ignored", "GET", "/library/?video=1", 200, "library", "text/html; charset=utf-8", "no-cache"},
		{"RSC payload", "GET", "/library/index.txt?_rsc=x", 200, "rsc", "text/plain; charset=utf-8", "no-cache"},
		{"hashed chunk", "GET", "/_next/static/chunks/app.js", 200, "console.log", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"stylesheet", "GET", "/_next/static/css/app.css", 200, "body{", "text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		{"favicon", "GET", "/favicon.ico", 200, "", "image/x-icon", "no-cache"},
		{"head", "HEAD", "/library/", 200, "", "text/html; charset=utf-8", "no-cache"},
		{"unknown page", "GET", "/nope/", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"unknown chunk", "GET", "/_next/static/chunks/gone.js", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"head unknown", "HEAD", "/nope", 404, "", "text/html; charset=utf-8", "no-cache"},
		{"file with slash", "GET", "/favicon.ico/", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"directory without index: no listing", "GET", "/emptydir/", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"directory of files: no listing", "GET", "/_next/static/chunks/", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"dot file", "GET", "/.env", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"dot dot", "GET", "/../secret.txt", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"dot dot inside", "GET", "/library/../../secret.txt", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"symlink out of the export", "GET", "/up/secret.txt", 404, "not here", "text/html; charset=utf-8", "no-cache"},
		{"backslashes", "GET", `/..\secret.txt`, 404, "not here", "text/html; charset=utf-8", "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://app.test/", nil)
			path, query, _ := strings.Cut(tt.path, "?")
			req.URL.Path, req.URL.RawQuery = path, query
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %q", res.StatusCode, tt.status, body)
			}
			if !strings.Contains(string(body), tt.body) || strings.Contains(string(body), "outside") || strings.Contains(string(body), "SECRET") {
				t.Errorf("body %q, want it to contain %q", body, tt.body)
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD answered a body: %q", body)
			}
			if got := res.Header.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := res.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := res.Header.Get("Content-Security-Policy"); got != s.ContentSecurityPolicy() {
				t.Errorf("Content-Security-Policy %q, want the site's", got)
			}
		})
	}
}

func TestServeRefusesOtherMethods(t *testing.T) {
	s := openSite(t, writeExport(t))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/library/", strings.NewReader("x")))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("got %d, Allow %q; want 405 with Allow: GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestServeConditionalRequest(t *testing.T) {
	s := openSite(t, writeExport(t))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	lastModified := rec.Header().Get("Last-Modified")
	if lastModified == "" {
		t.Fatal("no Last-Modified")
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-Modified-Since", lastModified)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation answered %d, want 304", rec.Code)
	}
}

func TestOpenRefuses(t *testing.T) {
	noIndex := t.TempDir()
	if _, err := Open(noIndex, storage); err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("a directory without index.html: got %v", err)
	}
	if _, err := Open(filepath.Join(noIndex, "missing"), storage); err == nil {
		t.Error("a missing directory opened")
	}
	if _, err := Open(writeExport(t), "http://127.0.0.1:10000/devstoreaccount1"); err == nil {
		t.Error("a storage URL with a path is not an origin, but was taken as one")
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:10000/devstoreaccount1/":       "http://127.0.0.1:10000",
		"https://Account.blob.core.windows.net/":         "https://account.blob.core.windows.net",
		"https://account.blob.core.windows.net/videos/x": "https://account.blob.core.windows.net",
	} {
		if got, err := Origin(in); err != nil || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://x", "account.blob.core.windows.net", "https://u:p@x/"} {
		if got, err := Origin(bad); err == nil {
			t.Errorf("Origin(%q) = %q, want an error", bad, got)
		}
	}
}

func TestStaticWebAppConfigHasTheSitePolicy(t *testing.T) {
	s := openSite(t, writeExport(t))
	headers := [][2]string{
		{"X-Content-Type-Options", "nosniff"},
		{"Content-Security-Policy", "default-src 'none'"},
		{"Strict-Transport-Security", "max-age=1"},
	}
	raw, err := s.StaticWebAppConfig(headers)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		TrailingSlash      string `json:"trailingSlash"`
		NavigationFallback struct {
			Rewrite string   `json:"rewrite"`
			Exclude []string `json:"exclude"`
		} `json:"navigationFallback"`
		ResponseOverrides map[string]struct {
			Rewrite    string `json:"rewrite"`
			StatusCode int    `json:"statusCode"`
		} `json:"responseOverrides"`
		Routes []struct {
			Route   string            `json:"route"`
			Headers map[string]string `json:"headers"`
		} `json:"routes"`
		GlobalHeaders map[string]string `json:"globalHeaders"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if got := cfg.GlobalHeaders["Content-Security-Policy"]; got != s.ContentSecurityPolicy() {
		t.Errorf("CSP %q, want the site's %q", got, s.ContentSecurityPolicy())
	}
	if cfg.GlobalHeaders["X-Content-Type-Options"] != "nosniff" || cfg.GlobalHeaders["Strict-Transport-Security"] != "max-age=1" {
		t.Errorf("security headers missing: %v", cfg.GlobalHeaders)
	}
	if _, ok := cfg.GlobalHeaders["Cache-Control"]; ok {
		t.Error("a global Cache-Control would also reach /api responses through the linked backend")
	}
	if cfg.TrailingSlash != "auto" || cfg.NavigationFallback.Rewrite != "/404.html" {
		t.Errorf("trailingSlash %q, fallback %q", cfg.TrailingSlash, cfg.NavigationFallback.Rewrite)
	}
	for _, ex := range []string{"/_next/*", "/api/*"} {
		if !strings.Contains(strings.Join(cfg.NavigationFallback.Exclude, " "), ex) {
			t.Errorf("fallback does not exclude %s: %v", ex, cfg.NavigationFallback.Exclude)
		}
	}
	if o := cfg.ResponseOverrides["404"]; o.Rewrite != "/404.html" || o.StatusCode != 404 {
		t.Errorf("404 override %+v", o)
	}
	if len(cfg.Routes) != 1 || cfg.Routes[0].Route != "/_next/static/*" || cfg.Routes[0].Headers["Cache-Control"] != "public, max-age=31536000, immutable" {
		t.Errorf("routes %+v", cfg.Routes)
	}
}

func TestServeCompressesTextForClientsThatAcceptGzip(t *testing.T) {
	dir := writeExport(t)
	big := strings.Repeat("console.log('a fairly repetitive chunk');\n", 200)
	if err := os.WriteFile(filepath.Join(dir, "_next/static/chunks/big.js"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSite(t, dir)
	for _, tt := range []struct {
		name, method, acceptEncoding string
		gzipped                      bool
	}{
		{"browser", "GET", "gzip, deflate, br, zstd", true},
		{"again, from the cache", "GET", "gzip, deflate, br, zstd", true},
		{"head", "HEAD", "gzip", true},
		{"star", "GET", "br;q=1, *;q=0.5", true},
		{"no header", "GET", "", false},
		{"gzip refused", "GET", "gzip;q=0, *", false},
		{"other codings only", "GET", "br, zstd", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/_next/static/chunks/big.js", nil)
			if tt.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tt.acceptEncoding)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			res := rec.Result()
			if res.StatusCode != 200 || res.Header.Get("Vary") != "Accept-Encoding" || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
				t.Fatalf("status %d, Vary %q, Content-Type %q", res.StatusCode, res.Header.Get("Vary"), res.Header.Get("Content-Type"))
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tt.gzipped {
				t.Fatalf("Content-Encoding %q, want gzip %v", res.Header.Get("Content-Encoding"), tt.gzipped)
			}
			body := rec.Body.Bytes()
			if tt.method == "HEAD" {
				if len(body) != 0 || res.Header.Get("Content-Length") == fmt.Sprint(len(big)) {
					t.Errorf("HEAD: body %d bytes, Content-Length %s (the uncompressed size is %d)", len(body), res.Header.Get("Content-Length"), len(big))
				}
				return
			}
			if tt.gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
				if rec.Body.Len() >= len(big)/4 {
					t.Errorf("compressed to %d of %d bytes", rec.Body.Len(), len(big))
				}
			}
			if string(body) != big {
				t.Errorf("body differs from the file (%d bytes, want %d)", len(body), len(big))
			}
		})
	}
	// Binary files and tiny ones are sent as they are.
	req := httptest.NewRequest("GET", "/favicon.ico", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "" || rec.Header().Get("Vary") != "" {
		t.Errorf("favicon: Content-Encoding %q, Vary %q", rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"))
	}
}
