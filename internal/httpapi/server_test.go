package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/apitest"
	"github.com/videofn/videofn/internal/httpapi"
)

type noJobs struct{}

func (noJobs) HandleMessage(context.Context, httpapi.QueueMessage, httpapi.Delivery) error {
	return nil
}
func (noJobs) Sweep(context.Context, time.Time) (string, error) { return "", nil }

func newTestServer(t *testing.T, o httpapi.Options) *httptest.Server {
	t.Helper()
	o.ImportWorker, o.VideoProcessor, o.Sweeper = noJobs{}, noJobs{}, noJobs{}
	ts := httptest.NewServer(httpapi.NewServer(o))
	t.Cleanup(ts.Close)
	return ts
}

func TestHealth(t *testing.T) {
	ok := httpapi.PingFunc(func(context.Context) error { return nil })
	down := httpapi.PingFunc(func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: connection refused") })
	hangs := httpapi.PingFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	v := apitest.New(t)
	tests := []struct {
		name       string
		checks     map[string]httpapi.Pinger
		wantStatus int
		wantBody   string
		wantFailed []string
		notices    map[string]httpapi.Notice
	}{
		{"all up", map[string]httpapi.Pinger{"postgres": ok, "redis": ok, "storage": ok}, 200, "ok", nil, map[string]httpapi.Notice{"sandbox": {OK: true, Detail: "full"}}},
		{"postgres down", map[string]httpapi.Pinger{"postgres": down, "redis": ok, "storage": ok}, 503, "unavailable", []string{"postgres"}, nil},
		{"redis hangs", map[string]httpapi.Pinger{"postgres": ok, "redis": hangs, "storage": ok}, 503, "unavailable", []string{"redis"}, nil},
		// A degraded sandbox is visible but is not an outage.
		{"sandbox degraded", map[string]httpapi.Pinger{"postgres": ok}, 200, "ok", nil, map[string]httpapi.Notice{"sandbox": {OK: false, Detail: "none"}}},
		{"sandbox degraded and postgres down", map[string]httpapi.Pinger{"postgres": down}, 503, "unavailable", []string{"postgres"}, map[string]httpapi.Notice{"sandbox": {OK: false, Detail: "none"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, httpapi.Options{Checks: tt.checks, Notices: tt.notices})
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/health", nil)
			resp, body := v.Do(t, ts.Client(), req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var got struct {
				Status string
				Checks map[string]struct{ Status, Error, Detail string }
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantBody || len(got.Checks) != len(tt.checks)+len(tt.notices) {
				t.Errorf("got %s", body)
			}
			for name, n := range tt.notices {
				want := map[bool]string{true: "ok", false: "degraded"}[n.OK]
				if c := got.Checks[name]; c.Status != want || c.Detail != n.Detail {
					t.Errorf("notice %s: got %+v, want %s with detail %q", name, c, want, n.Detail)
				}
			}
			for _, name := range tt.wantFailed {
				if got.Checks[name].Status != "error" {
					t.Errorf("check %s: got %+v, want error", name, got.Checks[name])
				}
			}
			if strings.Contains(string(body), "10.0.0.5") {
				t.Errorf("internal detail leaked: %s", body)
			}
		})
	}
}

func TestReadinessAndUnknownRoutes(t *testing.T) {
	ts := newTestServer(t, httpapi.Options{})
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /: %d", resp.StatusCode)
	}
	resp, err = http.Get(ts.URL + "/api/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error struct{ Code string } }
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != 404 || e.Error.Code != "not_found" {
		t.Errorf("unknown route: %d %+v", resp.StatusCode, e)
	}
}

func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t, httpapi.Options{})
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/openapi.json", nil)
	resp, body := apitest.New(t).Do(t, ts.Client(), req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.0") || doc.Paths["/api/health"] == nil {
		t.Errorf("not the spec: %v %.200s", err, body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, secure := range []bool{true, false} {
		ts := newTestServer(t, httpapi.Options{CookieSecure: secure})
		resp, err := http.Get(ts.URL + "/api/nope")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Cache-Control":           "no-store",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("secure=%v %s: got %q, want %q", secure, k, got, v)
			}
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); (hsts != "") != secure {
			t.Errorf("secure=%v: HSTS %q", secure, hsts)
		}
		if resp.Header.Get("X-Request-ID") == "" {
			t.Error("no X-Request-ID")
		}
	}
}

func TestRequestIDIsKeptOnlyWhenWellFormed(t *testing.T) {
	ts := newTestServer(t, httpapi.Options{})
	for id, kept := range map[string]bool{"abc-123": true, "bad id\twith tab": false, strings.Repeat("x", 200): false} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
		req.Header.Set("X-Request-ID", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Request-ID"); (got == id) != kept || got == "" {
			t.Errorf("id %.20q: echoed %.20q", id, got)
		}
	}
}

func TestCORS(t *testing.T) {
	const allowed = "https://admin.example.com"
	ts := newTestServer(t, httpapi.Options{AllowedOrigins: []string{allowed}})
	tests := []struct {
		name, origin, method string
		wantAllow            string
		wantStatus           int
	}{
		{"allowed origin", allowed, http.MethodGet, allowed, 404},
		{"other origin", "https://evil.example.com", http.MethodGet, "", 404},
		{"preflight from allowed origin", allowed, http.MethodOptions, allowed, 204},
		{"preflight from other origin", "https://evil.example.com", http.MethodOptions, "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+"/api/nope", nil)
			req.Header.Set("Origin", tt.origin)
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Allow-Origin %q, want %q", got, tt.wantAllow)
			}
			if tt.wantAllow != "" && resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("credentials not allowed")
			}
		})
	}
}

// With secure cookies, net/http's own error replies also carry HSTS (the
// handler binary's test covers the other headers and every kind of reply).
func TestServerLevelErrorsGetHSTSWhenSecure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httpapi.NewServer(httpapi.Options{CookieSecure: true})}
	go srv.Serve(httpapi.ListenerWithSecurityHeaders(ln, true))
	t.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Strict-Transport-Security") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%d %v", resp.StatusCode, resp.Header)
	}
}
