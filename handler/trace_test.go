package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/traceparent"
)

// TestTraceFromRequestToQueueToWorker follows one import by its trace id:
// the POST /api/imports request's log line, the message on the local
// queue, and the import worker's log lines all carry it. A request without
// a traceparent gets a fresh one, shared the same way.
func TestTraceFromRequestToQueueToWorker(t *testing.T) {
	media := mediatest.MP4Like(64 << 10)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/clip.mp4" {
			http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(media))
			return
		}
		http.NotFound(w, r) // the import fails fast, after yt-dlp ran
	}))
	defer src.Close()
	h, env := startImporting(t)
	c := loginAs(t, h, env, "tracer@example.com")
	db := connectDB(t, env)

	const sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var failedVideo string // the first import's video, failed by the end of its subtest
	for _, tc := range []struct {
		name, header string
	}{
		{"traceparent sent", sent},
		{"no traceparent", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requestID := fmt.Sprintf("trace-test-%d", time.Now().UnixNano())
			headers := map[string]string{"X-Request-ID": requestID}
			if tc.header != "" {
				headers["traceparent"] = tc.header
			}
			accepted := enqueueImport(t, c, src.URL+"/missing.mp4", headers)

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
			if failedVideo == "" {
				failedVideo = accepted.VideoID
			}
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

	// A worker's own message stays in the trace: the import, once done,
	// sends the probe to the processing queue as a child of its message.
	t.Run("import then probe", func(t *testing.T) {
		accepted := enqueueImport(t, c, src.URL+"/clip.mp4", map[string]string{"traceparent": sent})
		done := h.logs.waitLine(t, "import done for "+accepted.VideoID, 30*time.Second, func(l map[string]any) bool {
			return l["msg"] == "import done" && l["video_id"] == accepted.VideoID
		})
		var importMsg string
		if err := db.QueryRow(context.Background(), `SELECT traceparent FROM queue_messages WHERE queue = 'imports' AND message_id LIKE $1`,
			"import:"+accepted.VideoID+":%").Scan(&importMsg); err != nil {
			t.Fatalf("import row: %v", err)
		}
		if done["traceparent"] != importMsg {
			t.Errorf("import done line %v, want traceparent %s", done, importMsg)
		}
		// The video processor's first line: its message is in the queue by then.
		probed := h.logs.waitLine(t, "a video-processor line for "+accepted.VideoID, 30*time.Second, func(l map[string]any) bool {
			tp, _ := l["traceparent"].(string)
			return l["video_id"] == accepted.VideoID && tp != "" && tp != importMsg
		})
		var probeMsg string
		if err := db.QueryRow(context.Background(), `SELECT traceparent FROM queue_messages WHERE queue = 'video-processing' AND convert_from(body, 'UTF8') LIKE $1`,
			"%"+accepted.VideoID+"%").Scan(&probeMsg); err != nil {
			t.Fatalf("probe row: %v", err)
		}
		if traceparent.TraceID(probeMsg) != traceparent.TraceID(sent) || probeMsg == importMsg || probeMsg == sent {
			t.Errorf("probe message traceparent %q, want a new span in the trace of %s (import message %s)", probeMsg, sent, importMsg)
		}
		if probed["traceparent"] != probeMsg {
			t.Errorf("video-processor line %v, want traceparent %s (its message's)", probed, probeMsg)
		}
	})

	// On Azure the host delivers the message to /import-worker with its
	// application properties in the metadata (a JSON string): the worker's
	// lines carry the message's traceparent, not the host's own.
	t.Run("Service Bus invocation", func(t *testing.T) {
		if failedVideo == "" {
			t.Fatal("no failed import from the subtests above to deliver again")
		}
		const message = "00-9a1c0b6f3e2d4c5b8a7f6e5d4c3b2a19-1a2b3c4d5e6f7081-01"
		const host = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		props, _ := json.Marshal(`{"traceparent":"` + message + `","Diagnostic-Id":"` + message + `"}`)
		envelope := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":"\"m-trace\"","DeliveryCount":"1","ApplicationProperties":%s}}`,
			base64.StdEncoding.EncodeToString([]byte(`{"video_id":"`+failedVideo+`"}`)), props)
		req, _ := http.NewRequest(http.MethodPost, h.URL+"/import-worker", strings.NewReader(envelope))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("traceparent", host)
		req.Header.Set("X-Azure-Functions-InvocationId", "trace-invocation")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("import-worker: %d", resp.StatusCode)
		}
		line := h.logs.waitLine(t, "import has nothing to do", 10*time.Second, func(l map[string]any) bool {
			return l["msg"] == "import has nothing to do" && l["video_id"] == failedVideo
		})
		if line["traceparent"] != message {
			t.Errorf("worker line %v, want traceparent %s (the message's)", line, message)
		}
		inv := h.logs.waitLine(t, "request for the invocation", 10*time.Second, func(l map[string]any) bool {
			return l["msg"] == "request" && l["invocation_id"] == "trace-invocation"
		})
		if inv["traceparent"] != message {
			t.Errorf("invocation line %v, want traceparent %s (the message's)", inv, message)
		}
	})
}

// enqueueImport posts an import of url as c with the extra headers and
// returns the accepted answer.
func enqueueImport(t *testing.T, c *apiClient, url string, headers map[string]string) (accepted struct {
	VideoID string `json:"video_id"`
}) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"url": url})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/imports", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, raw := c.spec.Do(t, http.DefaultClient, req)
	json.Unmarshal(raw, &accepted)
	if resp.StatusCode != http.StatusAccepted || accepted.VideoID == "" {
		t.Fatalf("enqueue: %d %s", resp.StatusCode, raw)
	}
	return accepted
}
