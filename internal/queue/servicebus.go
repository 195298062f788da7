package queue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// contentTypeJSON is the ContentType of every message: bodies are JSON (API.md).
const contentTypeJSON = "application/json"

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("queue: sender closed")

// ServiceBus sends messages to Azure Service Bus queues. It is safe for
// concurrent use. It keeps one AMQP connection and one sender link per queue,
// created on the first Send to that queue.
type ServiceBus struct {
	client *azservicebus.Client

	mu      sync.Mutex
	senders map[string]*azservicebus.Sender
	closed  bool
}

var _ Sender = (*ServiceBus)(nil)

// namespacePattern is a fully qualified host name: at least two dot-separated
// labels, no scheme, port or path.
var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)

// NewServiceBus returns a ServiceBus that authenticates either with
// connectionString (the ServiceBusConnection setting: Endpoint=sb://...;
// SharedAccessKeyName=...;SharedAccessKey=...) or with cred on namespace (the
// ServiceBusConnection__fullyQualifiedNamespace setting, such as
// "example.servicebus.windows.net"; cred is azidentity's credential in
// production). Exactly one of connectionString and namespace must be set.
//
// It does not contact Azure: a wrong key or an unreachable namespace shows up
// as an error from the first Send. An unparsable connection string, a
// namespace that is not a bare host name, or a namespace without cred is
// rejected here; errors never quote the connection string.
func NewServiceBus(connectionString, namespace string, cred azcore.TokenCredential) (*ServiceBus, error) {
	return newServiceBus(connectionString, namespace, cred, clientOptions())
}

// clientOptions bounds the SDK's own retries. Its defaults (3 retries from 4 s
// up to 2 min) suit a background sender; here Send runs inside an HTTP request
// (POST /api/imports) and in the sweeper, and both prefer a prompt error: the
// video stays queued and the import-sweeper sends again later.
func clientOptions() *azservicebus.ClientOptions {
	return &azservicebus.ClientOptions{
		ApplicationID: "videofn",
		RetryOptions: azservicebus.RetryOptions{
			MaxRetries:    3,
			RetryDelay:    200 * time.Millisecond,
			MaxRetryDelay: 2 * time.Second,
		},
	}
}

func newServiceBus(connectionString, namespace string, cred azcore.TokenCredential, opts *azservicebus.ClientOptions) (*ServiceBus, error) {
	connectionString = strings.TrimSpace(connectionString)
	namespace = strings.TrimSpace(namespace)
	var (
		client *azservicebus.Client
		err    error
	)
	switch {
	case connectionString != "" && namespace != "":
		return nil, errors.New("service bus: set either a connection string or a fully qualified namespace, not both")
	case connectionString != "":
		client, err = azservicebus.NewClientFromConnectionString(connectionString, opts)
		if err != nil {
			// The SDK's parse errors name keys, never values; the connection
			// string itself is not repeated here because it holds the key.
			return nil, fmt.Errorf("service bus: invalid connection string: %w", err)
		}
	case namespace != "":
		if !namespacePattern.MatchString(namespace) {
			return nil, fmt.Errorf("service bus: invalid fully qualified namespace %q: want a host name such as example.servicebus.windows.net, without scheme, port or path", namespace)
		}
		if cred == nil {
			return nil, errors.New("service bus: a fully qualified namespace needs a credential")
		}
		client, err = azservicebus.NewClient(namespace, cred, opts)
		if err != nil {
			return nil, fmt.Errorf("service bus: %w", err)
		}
	default:
		return nil, errors.New("service bus: neither a connection string nor a fully qualified namespace is set")
	}
	return &ServiceBus{client: client, senders: map[string]*azservicebus.Sender{}}, nil
}

// Send sends m to queue with MessageId m.ID and ContentType application/json.
// It returns an error wrapping ErrInvalidMessage for a message Service Bus
// would refuse, ErrClosed after Close, and otherwise the SDK's error (an
// *azservicebus.Error for Service Bus failures) wrapped, once the SDK's own
// retries are exhausted or ctx ends. On error the message may or may not
// have been enqueued; sending it again with the same ID is safe when the
// queue has duplicate detection enabled.
func (sb *ServiceBus) Send(ctx context.Context, queue string, m Message) error {
	m = withTrace(ctx, m)
	if err := validate(queue, m); err != nil {
		return err
	}
	s, err := sb.sender(queue)
	if err != nil {
		return err
	}
	if err := s.SendMessage(ctx, toServiceBusMessage(m), nil); err != nil {
		return fmt.Errorf("send message %s to service bus queue %s: %w", m.ID, queue, err)
	}
	return nil
}

// sender returns the cached sender of queue, creating it on first use.
// Creating a sender makes no connection; the first SendMessage does.
func (sb *ServiceBus) sender(queue string) (*azservicebus.Sender, error) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.closed {
		return nil, ErrClosed
	}
	if s, ok := sb.senders[queue]; ok {
		return s, nil
	}
	s, err := sb.client.NewSender(queue, nil)
	if err != nil {
		return nil, fmt.Errorf("create service bus sender for queue %s: %w", queue, err)
	}
	sb.senders[queue] = s
	return s, nil
}

// Close closes every sender and the connection. Send returns ErrClosed
// afterwards; closing twice is a no-op.
func (sb *ServiceBus) Close(ctx context.Context) error {
	sb.mu.Lock()
	if sb.closed {
		sb.mu.Unlock()
		return nil
	}
	sb.closed = true
	senders := sb.senders
	sb.senders = nil
	sb.mu.Unlock()

	var errs []error
	for queue, s := range senders {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close service bus sender for queue %s: %w", queue, err))
		}
	}
	if err := sb.client.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close service bus client: %w", err))
	}
	return errors.Join(errs...)
}

// toServiceBusMessage is the message as it goes on the wire: the body as
// is, the ID as MessageId (what duplicate detection keys on),
// ContentType application/json, NotBefore as ScheduledEnqueueTime and the
// Traceparent as the application properties traceparent and Diagnostic-Id
// (the name the Azure SDKs and the Functions host read), both the same.
func toServiceBusMessage(m Message) *azservicebus.Message {
	id := m.ID
	contentType := contentTypeJSON
	msg := &azservicebus.Message{
		Body:        m.Body,
		MessageID:   &id,
		ContentType: &contentType,
	}
	if !m.NotBefore.IsZero() {
		t := m.NotBefore.UTC()
		msg.ScheduledEnqueueTime = &t
	}
	if m.Traceparent != "" {
		msg.ApplicationProperties = map[string]any{"traceparent": m.Traceparent, "Diagnostic-Id": m.Traceparent}
	}
	return msg
}
