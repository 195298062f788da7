package posts

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/queue"
)

// Message is the body of a publish-queue message (API.md): {"post_id"}.
type Message struct {
	PostID uuid.UUID `json:"post_id"`
}

// Queue sends messages to the publish queue.
type Queue struct {
	Sender queue.Sender
	Name   string // PUBLISH_QUEUE
}

// Enqueue sends the message of post id to be delivered at at. Its
// MessageId, "publish:<post id>", makes a repeated send a duplicate.
func (q Queue) Enqueue(ctx context.Context, id uuid.UUID, at time.Time) error {
	return q.send(ctx, "publish:"+id.String(), id, at)
}

// resend sends the message of post id again (the sweeper), under a new
// MessageId for each sweep time.
func (q Queue) resend(ctx context.Context, id uuid.UUID, now time.Time) error {
	return q.send(ctx, "publish:"+id.String()+":"+strconv.FormatInt(now.UnixMicro(), 10), id, time.Time{})
}

func (q Queue) send(ctx context.Context, msgID string, id uuid.UUID, at time.Time) error {
	if q.Sender == nil {
		return fmt.Errorf("send %s: no publish queue", msgID)
	}
	body, err := json.Marshal(Message{PostID: id})
	if err != nil {
		return err
	}
	if err := q.Sender.Send(ctx, q.Name, queue.Message{ID: msgID, Body: body, NotBefore: at}); err != nil {
		return fmt.Errorf("send %s: %w", msgID, err)
	}
	return nil
}
