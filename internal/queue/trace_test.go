package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/traceparent"
)

const requestTrace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

// A message sent in a traced context is stored and delivered with a child
// span of that context; one sent without carries none.
func TestLocalSendCarriesTheTraceContext(t *testing.T) {
	t.Parallel()
	l, pool := newLocal(t)
	ctx := traceparent.NewContext(t.Context(), requestTrace)
	if err := l.Send(ctx, "imports", queue.Message{ID: "traced", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	send(t, l, "imports", queue.Message{ID: "untraced", Body: []byte(`{}`)})

	var stored string
	if err := pool.QueryRow(t.Context(), `SELECT traceparent FROM queue_messages WHERE message_id = 'traced'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if traceparent.TraceID(stored) != traceparent.TraceID(requestTrace) || stored == requestTrace || stored[52:] != "-01" {
		t.Errorf("stored traceparent %q, want a child span of %s", stored, requestTrace)
	}
	var untraced *string
	if err := pool.QueryRow(t.Context(), `SELECT traceparent FROM queue_messages WHERE message_id = 'untraced'`).Scan(&untraced); err != nil || untraced != nil {
		t.Errorf("untraced message: traceparent %v, %v; want NULL", untraced, err)
	}

	h, got := recorder(nil)
	consume(t, l, "imports", h, fast)
	byID := map[string]queue.Delivery{}
	for range 2 {
		d := receive(t, got, 5*time.Second)
		byID[d.MessageID] = d
	}
	if d := byID["traced"]; d.Traceparent != stored {
		t.Errorf("delivered traceparent %q, want the stored %q", d.Traceparent, stored)
	}
	if d := byID["untraced"]; d.Traceparent != "" {
		t.Errorf("untraced delivery has traceparent %q", d.Traceparent)
	}
}

// A replayed dead letter keeps its trace context, and dlq list shows it.
func TestLocalDeadLetterReplayKeepsTheTraceparent(t *testing.T) {
	t.Parallel()
	l, _ := newLocal(t)
	const sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	send(t, l, "imports", queue.Message{ID: "doomed", Body: []byte(`{}`), Traceparent: sent})
	claims, err := l.ClaimForTest(t.Context(), "imports", 1, time.Minute, 5)
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: %d messages, %v", len(claims), err)
	}
	if err := l.DeadLetterForTest(t.Context(), claims[0], context.DeadlineExceeded); err != nil {
		t.Fatal(err)
	}
	dls, err := l.PeekDeadLetters(t.Context(), "imports", 10)
	if err != nil || len(dls) != 1 || dls[0].Properties["traceparent"] != sent {
		t.Fatalf("dead letters %+v, %v; want one with traceparent %s", dls, err, sent)
	}
	if _, err := l.ReplayDeadLetters(t.Context(), "imports", queue.Selection{All: true}); err != nil {
		t.Fatal(err)
	}
	h, got := recorder(nil)
	consume(t, l, "imports", h, fast)
	if d := receive(t, got, 5*time.Second); d.Traceparent != sent {
		t.Errorf("replayed delivery has traceparent %q, want %q", d.Traceparent, sent)
	}
}

// lineWriter hands each JSON log line to a channel.
type lineWriter chan map[string]any

func (w lineWriter) Write(p []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(p, &m); err == nil {
		select {
		case w <- m:
		default: // the test reads only the first lines
		}
	}
	return len(p), nil
}

// The consumer's own lines about a delivery carry its message's traceparent.
func TestLocalDeliveryLogCarriesTheTraceparent(t *testing.T) {
	t.Parallel()
	_, pool := newLocal(t)
	lines := make(lineWriter, 100)
	l := queue.NewLocal(pool, slog.New(slog.NewJSONHandler(lines, nil)))
	const sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	send(t, l, "imports", queue.Message{ID: "flaky", Body: []byte(`{}`), Traceparent: sent})
	h, got := recorder(func(d queue.Delivery) error {
		if d.DeliveryCount == 1 {
			return errors.New("transient")
		}
		return nil
	})
	consume(t, l, "imports", h, fast)
	receive(t, got, 5*time.Second)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line := <-lines:
			if line["msg"] != "local queue: delivery failed; redelivering later" {
				continue
			}
			if line["traceparent"] != sent || line["message_id"] != "flaky" {
				t.Errorf("line %v, want traceparent %s", line, sent)
			}
			return
		case <-timeout:
			t.Fatal("no 'delivery failed' line within 10 s")
		}
	}
}
