package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawExchange writes req on a fresh connection to the handler and parses
// the reply. Writing goes on in the background: the server may answer (and
// stop reading) before the whole request is sent.
func rawExchange(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second)) // a hung server fails the test instead of hanging it
	go io.Copy(conn, strings.NewReader(req))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	resp.Body.Close()
	return resp
}

// TestServerLevelErrorsCarrySecurityHeaders: the replies net/http writes
// itself, before any handler runs (431 for oversized headers, 400 for a
// malformed request, 501 for an unknown transfer coding, 505, 417), carry
// the same security headers as every API response.
func TestServerLevelErrorsCarrySecurityHeaders(t *testing.T) {
	h := start(t, testEnv(t))
	addr := strings.TrimPrefix(h.URL, "http://")
	tests := []struct {
		name string
		req  string
		want int
	}{
		{"header too large", "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1<<20+8<<10) + "\r\n\r\n", 431},
		{"two Host headers", "GET /api/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"malformed request line", "GET\r\n\r\n", 400},
		{"unsupported transfer coding", "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"unsupported protocol version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"unknown expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n", 417},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawExchange(t, addr, tt.req)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			for k, v := range map[string]string{
				"X-Content-Type-Options":       "nosniff",
				"X-Frame-Options":              "DENY",
				"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
				"Referrer-Policy":              "no-referrer",
				"Cross-Origin-Resource-Policy": "same-origin",
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q (headers %v)", k, got, v, resp.Header)
				}
			}
		})
	}
	// A normal request on the same listener is untouched (one of each header).
	resp := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 200 || len(resp.Header.Values("X-Content-Type-Options")) != 1 {
		t.Errorf("GET /: %d, headers %v", resp.StatusCode, resp.Header)
	}
}
