package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/videofn/videofn/internal/traceparent"
)

const (
	hostTrace    = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	messageTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

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

	// Malformed values are never logged: a malformed traceparent is
	// replaced by a fresh one, a malformed invocation id left out.
	req = httptest.NewRequest("GET", "/api/videos", nil)
	req.Header.Set("traceparent", "nonsense")
	req.Header.Set(invocationIDHeader, "bad id with spaces")
	lines = logLines(t, req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if tp, _ := lines[0]["traceparent"].(string); traceparent.Parse(tp) != tp || tp == "" {
		t.Errorf("request with a malformed traceparent logged %v, want a fresh valid one", lines[0])
	}
	if _, ok := lines[0]["invocation_id"]; ok {
		t.Errorf("malformed invocation id logged: %v", lines[0])
	}
}

// The handler's context carries the request's traceparent, or a fresh one
// when it sent none, the one its log line shows: what it sends carries it on.
func TestRequestContextCarriesTheTraceparent(t *testing.T) {
	for _, header := range []string{hostTrace, "", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x"} {
		req := httptest.NewRequest("POST", "/api/imports", nil)
		if header != "" {
			req.Header.Set("traceparent", header)
		}
		var inContext string
		lines := logLines(t, req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inContext = traceparent.FromContext(r.Context())
		}))
		if inContext == "" || inContext != lines[0]["traceparent"] {
			t.Errorf("header %q: context carries %q, log line %v", header, inContext, lines[0])
		}
		if want := traceparent.Parse(header); want != "" && inContext != want {
			t.Errorf("header %q: context carries %q, want the header's", header, inContext)
		}
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
		var inContext string
		lines := logLines(t, req, s.trigger("import-worker", func(r *http.Request, inv *Invocation) ([]string, error) {
			inContext = traceparent.FromContext(r.Context())
			return nil, nil
		}))
		if lines[0]["traceparent"] != messageTrace || lines[0]["invocation_id"] != "inv-1" {
			t.Errorf("ApplicationProperties %s: log %v", props, lines[0])
		}
		if inContext != messageTrace {
			t.Errorf("ApplicationProperties %s: the worker's context carries %q, want the message's %s", props, inContext, messageTrace)
		}
	}
}
