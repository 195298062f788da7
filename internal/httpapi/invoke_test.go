package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// recordingHandler is a MessageHandler that remembers what it was given.
type recordingHandler struct {
	mu   sync.Mutex
	got  []QueueMessage
	dels []Delivery
	err  error
}

func (h *recordingHandler) HandleMessage(ctx context.Context, msg QueueMessage, d Delivery) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, msg)
	h.dels = append(h.dels, d)
	return h.err
}

type recordingSweeper struct {
	calls int
	err   error
}

func (s *recordingSweeper) Sweep(ctx context.Context, now time.Time) (string, error) {
	s.calls++
	return "nothing to do", s.err
}

// serviceBusEnvelope builds an invocation the way the Functions host writes
// one for a Service Bus trigger with "dataType": "binary": the body as one
// base64 string, string metadata JSON-quoted, numbers as strings, dates
// without a zone.
func serviceBusEnvelope(body string, messageID string, deliveryCount int) string {
	return fmt.Sprintf(`{
  "Data": {"message": %q},
  "Metadata": {
    "MessageId": %q,
    "DeliveryCount": "%d",
    "SequenceNumber": "42",
    "ContentType": "\"application/json\"",
    "LockToken": "\"7d1a6c0b-5c1f-4b0e-9a0a-3f1d2e4c5b6a\"",
    "EnqueuedTimeUtc": "\"2026-11-25T21:04:05.1234567\"",
    "ExpiresAtUtc": "\"2026-12-09T21:04:05.1234567\"",
    "ApplicationProperties": "{}",
    "UserProperties": "{}",
    "sys": {"MethodName": "import-worker", "UtcNow": "\"2026-11-25T21:04:06.5\"", "RandGuid": "\"0c7d2b1e-2a52-4c1a-8d8e-3f0e2a1b4c5d\""}
  }
}`, base64.StdEncoding.EncodeToString([]byte(body)), `"`+messageID+`"`, deliveryCount)
}

func post(t *testing.T, h http.Handler, path, body string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const successBody = `{"Outputs":{},"Logs":[%s],"ReturnValue":null}`

func TestQueueInvocation(t *testing.T) {
	videoID := uuid.MustParse("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b")
	tests := []struct {
		name       string
		body       string
		handlerErr error
		wantStatus int
		wantCode   string // error code, for failures
		wantCalls  int
	}{
		{"binary body with quoted metadata", serviceBusEnvelope(`{"video_id":"`+videoID.String()+`"}`, "msg-1", 1), nil, 200, "", 1},
		{"extra fields in the message are tolerated", serviceBusEnvelope(`{"video_id":"`+videoID.String()+`","task":"probe"}`, "msg-2", 2), nil, 200, "", 1},
		{"transient failure asks for redelivery", serviceBusEnvelope(`{"video_id":"`+videoID.String()+`"}`, "msg-3", 1), fmt.Errorf("db: %w", ErrUnavailable), 503, "unavailable", 1},
		{"unexpected failure asks for redelivery", serviceBusEnvelope(`{"video_id":"`+videoID.String()+`"}`, "msg-4", 1), errors.New("boom"), 500, "internal_error", 1},
		{"work cancelled by a shutdown asks for redelivery", serviceBusEnvelope(`{"video_id":"`+videoID.String()+`"}`, "msg-5", 1), fmt.Errorf("import: %w", context.Canceled), 503, "unavailable", 1},
		{"not JSON", `Data=1`, nil, 400, "invalid_envelope", 0},
		{"empty body", ``, nil, 400, "invalid_envelope", 0},
		{"Data missing", `{"Metadata":{}}`, nil, 400, "invalid_envelope", 0},
		{"Data not an object", `{"Data":"x","Metadata":{}}`, nil, 400, "invalid_envelope", 0},
		{"wrong binding name", `{"Data":{"msg":"e30="},"Metadata":{}}`, nil, 400, "invalid_envelope", 0},
		{"body neither base64 nor JSON", `{"Data":{"message":"%%not base64"},"Metadata":{}}`, nil, 400, "invalid_envelope", 0},
		{"body a number", `{"Data":{"message":42},"Metadata":{}}`, nil, 400, "invalid_envelope", 0},
		{"body JSON text with a bad message", `{"Data":{"message":"{\"video_id\":1}"},"Metadata":{}}`, nil, 400, "invalid_message", 0},
		{"two JSON values", `{"Data":{}} {"Data":{}}`, nil, 400, "invalid_envelope", 0},
		{"message not JSON", serviceBusEnvelope(`video please`, "m", 1), nil, 400, "invalid_message", 0},
		{"message without video_id", serviceBusEnvelope(`{"url":"https://x"}`, "m", 1), nil, 400, "invalid_message", 0},
		{"video_id not a UUID", serviceBusEnvelope(`{"video_id":"42"}`, "m", 1), nil, 400, "invalid_message", 0},
		{"video_id nil UUID", serviceBusEnvelope(`{"video_id":"00000000-0000-0000-0000-000000000000"}`, "m", 1), nil, 400, "invalid_message", 0},
		{"envelope over 1 MiB", `{"Data":{"message":"` + strings.Repeat("A", 1<<20) + `"}}`, nil, 413, "body_too_large", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &recordingHandler{err: tt.handlerErr}
			srv := NewServer(Options{ImportWorker: h, VideoProcessor: h, Sweeper: &recordingSweeper{}})
			resp, body := post(t, srv, "/import-worker", tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if len(h.got) != tt.wantCalls {
				t.Fatalf("handler called %d times, want %d", len(h.got), tt.wantCalls)
			}
			if tt.wantStatus != 200 {
				var e errorBody
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != tt.wantCode || e.Error.Message == "" {
					t.Errorf("got body %s, want error code %q with a message", body, tt.wantCode)
				}
				if tt.wantStatus >= 500 && strings.Contains(body, "boom") {
					t.Errorf("internal cause leaked: %s", body)
				}
				return
			}
			d := h.dels[0]
			wantLog := fmt.Sprintf(`"message %s for video %s handled (delivery %d)"`, d.MessageID, videoID, d.DeliveryCount)
			if want := fmt.Sprintf(successBody, wantLog); strings.TrimSpace(body) != want {
				t.Errorf("body:\n got %s\nwant %s", body, want)
			}
			if h.got[0].VideoID != videoID {
				t.Errorf("video id: got %s, want %s", h.got[0].VideoID, videoID)
			}
		})
	}
}

func TestDeliveryMetadata(t *testing.T) {
	h := &recordingHandler{}
	srv := NewServer(Options{ImportWorker: h, VideoProcessor: h, Sweeper: &recordingSweeper{}})
	resp, body := post(t, srv, "/video-processor", serviceBusEnvelope(`{"video_id":"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b","task":"thumbnail"}`, "abc-123", 3))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := h.dels[0]
	want := Delivery{MessageID: "abc-123", DeliveryCount: 3, EnqueuedTime: time.Date(2026, 11, 25, 21, 4, 5, 123456700, time.UTC)}
	if got != want {
		t.Errorf("delivery: got %+v, want %+v", got, want)
	}
	if h.got[0].Task != "thumbnail" {
		t.Errorf("task: got %q", h.got[0].Task)
	}
}

func TestMetadataDecoding(t *testing.T) {
	inv := &Invocation{Metadata: map[string]json.RawMessage{
		"Quoted":      json.RawMessage(`"\"abc\""`),
		"Plain":       json.RawMessage(`"abc"`),
		"Number":      json.RawMessage(`"7"`),
		"RawNumber":   json.RawMessage(`7`),
		"Date":        json.RawMessage(`"\"2026-11-25T21:04:05.1234567\""`),
		"DateSeconds": json.RawMessage(`"2026-11-25T21:04:05"`),
		"DateZoned":   json.RawMessage(`"\"2026-11-25T22:04:05+01:00\""`),
		"Null":        json.RawMessage(`null`),
	}}
	if got := inv.MetaString("Quoted"); got != "abc" {
		t.Errorf("quoted string: got %q", got)
	}
	if got := inv.MetaString("Plain"); got != "abc" {
		t.Errorf("plain string: got %q", got)
	}
	if got := inv.MetaString("Missing"); got != "" {
		t.Errorf("missing: got %q", got)
	}
	for _, k := range []string{"Number", "RawNumber"} {
		if n, ok := inv.MetaInt(k); !ok || n != 7 {
			t.Errorf("%s: got %d %v", k, n, ok)
		}
	}
	if _, ok := inv.MetaInt("Null"); ok {
		t.Error("null read as a number")
	}
	if _, ok := inv.MetaInt("Quoted"); ok {
		t.Error("a string read as a number")
	}
	for k, want := range map[string]time.Time{
		"Date":        time.Date(2026, 11, 25, 21, 4, 5, 123456700, time.UTC),
		"DateSeconds": time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC),
		"DateZoned":   time.Date(2026, 11, 25, 21, 4, 5, 0, time.UTC),
	} {
		if got, ok := inv.MetaTime(k); !ok || !got.Equal(want) {
			t.Errorf("%s: got %v %v, want %v", k, got, ok, want)
		}
	}
}

// recordingMailer is a MailHandler that remembers the mails it was given.
type recordingMailer struct {
	mu  sync.Mutex
	got []uuid.UUID
}

func (m *recordingMailer) DeliverMail(ctx context.Context, id uuid.UUID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, id)
	return nil
}

// TestQueueTriggersAcceptEveryBodyForm: the host's envelope format was
// derived from its sources, so each queue function accepts the message body
// in every form the host may send: base64 ("dataType": "binary"), the body
// JSON-encoded once or twice more (a string binding), and a plain object.
// A function.json edit or a host change must not dead-letter every message.
func TestQueueTriggersAcceptEveryBodyForm(t *testing.T) {
	videoID := uuid.MustParse("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b")
	mailID := uuid.MustParse("7a1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e")
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	forms := map[string]func(body string) string{
		"base64 (dataType binary)":     func(body string) string { return quote(base64.StdEncoding.EncodeToString([]byte(body))) },
		"JSON string (string binding)": func(body string) string { return quote(body) },
		"JSON string encoded twice":    func(body string) string { return quote(quote(body)) },
		"base64 with spaces around":    func(body string) string { return quote(" " + base64.StdEncoding.EncodeToString([]byte(body)) + " ") },
		"JSON object":                  func(body string) string { return body },
		"JSON string with padding":     func(body string) string { return quote("  " + body + "\n") },
		"base64 with a line break (MIME)": func(body string) string {
			e := base64.StdEncoding.EncodeToString([]byte(body))
			return quote(e[:8] + "\r\n" + e[8:])
		},
	}
	functions := []struct {
		path, body string
		called     func(h *recordingHandler, m *recordingMailer) bool
	}{
		{"/import-worker", `{"video_id":"` + videoID.String() + `"}`, func(h *recordingHandler, _ *recordingMailer) bool {
			return len(h.got) == 1 && h.got[0].VideoID == videoID
		}},
		{"/video-processor", `{"video_id":"` + videoID.String() + `","task":"probe"}`, func(h *recordingHandler, _ *recordingMailer) bool {
			return len(h.got) == 1 && h.got[0].VideoID == videoID && h.got[0].Task == "probe"
		}},
		{"/mail-sender", `{"mail_id":"` + mailID.String() + `"}`, func(_ *recordingHandler, m *recordingMailer) bool {
			return len(m.got) == 1 && m.got[0] == mailID
		}},
	}
	for _, fn := range functions {
		for name, form := range forms {
			t.Run(fn.path[1:]+"/"+name, func(t *testing.T) {
				h, m := &recordingHandler{}, &recordingMailer{}
				srv := NewServer(Options{ImportWorker: h, VideoProcessor: h, MailSender: m, Sweeper: &recordingSweeper{}})
				envelope := `{"Data":{"message":` + form(fn.body) + `},"Metadata":{"MessageId":"\"m-1\"","DeliveryCount":"1"}}`
				resp, body := post(t, srv, fn.path, envelope)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d, body %s; envelope %s", resp.StatusCode, body, envelope)
				}
				if !fn.called(h, m) {
					t.Errorf("handler got %+v, mailer got %v; want the message once", h.got, m.got)
				}
			})
		}
	}
}

func TestJSONBindingIsUnwrapped(t *testing.T) {
	doc := `{"video_id":"3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"}`
	once, _ := json.Marshal(doc)
	twice, _ := json.Marshal(string(once))
	for name, raw := range map[string]string{"object": doc, "encoded once": string(once), "encoded twice": string(twice)} {
		t.Run(name, func(t *testing.T) {
			inv := &Invocation{Data: map[string]json.RawMessage{"message": json.RawMessage(raw)}}
			got, err := inv.JSON("message")
			if err != nil || string(got) != doc {
				t.Errorf("got %s, %v; want %s", got, err, doc)
			}
		})
	}
	inv := &Invocation{Data: map[string]json.RawMessage{"message": json.RawMessage(`"\"just a string\""`)}}
	if _, err := inv.JSON("message"); err == nil {
		t.Error("a plain string was accepted as a JSON document")
	}
}

func TestTimerInvocation(t *testing.T) {
	timer := `{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-25T21:00:00","Next":"2026-11-25T21:05:00","LastUpdated":"2026-11-25T21:00:00"},"IsPastDue":true}`
	encoded, _ := json.Marshal(timer)
	tests := []struct {
		name       string
		data       string
		sweepErr   error
		wantStatus int
	}{
		{"timer object", timer, nil, 200},
		{"timer encoded as a string", string(encoded), nil, 200},
		{"sweep fails", timer, fmt.Errorf("purge: %w", ErrUnavailable), 503},
		{"timer missing", `null`, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := &recordingSweeper{err: tt.sweepErr}
			srv := NewServer(Options{ImportWorker: &recordingHandler{}, VideoProcessor: &recordingHandler{}, Sweeper: sw})
			body := `{"Data":{"timer":` + tt.data + `},"Metadata":{"sys":{"MethodName":"import-sweeper","UtcNow":"\"2026-11-25T21:05:00.01\"","RandGuid":"\"x\""}}}`
			resp, got := post(t, srv, "/import-sweeper", body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, got)
			}
			if tt.wantStatus == 200 {
				want := fmt.Sprintf(successBody, `"sweep done (past due: true): nothing to do"`)
				if strings.TrimSpace(got) != want {
					t.Errorf("body:\n got %s\nwant %s", got, want)
				}
				if sw.calls != 1 {
					t.Errorf("sweeper called %d times", sw.calls)
				}
			}
		})
	}
}
