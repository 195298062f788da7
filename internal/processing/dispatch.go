package processing

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/httpapi"
)

// Tasks of the processing queue (QueueMessage.Task).
const (
	TaskProbe = "probe" // also the task of a message without one
	TaskClip  = "clip"
)

// ClipRenderer renders one clip (the clips package). Like every message
// handler it is idempotent, records permanent failures itself and returns
// an error only when a redelivery may succeed.
type ClipRenderer interface {
	RenderClip(ctx context.Context, clipID uuid.UUID, d httpapi.Delivery) error
}

// Prober runs the probe task (*Processor).
type Prober interface {
	Probe(ctx context.Context, videoID uuid.UUID) error
}

// Dispatcher is the video-processor function's handler: it routes each
// message by task. A message it can never process (an unknown task, a clip
// task without clip_id) is logged and acknowledged.
type Dispatcher struct {
	Probes Prober
	// Clips renders clip tasks; nil leaves them unavailable (redelivered,
	// then dead-lettered: never lost).
	Clips  ClipRenderer
	Logger *slog.Logger
}

var _ httpapi.MessageHandler = (*Dispatcher)(nil)

// HandleMessage implements httpapi.MessageHandler.
func (d *Dispatcher) HandleMessage(ctx context.Context, msg httpapi.QueueMessage, del httpapi.Delivery) error {
	switch msg.Task {
	case "", TaskProbe:
		return d.Probes.Probe(ctx, msg.VideoID)
	case TaskClip:
		if msg.ClipID == nil {
			d.Logger.Error("clip message without clip_id acknowledged", "video_id", msg.VideoID, "message_id", del.MessageID)
			return nil
		}
		if d.Clips == nil {
			return fmt.Errorf("%w: clip rendering is not available in this build", httpapi.ErrUnavailable)
		}
		return d.Clips.RenderClip(ctx, *msg.ClipID, del)
	}
	d.Logger.Error("message with an unknown task acknowledged", "task", msg.Task, "video_id", msg.VideoID, "message_id", del.MessageID)
	return nil
}
