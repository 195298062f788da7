package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestSelectionValidate(t *testing.T) {
	for _, tt := range []struct {
		sel  Selection
		want string
	}{
		{Selection{}, "give message ids or --all"},
		{Selection{All: true, IDs: []string{"a"}}, "not both"},
		{Selection{All: true}, ""},
		{Selection{IDs: []string{"a"}}, ""},
	} {
		err := tt.sel.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.sel, err, tt.want)
		}
	}
}

func TestReplayIDIsNewAndFits(t *testing.T) {
	a, b := replayID("import:x:1"), replayID("import:x:1")
	if a == b || !strings.HasPrefix(a, "import:x:1:replay:") {
		t.Errorf("replay ids %q, %q", a, b)
	}
	long := replayID(strings.Repeat("é", MaxMessageIDLength))
	if n := utf8.RuneCountInString(long); n != MaxMessageIDLength || !utf8.ValidString(long) {
		t.Errorf("replay id of a %d-character id has %d characters", MaxMessageIDLength, n)
	}
}

func TestReplayCopyKeepsBodyAndPropertiesWithANewID(t *testing.T) {
	ct, corr, subj := "application/json", "corr", "subj"
	reason, desc := "MaxDeliveryCountExceeded", "boom"
	enq := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &azservicebus.ReceivedMessage{
		MessageID: "import:v:1", Body: []byte(`{"video_id":"v"}`),
		ApplicationProperties: map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		ContentType:           &ct, CorrelationID: &corr, Subject: &subj,
		DeadLetterReason: &reason, DeadLetterErrorDescription: &desc, DeliveryCount: 10, EnqueuedTime: &enq,
	}
	c := replayCopy(m)
	if c.MessageID == nil || *c.MessageID == m.MessageID || !strings.HasPrefix(*c.MessageID, "import:v:1:replay:") {
		t.Errorf("copy id %v", c.MessageID)
	}
	if string(c.Body) != string(m.Body) || c.ApplicationProperties["traceparent"] != m.ApplicationProperties["traceparent"] ||
		*c.ContentType != ct || *c.CorrelationID != corr || *c.Subject != subj {
		t.Errorf("copy %+v", c)
	}
	c.ApplicationProperties["x"] = 1
	if _, ok := m.ApplicationProperties["x"]; ok {
		t.Error("the copy shares its properties map with the dead letter")
	}
	d := fromServiceBusDeadLetter(m)
	if d.ID != "import:v:1" || d.Reason != reason || d.Description != desc || d.DeliveryCount != 10 || !d.EnqueuedAt.Equal(enq) {
		t.Errorf("dead letter %+v", d)
	}
}

// Without a namespace: the argument checks run before any connection.
func TestServiceBusDeadLettersValidateFirst(t *testing.T) {
	sb, err := NewServiceBus("Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := sb.PurgeDeadLetters(ctx, "imports", Selection{}); err == nil || !strings.Contains(err.Error(), "--all") {
		t.Errorf("purge without a selection: %v", err)
	}
	if _, err := sb.PeekDeadLetters(ctx, "", 1); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("empty queue name: %v", err)
	}
	_ = sb.Close(ctx)
	if _, err := sb.PeekDeadLetters(ctx, "imports", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
