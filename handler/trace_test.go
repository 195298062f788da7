package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/traceparent"
)

// waitLine waits up to timeout for a log line that match accepts and
// returns it; it fails t otherwise.
func (c *logCapture) waitLine(t *testing.T, what string, timeout time.Duration, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		var found map[string]any
		for _, l := range c.lines {
			if match(l) {
				found = l
				break
			}
		}
		c.mu.Unlock()
		if found != nil {
			return found
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log line %s within %v; logs:\n%s", what, timeout, c.all())
			return nil
		}
	}
}

// TestTraceFromRequestToQueueToWorker follows one import by its trace id:
// the POST /api/imports request's log line, the message on the local
// queue, and the import worker's log lines all carry it. A request without
// a traceparent gets a fresh one, shared the same way.
func TestTraceFromRequestToQueueToWorker(t *testing.T) {
	src := httptest.NewServer(http.NotFoundHandler()) // the import fails fast, after yt-dlp ran
	defer src.Close()
	env := testEnv(t)
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
	env["YTDLP_PATH"] = "yt-dlp"
	h := start(t, env)
	waitHealthy(t, h)
	c := loginAs(t, h, env, "tracer@example.com")
	db := connectDB(t, env)

	const sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name, header string
	}{
		{"traceparent sent", sent},
		{"no traceparent", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requestID := fmt.Sprintf("trace-test-%d", time.Now().UnixNano())
			body, _ := json.Marshal(map[string]string{"url": src.URL + "/missing.mp4"})
			req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/imports", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("X-Request-ID", requestID)
			if tc.header != "" {
				req.Header.Set("traceparent", tc.header)
			}
			resp, raw := c.spec.Do(t, http.DefaultClient, req)
			var accepted struct {
				VideoID string `json:"video_id"`
			}
			json.Unmarshal(raw, &accepted)
			if resp.StatusCode != http.StatusAccepted || accepted.VideoID == "" {
				t.Fatalf("enqueue: %d %s", resp.StatusCode, raw)
			}

			// The request's line: the header's traceparent, or a fresh one.
			reqLine := h.logs.waitLine(t, "request "+requestID, 10*time.Second, func(l map[string]any) bool {
				return l["msg"] == "request" && l["request_id"] == requestID
			})
			reqTrace, _ := reqLine["traceparent"].(string)
			if tc.header != "" && reqTrace != tc.header {
				t.Errorf("request line traceparent %q, want the header's %s", reqTrace, tc.header)
			}
			traceID := traceparent.TraceID(reqTrace)
			if traceID == "" {
				t.Fatalf("request line without a valid traceparent: %v", reqLine)
			}

			// The message: the same trace, its own span.
			var stored string
			err := db.QueryRow(context.Background(), `SELECT traceparent FROM queue_messages WHERE queue = 'imports' AND message_id LIKE $1`,
				"import:"+accepted.VideoID+":%").Scan(&stored)
			if err != nil {
				t.Fatalf("queue row: %v", err)
			}
			if traceparent.TraceID(stored) != traceID || stored == reqTrace {
				t.Errorf("queue row traceparent %q, want a child span of the request's %s", stored, reqTrace)
			}

			// The worker's lines: the message's trace context.
			done := h.logs.waitLine(t, "import failed for "+accepted.VideoID, 30*time.Second, func(l map[string]any) bool {
				return l["msg"] == "import failed" && l["video_id"] == accepted.VideoID
			})
			if done["traceparent"] != stored {
				t.Errorf("worker line %v, want traceparent %s (the message's)", done, stored)
			}
			h.logs.mu.Lock()
			defer h.logs.mu.Unlock()
			workerLines := 0
			for _, l := range h.logs.lines {
				if l["video_id"] != accepted.VideoID {
					continue
				}
				workerLines++
				if tp, _ := l["traceparent"].(string); traceparent.TraceID(tp) != traceID {
					t.Errorf("worker line without the request's trace id %s: %v", traceID, l)
				}
			}
			if workerLines < 2 { // yt-dlp failed, import failed
				t.Errorf("%d worker lines for video %s, want at least 2", workerLines, accepted.VideoID)
			}
		})
	}
}
