package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/videofn/videofn/internal/mail"
)

func TestLogSend(t *testing.T) {
	var buf bytes.Buffer
	s := mail.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := mail.Message{
		To:      "jane@example.com",
		Subject: "Confirm your email",
		Text:    "Open https://app.videofn.test/auth/verify?token=abc\n",
		HTML:    "<p>html</p>",
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q is not one JSON object: %v", buf.String(), err)
	}
	want := map[string]string{"level": "INFO", "to": m.To, "subject": m.Subject, "text": m.Text}
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s = %v, want %q", key, got[key], w)
		}
	}

	buf.Reset()
	if err := s.Send(context.Background(), mail.Message{To: "not an address"}); err == nil {
		t.Error("Send to an invalid address succeeded")
	}
	if buf.Len() != 0 {
		t.Errorf("a refused message was logged: %s", buf.String())
	}
}
