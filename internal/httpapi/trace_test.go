package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	hostTrace    = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	messageTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

func TestParseTraceparent(t *testing.T) {
	for in, want := range map[string]string{
		hostTrace:        hostTrace,
		" " + hostTrace:  hostTrace,
		hostTrace + "-x": "", // version 00 has exactly four fields
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future": "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"00-00000000000000000000000000000000-b7ad6b7169203331-01":        "",
		"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01":        "",
		"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01":        "",
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01":        "",
		"":                   "",
		"garbage\n{\"x\":1}": "",
	} {
		if got := parseTraceparent(in); got != want {
			t.Errorf("parseTraceparent(%q) = %q, want %q", in, got, want)
		}
	}
}

// logLines runs one request through the request id and logging middleware
// around inner and returns the JSON log lines.
func logLines(t *testing.T, req *http.Request, inner http.Handler) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	withRequestID(withLogging(logger, inner)).ServeHTTP(httptest.NewRecorder(), req)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestRequestLogCarriesInvocationIDAndTraceparent(t *testing.T) {
	req := httptest.NewRequest("GET", "/api/videos", nil)
	req.Header.Set("traceparent", hostTrace)
	req.Header.Set(invocationIDHeader, "5f0c8c43-7e8c-4bd4-9d1a-0c0a3bba1e6f")
	lines := logLines(t, req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if len(lines) != 1 || lines[0]["traceparent"] != hostTrace || lines[0]["invocation_id"] != "5f0c8c43-7e8c-4bd4-9d1a-0c0a3bba1e6f" || lines[0]["request_id"] == "" {
		t.Errorf("log lines %v", lines)
	}

	// Malformed values are left out rather than logged.
	req = httptest.NewRequest("GET", "/api/videos", nil)
	req.Header.Set("traceparent", "nonsense")
	req.Header.Set(invocationIDHeader, "bad id with spaces")
	lines = logLines(t, req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if _, ok := lines[0]["traceparent"]; ok {
		t.Errorf("malformed traceparent logged: %v", lines[0])
	}
	if _, ok := lines[0]["invocation_id"]; ok {
		t.Errorf("malformed invocation id logged: %v", lines[0])
	}
}

// A queue invocation logs the trace context of its message (set by the
// request that enqueued it), in place of the host's.
func TestQueueInvocationLogCarriesTheMessagesTraceparent(t *testing.T) {
	s := &Server{logger: slog.New(slog.DiscardHandler)}
	for _, props := range []string{
		`{"traceparent":"` + messageTrace + `"}`,
		`"{\"Diagnostic-Id\":\"` + messageTrace + `\"}"`,
	} {
		body := `{"Data":{"msg":{"video_id":"x"}},"Metadata":{"ApplicationProperties":` + props + `}}`
		req := httptest.NewRequest("POST", "/import-worker", strings.NewReader(body))
		req.Header.Set("traceparent", hostTrace)
		req.Header.Set(invocationIDHeader, "inv-1")
		lines := logLines(t, req, s.trigger("import-worker", func(r *http.Request, inv *Invocation) ([]string, error) { return nil, nil }))
		if lines[0]["traceparent"] != messageTrace || lines[0]["invocation_id"] != "inv-1" {
			t.Errorf("ApplicationProperties %s: log %v", props, lines[0])
		}
	}
}
