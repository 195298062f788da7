package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// DeadLetter is one dead-lettered message, as `handler dlq` shows it.
type DeadLetter struct {
	// ID is the message's MessageId: what `dlq show|replay|purge` take.
	ID            string         `json:"id"`
	Body          []byte         `json:"body"`
	Reason        string         `json:"reason"`
	Description   string         `json:"description"`
	DeliveryCount int64          `json:"delivery_count"`
	EnqueuedAt    time.Time      `json:"enqueued_at"`
	DeadLettered  time.Time      `json:"dead_lettered_at,omitzero"`
	Properties    map[string]any `json:"properties,omitempty"`
}

// Selection names the dead letters a replay or purge acts on: every one
// (All) or those with the given IDs, never both and never neither.
type Selection struct {
	All bool
	IDs []string
}

// Validate refuses an empty or ambiguous selection: a purge of "nothing
// named" must not mean "everything".
func (s Selection) Validate() error {
	switch {
	case s.All && len(s.IDs) > 0:
		return errors.New("give either --all or message ids, not both")
	case !s.All && len(s.IDs) == 0:
		return errors.New("give message ids or --all")
	}
	return nil
}

func (s Selection) has(id string) bool {
	if s.All {
		return true
	}
	for _, x := range s.IDs {
		if x == id {
			return true
		}
	}
	return false
}

// DeadLetters is what `handler dlq` needs from a queue backend; Local and
// ServiceBus implement it.
type DeadLetters interface {
	// PeekDeadLetters returns up to max dead letters of queue without
	// changing them, oldest first.
	PeekDeadLetters(ctx context.Context, queue string, max int) ([]DeadLetter, error)
	// ReplayDeadLetters sends a copy of each selected dead letter to queue
	// (same body and application properties, a new message id) and removes
	// the dead letter once the copy is accepted. It returns the new ids by
	// old id.
	ReplayDeadLetters(ctx context.Context, queue string, sel Selection) (map[string]string, error)
	// PurgeDeadLetters deletes the selected dead letters and returns their ids.
	PurgeDeadLetters(ctx context.Context, queue string, sel Selection) ([]string, error)
}

var (
	_ DeadLetters = (*Local)(nil)
	_ DeadLetters = (*ServiceBus)(nil)
)

// ErrNoDeadLetter is returned (wrapped) when a named dead letter does not exist.
var ErrNoDeadLetter = errors.New("queue: no such dead letter")

// ReasonMaxDeliveries is the dead-letter reason of a message that reached
// the delivery limit (Service Bus' own reason string).
const ReasonMaxDeliveries = "MaxDeliveryCountExceeded"

// replayID returns a new message id for a replay of id: a random suffix (so
// a replay is never taken for a duplicate of the original, which Local keeps
// and Service Bus' duplicate detection remembers), the original prefix kept
// for tracing, within MaxMessageIDLength.
func replayID(id string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	suffix := ":replay:" + hex.EncodeToString(b[:])
	if r := []rune(id); len(r)+len([]rune(suffix)) > MaxMessageIDLength {
		id = string(r[:MaxMessageIDLength-len(suffix)])
	}
	return id + suffix
}

// PeekDeadLetters implements DeadLetters.
func (l *Local) PeekDeadLetters(ctx context.Context, queue string, max int) ([]DeadLetter, error) {
	if err := validateQueue(queue); err != nil {
		return nil, err
	}
	rows, err := l.pool.Query(ctx, `
		SELECT message_id, body, last_error, delivery_count, enqueued_at, dead_lettered_at, coalesce(traceparent, '')
		FROM queue_messages WHERE queue = $1 AND dead_lettered_at IS NOT NULL
		ORDER BY dead_lettered_at, id LIMIT $2`, queue, max)
	if err != nil {
		return nil, fmt.Errorf("list dead letters of local queue %s: %w", queue, err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		d := DeadLetter{Reason: ReasonMaxDeliveries}
		var tp string
		if err := rows.Scan(&d.ID, &d.Body, &d.Description, &d.DeliveryCount, &d.EnqueuedAt, &d.DeadLettered, &tp); err != nil {
			return nil, fmt.Errorf("list dead letters of local queue %s: %w", queue, err)
		}
		if tp != "" {
			// Shown as Service Bus shows it: an application property.
			d.Properties = map[string]any{"traceparent": tp}
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dead letters of local queue %s: %w", queue, err)
	}
	return out, nil
}

// ReplayDeadLetters implements DeadLetters. On the local queue the copy and
// the removal are one transaction: a crash leaves either the dead letter or
// its copy, never both and never neither.
func (l *Local) ReplayDeadLetters(ctx context.Context, queue string, sel Selection) (map[string]string, error) {
	return l.settleDeadLetters(ctx, queue, sel, true)
}

// PurgeDeadLetters implements DeadLetters.
func (l *Local) PurgeDeadLetters(ctx context.Context, queue string, sel Selection) ([]string, error) {
	m, err := l.settleDeadLetters(ctx, queue, sel, false)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids, nil
}

func (l *Local) settleDeadLetters(ctx context.Context, queue string, sel Selection, replay bool) (map[string]string, error) {
	if err := validateQueue(queue); err != nil {
		return nil, err
	}
	if err := sel.Validate(); err != nil {
		return nil, err
	}
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Locked so that two operators replaying at once do not copy a message twice.
	rows, err := tx.Query(ctx, `
		SELECT id, message_id, body, traceparent FROM queue_messages
		WHERE queue = $1 AND dead_lettered_at IS NOT NULL AND ($2 OR message_id = ANY($3))
		ORDER BY dead_lettered_at, id FOR UPDATE SKIP LOCKED`, queue, sel.All, sel.IDs)
	if err != nil {
		return nil, fmt.Errorf("select dead letters of local queue %s: %w", queue, err)
	}
	type row struct {
		id          string
		messageID   string
		body        []byte
		traceparent *string
	}
	var found []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.messageID, &r.body, &r.traceparent); err != nil {
			rows.Close()
			return nil, err
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !sel.All {
		for _, id := range sel.IDs {
			if !containsFunc(found, func(r row) bool { return r.messageID == id }) {
				return nil, fmt.Errorf("%w: %s on local queue %s", ErrNoDeadLetter, id, queue)
			}
		}
	}
	out := map[string]string{}
	for _, r := range found {
		if replay {
			newID := replayID(r.messageID)
			if _, err := tx.Exec(ctx, `
				INSERT INTO queue_messages (queue, message_id, body, enqueued_at, visible_at, traceparent)
				VALUES ($1, $2, $3, `+sqlNow(4)+`, `+sqlNow(4)+`, $5)`, queue, newID, r.body, l.clock(), r.traceparent); err != nil {
				return nil, fmt.Errorf("replay %s on local queue %s: %w", r.messageID, queue, err)
			}
			out[r.messageID] = newID
		} else {
			out[r.messageID] = ""
		}
		if _, err := tx.Exec(ctx, `DELETE FROM queue_messages WHERE id = $1`, r.id); err != nil {
			return nil, fmt.Errorf("remove dead letter %s of local queue %s: %w", r.messageID, queue, err)
		}
	}
	if replay && len(found) > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', $1)`, queue); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit dead letters of local queue %s: %w", queue, err)
	}
	return out, nil
}

func containsFunc[T any](s []T, f func(T) bool) bool {
	for _, x := range s {
		if f(x) {
			return true
		}
	}
	return false
}
