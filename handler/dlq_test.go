package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/queue"
)

// runDLQ runs `handler dlq args...` with env and returns its stdout.
func runDLQ(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"handler", "dlq"}, args...), func(k string) string { return env[k] }, &out)
	return out.String(), err
}

// deadLetter sends each message to name on the real local queue and lets a
// consumer that always fails dead-letter it (max deliveries 2).
func deadLetter(t *testing.T, l *queue.Local, name string, ms ...queue.Message) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- l.Consume(ctx, name, func(ctx context.Context, d queue.Delivery) error {
			return fmt.Errorf("worker failed on delivery %d", d.DeliveryCount)
		}, queue.ConsumerOptions{MaxDeliveries: 2, Poll: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 0 }})
	}()
	defer func() { cancel(); <-done }()
	for _, m := range ms {
		if err := l.Send(t.Context(), name, m); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := l.Stats(t.Context(), name)
		if err == nil && s.DeadLettered == int64(len(ms)) && s.Pending == 0 && s.InFlight == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages not dead-lettered: %+v, %v", s, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDLQLocalListShowReplayPurge(t *testing.T) {
	env := testEnv(t)
	db, err := postgres.Open(t.Context(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	l := queue.NewLocal(db.Pool(), nil)
	deadLetter(t, l, "imports",
		queue.Message{ID: "import:a:1", Body: []byte(`{"video_id":"a"}`)},
		queue.Message{ID: "import:b:1", Body: []byte(`{"video_id":"b"}`)},
		queue.Message{ID: "import:c:1", Body: []byte(`{"video_id":"c"}`)})

	out, err := runDLQ(t, env, "list", "--queue", "imports", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var dls []queue.DeadLetter
	if err := json.Unmarshal([]byte(out), &dls); err != nil || len(dls) != 3 {
		t.Fatalf("list --json = %s (%v), want 3 dead letters", out, err)
	}
	for _, d := range dls {
		if d.DeliveryCount != 2 || d.Reason != queue.ReasonMaxDeliveries || d.Description != "worker failed on delivery 2" || d.EnqueuedAt.IsZero() {
			t.Errorf("dead letter %+v", d)
		}
	}
	if out, err := runDLQ(t, env, "list", "--queue", "imports"); err != nil || !strings.Contains(out, "import:b:1") || !strings.HasPrefix(out, "ID ") {
		t.Errorf("list table = %q, %v", out, err)
	}
	out, err = runDLQ(t, env, "show", "import:a:1", "--queue", "imports")
	if err != nil || !strings.Contains(out, `{"video_id":"a"}`) || !strings.Contains(out, "delivery count: 2") ||
		!strings.Contains(out, "worker failed on delivery 2") || !strings.Contains(out, "MaxDeliveryCountExceeded") {
		t.Errorf("show = %q, %v", out, err)
	}
	if _, err := runDLQ(t, env, "show", "nope", "--queue", "imports"); !errors.Is(err, queue.ErrNoDeadLetter) {
		t.Errorf("show of a missing id: %v", err)
	}
	// Other queues are untouched by everything below.
	deadLetter(t, l, "mail", queue.Message{ID: "mail:1", Body: []byte(`{}`)})

	// Replay one: a new message with the same body, delivered to a consumer.
	out, err = runDLQ(t, env, "replay", "--queue", "imports", "import:a:1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var replayed struct {
		Count int
		Items []struct {
			ID    string
			NewID string `json:"new_id"`
		}
	}
	if err := json.Unmarshal([]byte(out), &replayed); err != nil || replayed.Count != 1 ||
		replayed.Items[0].ID != "import:a:1" || !strings.HasPrefix(replayed.Items[0].NewID, "import:a:1:replay:") {
		t.Fatalf("replay = %s, %v", out, err)
	}
	got := make(chan queue.Delivery, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- l.Consume(ctx, "imports", func(ctx context.Context, d queue.Delivery) error { got <- d; return nil },
			queue.ConsumerOptions{Poll: 20 * time.Millisecond})
	}()
	select {
	case d := <-got:
		if string(d.Body) != `{"video_id":"a"}` || d.MessageID != replayed.Items[0].NewID || d.DeliveryCount != 1 {
			t.Errorf("replayed delivery %+v", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the replayed message was not delivered")
	}
	cancel()
	<-done
	if s, _ := l.Stats(t.Context(), "imports"); s.DeadLettered != 2 {
		t.Errorf("after replay: %+v, want 2 dead letters left", s)
	}
	// A second replay of the same id finds nothing: no second copy.
	if _, err := runDLQ(t, env, "replay", "--queue", "imports", "import:a:1"); !errors.Is(err, queue.ErrNoDeadLetter) {
		t.Errorf("second replay: %v", err)
	}

	// Purge refuses without --yes, and needs ids or --all.
	if _, err := runDLQ(t, env, "purge", "--queue", "imports", "--all"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("purge without --yes: %v", err)
	}
	if _, err := runDLQ(t, env, "purge", "--queue", "imports", "--yes"); err == nil || !strings.Contains(err.Error(), "--all") {
		t.Errorf("purge without a selection: %v", err)
	}
	if s, _ := l.Stats(t.Context(), "imports"); s.DeadLettered != 2 {
		t.Errorf("refused purges deleted something: %+v", s)
	}
	out, err = runDLQ(t, env, "purge", "--queue", "imports", "--all", "--yes")
	if err != nil || !strings.Contains(out, "purged 2 dead letter(s)") {
		t.Errorf("purge --all = %q, %v", out, err)
	}
	if s, _ := l.Stats(t.Context(), "imports"); s.DeadLettered != 0 {
		t.Errorf("after purge: %+v", s)
	}
	if s, _ := l.Stats(t.Context(), "mail"); s.DeadLettered != 1 {
		t.Errorf("the mail queue was touched: %+v", s)
	}
}

func TestDLQRejectsBadInput(t *testing.T) {
	env := map[string]string{}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "dlq needs a command"},
		{[]string{"frob", "--queue", "imports"}, `unknown dlq command "frob"`},
		{[]string{"list"}, "needs --queue"},
		{[]string{"show", "--queue", "imports"}, "exactly one message id"},
		{[]string{"replay", "--queue", "imports"}, "give message ids or --all"},
		{[]string{"replay", "--queue", "imports", "--all", "x"}, "not both"},
		{[]string{"purge", "--queue", "imports", "x"}, "--yes"},
		{[]string{"list", "--queue", "imports"}, "DATABASE_URL: is required"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"handler", "dlq"}, tt.args...), func(k string) string { return env[k] }, io.Writer(&out))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("dlq %q: %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestDLQUnknownQueue(t *testing.T) {
	env := testEnv(t)
	if _, err := runDLQ(t, env, "list", "--queue", "nope"); err == nil || !strings.Contains(err.Error(), `unknown queue "nope"`) {
		t.Errorf("unknown queue: %v", err)
	}
}
