package queue

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/videofn/videofn/internal/traceparent"
)

// These tests never reach a Service Bus namespace (none exists here, and the
// only network allowed is loopback): they check what is built up to the wire.

const testConnectionString = "Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=a2V5"

// fakeCredential stands in for azidentity; it is never asked for a token
// because nothing connects.
type fakeCredential struct{ calls int }

func (c *fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls++
	return azcore.AccessToken{}, errors.New("fake credential: no token")
}

func TestToServiceBusMessage(t *testing.T) {
	body := []byte(`{"video_id":"6f1c1d5e-3f0b-4a57-9a43-7d2f2f5b7a10"}`)
	got := toServiceBusMessage(Message{ID: "import:6f1c1d5e-3f0b-4a57-9a43-7d2f2f5b7a10:1", Body: body})

	if !bytes.Equal(got.Body, body) {
		t.Errorf("Body = %q, want %q", got.Body, body)
	}
	if got.MessageID == nil || *got.MessageID != "import:6f1c1d5e-3f0b-4a57-9a43-7d2f2f5b7a10:1" {
		t.Errorf("MessageID = %v, want the message's ID", got.MessageID)
	}
	if got.ContentType == nil || *got.ContentType != "application/json" {
		t.Errorf("ContentType = %v, want application/json", got.ContentType)
	}
	// Nothing else is set: no session (the queues are not session-enabled),
	// no TTL (the queue's default applies), no scheduling.
	if got.SessionID != nil || got.TimeToLive != nil || got.ScheduledEnqueueTime != nil ||
		got.PartitionKey != nil || got.CorrelationID != nil || got.Subject != nil || got.ApplicationProperties != nil {
		t.Errorf("unexpected fields set: %+v", got)
	}
}

func TestToServiceBusMessageNotBefore(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	got := toServiceBusMessage(Message{ID: "mail:x:1", Body: []byte(`{}`), NotBefore: at})
	if got.ScheduledEnqueueTime == nil || !got.ScheduledEnqueueTime.Equal(at) || got.ScheduledEnqueueTime.Location() != time.UTC {
		t.Errorf("ScheduledEnqueueTime = %v, want %v in UTC", got.ScheduledEnqueueTime, at)
	}
}

// The trace context goes on the wire as the application properties the
// Functions host and the Azure SDKs read: traceparent and Diagnostic-Id,
// the same value.
func TestToServiceBusMessageTraceparent(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	got := toServiceBusMessage(Message{ID: "import:x:1", Body: []byte(`{}`), Traceparent: tp})
	want := map[string]any{"traceparent": tp, "Diagnostic-Id": tp}
	if len(got.ApplicationProperties) != len(want) || got.ApplicationProperties["traceparent"] != tp || got.ApplicationProperties["Diagnostic-Id"] != tp {
		t.Errorf("ApplicationProperties = %v, want %v", got.ApplicationProperties, want)
	}
}

// Send fills an empty Traceparent with a child of ctx's trace context: the
// same trace id and flags, a new parent id per message. A caller's own is
// kept; none is set when ctx carries none.
func TestWithTrace(t *testing.T) {
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := traceparent.NewContext(context.Background(), parent)
	a, b := withTrace(ctx, Message{ID: "a"}), withTrace(ctx, Message{ID: "b"})
	for _, m := range []Message{a, b} {
		if traceparent.Parse(m.Traceparent) != m.Traceparent || traceparent.TraceID(m.Traceparent) != traceparent.TraceID(parent) ||
			m.Traceparent[52:] != "-01" || m.Traceparent == parent {
			t.Errorf("withTrace(ctx with %s) = %q, want a child span of it", parent, m.Traceparent)
		}
		if err := validate("imports", m); err != nil {
			t.Errorf("validate(%q): %v", m.Traceparent, err)
		}
	}
	if a.Traceparent == b.Traceparent {
		t.Errorf("two messages share the parent id %q", a.Traceparent)
	}
	const own = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
	if got := withTrace(ctx, Message{ID: "c", Traceparent: own}).Traceparent; got != own {
		t.Errorf("a caller's traceparent became %q, want it kept (%s)", got, own)
	}
	if got := withTrace(context.Background(), Message{ID: "d"}).Traceparent; got != "" {
		t.Errorf("withTrace(ctx without trace) = %q, want none", got)
	}
}

func TestNewServiceBus(t *testing.T) {
	t.Run("connection string", func(t *testing.T) {
		sb, err := NewServiceBus(testConnectionString, "", nil)
		if err != nil {
			t.Fatalf("NewServiceBus: %v", err)
		}
		if err := sb.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Run("namespace and credential", func(t *testing.T) {
		cred := &fakeCredential{}
		sb, err := NewServiceBus("", "example.servicebus.windows.net", cred)
		if err != nil {
			t.Fatalf("NewServiceBus: %v", err)
		}
		if cred.calls != 0 {
			t.Errorf("credential asked for %d tokens, want 0 (creating a sender must not connect)", cred.calls)
		}
		if err := sb.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func TestNewServiceBusRejects(t *testing.T) {
	cred := &fakeCredential{}
	tests := []struct {
		name             string
		connectionString string
		namespace        string
		cred             azcore.TokenCredential
		wantErr          string
	}{
		{"both set", testConnectionString, "example.servicebus.windows.net", cred, "not both"},
		{"neither set", "", "", cred, "neither"},
		{"blank", "  ", " ", nil, "neither"},
		{"namespace with sb scheme", "", "sb://example.servicebus.windows.net", cred, "without scheme"},
		{"namespace with https scheme", "", "https://example.servicebus.windows.net/", cred, "without scheme"},
		{"namespace with path", "", "example.servicebus.windows.net/imports", cred, "without scheme"},
		{"namespace with port", "", "example.servicebus.windows.net:5671", cred, "without scheme"},
		{"namespace without domain", "", "example", cred, "host name"},
		{"namespace without credential", "", "example.servicebus.windows.net", nil, "needs a credential"},
		{"unparsable connection string", "not a connection string", "", nil, "invalid connection string"},
		{"connection string without key", "Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=k", "", nil, "invalid connection string"},
		{"connection string with bad endpoint", "Endpoint=example;SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0LWtleQ==", "", nil, "invalid connection string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, err := NewServiceBus(tt.connectionString, tt.namespace, tt.cred)
			if err == nil {
				sb.Close(t.Context())
				t.Fatalf("NewServiceBus succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "c2VjcmV0LWtleQ==") {
				t.Errorf("error %q quotes the shared access key", err)
			}
		})
	}
}

func TestServiceBusSendValidatesBeforeConnecting(t *testing.T) {
	sb, err := NewServiceBus(testConnectionString, "", nil)
	if err != nil {
		t.Fatalf("NewServiceBus: %v", err)
	}
	defer sb.Close(t.Context())
	tests := []struct {
		name  string
		queue string
		m     Message
	}{
		{"empty queue", "", Message{ID: "a", Body: []byte("{}")}},
		{"empty id", "imports", Message{Body: []byte("{}")}},
		{"id too long", "imports", Message{ID: strings.Repeat("x", MaxMessageIDLength+1), Body: []byte("{}")}},
		{"body too large", "imports", Message{ID: "a", Body: make([]byte, MaxBodyBytes+1)}},
		{"malformed traceparent", "imports", Message{ID: "a", Body: []byte("{}"), Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"}},
		{"traceparent of a later version", "imports", Message{ID: "a", Body: []byte("{}"), Traceparent: "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sb.Send(t.Context(), tt.queue, tt.m); !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("Send = %v, want ErrInvalidMessage", err)
			}
		})
	}
	if len(sb.senders) != 0 {
		t.Errorf("%d senders created for invalid messages, want 0", len(sb.senders))
	}
}

func TestServiceBusSendAfterClose(t *testing.T) {
	sb, err := NewServiceBus(testConnectionString, "", nil)
	if err != nil {
		t.Fatalf("NewServiceBus: %v", err)
	}
	if err := sb.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := sb.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := sb.Send(t.Context(), "imports", Message{ID: "a", Body: []byte("{}")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
}

// TestServiceBusSendFailureIsReturned points the client at a loopback
// listener that drops every connection, standing in for an unreachable
// namespace: Send returns a wrapped error promptly (the bounded retry
// options), and the sender of the queue is created once and reused.
func TestServiceBusSendFailureIsReturned(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	opts := clientOptions()
	opts.CustomEndpoint = ln.Addr().String()
	sb, err := newServiceBus(testConnectionString, "", nil, opts)
	if err != nil {
		t.Fatalf("newServiceBus: %v", err)
	}
	defer sb.Close(context.WithoutCancel(t.Context()))

	for range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		start := time.Now()
		err := sb.Send(ctx, "imports", Message{ID: "import:x:1", Body: []byte(`{"video_id":"x"}`)})
		cancel()
		if err == nil {
			t.Fatal("Send to a dropped connection succeeded")
		}
		t.Logf("Send failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
		// The SDK's error survives the wrapping: callers can tell a lost
		// connection (transient) from, say, an unknown queue.
		if sbErr, ok := errors.AsType[*azservicebus.Error](err); !ok || sbErr.Code != azservicebus.CodeConnectionLost {
			t.Errorf("error %v is not an *azservicebus.Error with code %s", err, azservicebus.CodeConnectionLost)
		}
		if !strings.Contains(err.Error(), "send message import:x:1 to service bus queue imports") {
			t.Errorf("error %q does not say what failed", err)
		}
		if elapsed := time.Since(start); elapsed > 20*time.Second {
			t.Errorf("Send took %v to fail, want the bounded retries to give up sooner", elapsed)
		}
	}
	sb.mu.Lock()
	n := len(sb.senders)
	sb.mu.Unlock()
	if n != 1 {
		t.Errorf("%d senders cached, want 1 for one queue", n)
	}
}
