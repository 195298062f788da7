package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// dlqReceiveWait bounds how long one receive on the dead-letter sub-queue
// waits for a message: an empty sub-queue ends a replay or purge after it.
const dlqReceiveWait = 5 * time.Second

func (sb *ServiceBus) deadLetterReceiver(queue string) (*azservicebus.Receiver, error) {
	if err := validateQueue(queue); err != nil {
		return nil, err
	}
	sb.mu.Lock()
	closed := sb.closed
	sb.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	r, err := sb.client.NewReceiverForQueue(queue, &azservicebus.ReceiverOptions{
		ReceiveMode: azservicebus.ReceiveModePeekLock,
		SubQueue:    azservicebus.SubQueueDeadLetter,
	})
	if err != nil {
		return nil, fmt.Errorf("open dead-letter receiver of service bus queue %s: %w", queue, err)
	}
	return r, nil
}

// PeekDeadLetters implements DeadLetters with PeekMessages: nothing is
// locked or changed.
func (sb *ServiceBus) PeekDeadLetters(ctx context.Context, queue string, max int) ([]DeadLetter, error) {
	r, err := sb.deadLetterReceiver(queue)
	if err != nil {
		return nil, err
	}
	defer r.Close(context.WithoutCancel(ctx))
	var out []DeadLetter
	for len(out) < max {
		msgs, err := r.PeekMessages(ctx, max-len(out), nil)
		if err != nil {
			return nil, fmt.Errorf("peek dead letters of service bus queue %s: %w", queue, err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			out = append(out, fromServiceBusDeadLetter(m))
		}
	}
	return out, nil
}

// ReplayDeadLetters implements DeadLetters: each selected dead letter is
// received (peek-lock), copied to queue with a new message id, and completed
// only after the send succeeded. A crash between the two leaves the copy
// sent and the dead letter in place (its lock expires): replaying it again
// sends a second copy, so check `dlq list` after a failed replay. Dead
// letters that are not selected are abandoned (left as they are).
func (sb *ServiceBus) ReplayDeadLetters(ctx context.Context, queue string, sel Selection) (map[string]string, error) {
	out := map[string]string{}
	err := sb.eachDeadLetter(ctx, queue, sel, func(r *azservicebus.Receiver, m *azservicebus.ReceivedMessage) error {
		s, err := sb.sender(queue)
		if err != nil {
			return err
		}
		c := replayCopy(m)
		if err := s.SendMessage(ctx, c, nil); err != nil {
			return fmt.Errorf("replay %s to service bus queue %s: %w", m.MessageID, queue, err)
		}
		if err := r.CompleteMessage(ctx, m, nil); err != nil {
			return fmt.Errorf("replayed %s as %s but could not remove the dead letter: %w", m.MessageID, *c.MessageID, err)
		}
		out[m.MessageID] = *c.MessageID
		return nil
	})
	return out, err
}

// PurgeDeadLetters implements DeadLetters: receive and complete.
func (sb *ServiceBus) PurgeDeadLetters(ctx context.Context, queue string, sel Selection) ([]string, error) {
	var out []string
	err := sb.eachDeadLetter(ctx, queue, sel, func(r *azservicebus.Receiver, m *azservicebus.ReceivedMessage) error {
		if err := r.CompleteMessage(ctx, m, nil); err != nil {
			return fmt.Errorf("purge %s of service bus queue %s: %w", m.MessageID, queue, err)
		}
		out = append(out, m.MessageID)
		return nil
	})
	return out, err
}

// eachDeadLetter receives the dead letters of queue until the sub-queue is
// empty (or every named id was handled) and calls fn for the selected ones;
// the others are abandoned.
func (sb *ServiceBus) eachDeadLetter(ctx context.Context, queue string, sel Selection, fn func(*azservicebus.Receiver, *azservicebus.ReceivedMessage) error) error {
	if err := sel.Validate(); err != nil {
		return err
	}
	r, err := sb.deadLetterReceiver(queue)
	if err != nil {
		return err
	}
	defer r.Close(context.WithoutCancel(ctx))
	pending := map[string]bool{}
	for _, id := range sel.IDs {
		pending[id] = true
	}
	seen := map[string]bool{}
	for sel.All || len(pending) > 0 {
		wait, cancel := context.WithTimeout(ctx, dlqReceiveWait)
		msgs, err := r.ReceiveMessages(wait, 32, nil)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("receive dead letters of service bus queue %s: %w", queue, err)
		}
		if len(msgs) == 0 {
			break
		}
		again := false
		for _, m := range msgs {
			if !sel.has(m.MessageID) || seen[m.MessageID] {
				again = again || seen[m.MessageID]
				seen[m.MessageID] = true
				if err := r.AbandonMessage(ctx, m, nil); err != nil {
					return fmt.Errorf("abandon dead letter %s of service bus queue %s: %w", m.MessageID, queue, err)
				}
				continue
			}
			seen[m.MessageID] = true
			delete(pending, m.MessageID)
			if err := fn(r, m); err != nil {
				return err
			}
		}
		if again {
			break // went round the whole sub-queue
		}
	}
	for id := range pending {
		return fmt.Errorf("%w: %s on service bus queue %s", ErrNoDeadLetter, id, queue)
	}
	return nil
}

// fromServiceBusDeadLetter maps a received dead letter for `dlq`.
func fromServiceBusDeadLetter(m *azservicebus.ReceivedMessage) DeadLetter {
	d := DeadLetter{
		ID:            m.MessageID,
		Body:          m.Body,
		DeliveryCount: int64(m.DeliveryCount),
		Properties:    m.ApplicationProperties,
	}
	if m.DeadLetterReason != nil {
		d.Reason = *m.DeadLetterReason
	}
	if m.DeadLetterErrorDescription != nil {
		d.Description = *m.DeadLetterErrorDescription
	}
	if m.EnqueuedTime != nil {
		d.EnqueuedAt = *m.EnqueuedTime
	}
	return d
}

// replayCopy is the message a replay sends for dead letter m: the same body,
// application properties, content type, correlation id and subject, and a
// new message id. Nothing about the dead-lettering is carried over.
func replayCopy(m *azservicebus.ReceivedMessage) *azservicebus.Message {
	id := replayID(m.MessageID)
	return &azservicebus.Message{
		MessageID:             &id,
		Body:                  m.Body,
		ApplicationProperties: maps.Clone(m.ApplicationProperties),
		ContentType:           m.ContentType,
		CorrelationID:         m.CorrelationID,
		Subject:               m.Subject,
		PartitionKey:          m.PartitionKey,
		SessionID:             m.SessionID,
		TimeToLive:            m.TimeToLive,
	}
}
