package processing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/queue"
)

// Queue sends messages to the processing queue.
type Queue struct {
	Sender queue.Sender
	Name   string // PROCESSING_QUEUE
}

// EnqueueProbe sends the probe message of a video that just became ready.
// Its MessageId, "probe:<video id>", makes a repeated send a duplicate.
func (q Queue) EnqueueProbe(ctx context.Context, videoID uuid.UUID) error {
	return q.send(ctx, "probe:"+videoID.String(), httpapi.QueueMessage{VideoID: videoID, Task: TaskProbe})
}

// resendProbe sends a probe again for processing last changed at since
// (the sweeper): a new MessageId per resend.
func (q Queue) resendProbe(ctx context.Context, videoID uuid.UUID, since time.Time) error {
	id := "probe:" + videoID.String() + ":" + strconv.FormatInt(since.UnixMicro(), 10)
	return q.send(ctx, id, httpapi.QueueMessage{VideoID: videoID, Task: TaskProbe})
}

// EnqueueClip sends the render message of a clip; attempt distinguishes
// sends that must not be taken for duplicates (a retry).
func (q Queue) EnqueueClip(ctx context.Context, videoID, clipID uuid.UUID, attempt int64) error {
	id := "clip:" + clipID.String() + ":" + strconv.FormatInt(attempt, 10)
	return q.send(ctx, id, httpapi.QueueMessage{VideoID: videoID, Task: TaskClip, ClipID: &clipID})
}

func (q Queue) send(ctx context.Context, id string, msg httpapi.QueueMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if err := q.Sender.Send(ctx, q.Name, queue.Message{ID: id, Body: body}); err != nil {
		return fmt.Errorf("send %s: %w", id, err)
	}
	return nil
}
