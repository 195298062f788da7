// Package queue sends messages to the imports and processing queues and, when
// no Service Bus namespace is configured, stands in for Service Bus with a
// durable queue in PostgreSQL.
//
// ServiceBus is the production Sender (azservicebus). Local is the
// development and test Sender and also its consumer: Consume drives a Handler
// with the same at-least-once contract the Functions host gives the queue
// workers in Azure (peek-lock, lock expiry, redelivery, a delivery limit and
// dead-lettering), so the same worker code runs in both places.
//
// Every message carries a producer-chosen ID (Service Bus' MessageId). Both
// Senders use it to recognise a repeated send: Service Bus through duplicate
// detection on the queue, Local through a unique key.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/videofn/videofn/internal/traceparent"
)

// Message is what producers send. Body is the JSON message
// (`{"video_id":"<uuid>"}`, API.md); ID is its MessageId, chosen so that a
// repeated send of the same message has the same ID (for example
// "import:<video id>:<attempt>") and is delivered once.
type Message struct {
	ID   string
	Body []byte
	// NotBefore, when set, keeps the message from being delivered before
	// that time (Service Bus' ScheduledEnqueueTime): a retry after a backoff.
	NotBefore time.Time
	// Traceparent is the W3C trace context the message carries to its
	// worker (Service Bus application properties traceparent and
	// Diagnostic-Id). Left empty, Send sets a child of the trace context of
	// its ctx (traceparent.FromContext): the same trace id, a new parent id
	// for the message, the flags kept; none when ctx carries none.
	Traceparent string
}

// withTrace returns m with its Traceparent set from ctx when the caller
// left it empty.
func withTrace(ctx context.Context, m Message) Message {
	if m.Traceparent == "" {
		m.Traceparent = traceparent.Child(traceparent.FromContext(ctx))
	}
	return m
}

// Sender sends messages to a named queue. A nil error means the queue has
// accepted the message durably.
type Sender interface {
	Send(ctx context.Context, queue string, m Message) error
}

// Limits Service Bus enforces, which both Senders check so that a local run
// fails where Azure would.
const (
	// MaxQueueNameLength is the longest Service Bus queue name.
	MaxQueueNameLength = 260
	// MaxMessageIDLength is the longest Service Bus MessageId.
	MaxMessageIDLength = 128
	// MaxBodyBytes is the largest message body of the Standard tier (256 KiB).
	MaxBodyBytes = 256 << 10
)

// ErrInvalidMessage is returned (wrapped) by Send for a message or queue name
// that no queue would accept: nothing was sent and retrying cannot help.
var ErrInvalidMessage = errors.New("queue: invalid message")

// validateQueue checks a queue name against the Service Bus limits.
func validateQueue(queue string) error {
	switch {
	case queue == "":
		return fmt.Errorf("%w: the queue name is empty", ErrInvalidMessage)
	case !utf8.ValidString(queue) || strings.ContainsRune(queue, 0):
		return fmt.Errorf("%w: the queue name must be UTF-8 text without NUL", ErrInvalidMessage)
	case utf8.RuneCountInString(queue) > MaxQueueNameLength:
		return fmt.Errorf("%w: the queue name is longer than %d characters", ErrInvalidMessage, MaxQueueNameLength)
	}
	return nil
}

// validate checks queue and m against the Service Bus limits.
func validate(queue string, m Message) error {
	if err := validateQueue(queue); err != nil {
		return err
	}
	switch {
	case m.ID == "":
		return fmt.Errorf("%w: the message id is empty", ErrInvalidMessage)
	case !utf8.ValidString(m.ID) || strings.ContainsRune(m.ID, 0):
		return fmt.Errorf("%w: the message id must be UTF-8 text without NUL", ErrInvalidMessage)
	case utf8.RuneCountInString(m.ID) > MaxMessageIDLength:
		return fmt.Errorf("%w: the message id is longer than %d characters", ErrInvalidMessage, MaxMessageIDLength)
	case len(m.Body) > MaxBodyBytes:
		return fmt.Errorf("%w: the body is %d bytes, more than %d", ErrInvalidMessage, len(m.Body), MaxBodyBytes)
	case m.Traceparent != "" && (traceparent.Parse(m.Traceparent) != m.Traceparent || !strings.HasPrefix(m.Traceparent, "00-")):
		return fmt.Errorf("%w: the traceparent is not a version 00 W3C traceparent", ErrInvalidMessage)
	}
	return nil
}
