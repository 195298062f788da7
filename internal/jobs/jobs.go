// Package jobs holds the handlers of the non-HTTP functions: the queue
// workers (import-worker, video-processor, publish-worker, mail-sender) and the
// import-sweeper timer.
//
// Every handler is idempotent: a message may be delivered more than once,
// and a message for a video that is gone or already finished is
// acknowledged without effect. Permanent failures are recorded and
// acknowledged; only transient failures return an error (redelivery).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/traceparent"
)

// ErrNotFound is returned by a VideoStore for a video that does not exist.
var ErrNotFound = errors.New("not found")

// VideoStore reads the state a worker needs before it acts.
type VideoStore interface {
	// VideoStatus returns the status of the video, or ErrNotFound.
	VideoStatus(ctx context.Context, id uuid.UUID) (string, error)
}

// Terminal reports whether a video status is final: a message for such a
// video has nothing left to do.
func Terminal(status string) bool {
	switch status {
	case "ready", "failed", "cancelled":
		return true
	}
	return false
}

// ErrJobUnavailable is returned for a message whose job this build cannot
// run yet. It is transient on purpose: the message is redelivered and, after
// the queue's delivery limit, dead-lettered, so it is never lost.
var ErrJobUnavailable = fmt.Errorf("%w: job not available in this build", httpapi.ErrUnavailable)

// Gatekeeper stands in front of a queue worker that does not check the
// video's state itself (today video-processor, whose job is not built): it
// acknowledges messages for videos that no longer exist or are already
// finished, and passes the rest to Next. With Next nil the job is not available yet (see
// ErrJobUnavailable).
type Gatekeeper struct {
	Name   string
	Videos VideoStore
	Next   httpapi.MessageHandler
	Logger *slog.Logger
}

var _ httpapi.MessageHandler = (*Gatekeeper)(nil)

// HandleMessage implements httpapi.MessageHandler.
func (g *Gatekeeper) HandleMessage(ctx context.Context, msg httpapi.QueueMessage, d httpapi.Delivery) error {
	status, err := g.Videos.VideoStatus(ctx, msg.VideoID)
	switch {
	case errors.Is(err, ErrNotFound):
		g.Logger.Info("message for a missing video acknowledged", "function", g.Name, "video_id", msg.VideoID, "message_id", d.MessageID)
		return nil
	case err != nil:
		return fmt.Errorf("%s: load video: %w", g.Name, err)
	case Terminal(status):
		g.Logger.Info("message for a finished video acknowledged", "function", g.Name, "video_id", msg.VideoID, "status", status, "message_id", d.MessageID, "delivery_count", d.DeliveryCount)
		return nil
	case g.Next == nil:
		return ErrJobUnavailable
	}
	return g.Next.HandleMessage(ctx, msg, d)
}

// Purger deletes expired authentication records.
type Purger interface {
	// PurgeExpired deletes auth tokens and sessions that expired before
	// cutoff and returns how many of each it deleted.
	PurgeExpired(ctx context.Context, cutoff time.Time) (tokens, sessions int64, err error)
}

// UploadSweeper cleans up direct uploads that were abandoned.
type UploadSweeper interface {
	// SweepUploads removes the uploads whose upload URL expired without a
	// completion, blobs included, and returns how many it cleaned up.
	SweepUploads(ctx context.Context, now time.Time) (int, error)
}

// ImportSweeper heals imports no worker is running.
type ImportSweeper interface {
	Sweep(ctx context.Context, now time.Time) (summary string, err error)
}

// MailSweeper heals the mail outbox (auth.Service.SweepMail).
type MailSweeper interface {
	SweepMail(ctx context.Context, now time.Time, retention time.Duration) (summary string, err error)
}

// Sweeper is the import-sweeper timer's job.
type Sweeper struct {
	Purger Purger
	// Uploads, when set, also cleans up abandoned uploads.
	Uploads UploadSweeper
	// Imports, when set, sends stranded imports again and fails old ones.
	Imports ImportSweeper
	// Clips, when set, sends stranded clips again and fails old ones
	// (clips.Service.Sweep).
	Clips ImportSweeper
	// Mail, when set, wakes the mail sender for mails whose message was
	// lost and deletes settled mails after Retention.
	Mail MailSweeper
	// Processing, when set, sends probes again for videos whose processing
	// is pending or running for too long, and gives up after a few
	// attempts (processing.Sweeper).
	Processing ImportSweeper
	// Posts, when set, sends the message of due posts still scheduled (a
	// lost message) and of posts whose publishing attempt died, and gives
	// up after a few attempts (posts.Sweeper).
	Posts ImportSweeper
	// Retention keeps expired records this long for investigation.
	Retention time.Duration
	Logger    *slog.Logger
}

var _ httpapi.Sweeper = (*Sweeper)(nil)

// Sweep implements httpapi.Sweeper.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (string, error) {
	tokens, sessions, err := s.Purger.PurgeExpired(ctx, now.Add(-s.Retention))
	if err != nil {
		return "", fmt.Errorf("sweep: %w", err)
	}
	s.Logger.Info("sweep", "expired_auth_tokens_deleted", tokens, "expired_sessions_deleted", sessions)
	summary := fmt.Sprintf("deleted %d expired auth tokens and %d expired sessions", tokens, sessions)
	if s.Uploads != nil {
		n, err := s.Uploads.SweepUploads(ctx, now)
		s.Logger.Info("sweep uploads", "stale_uploads_removed", n)
		if err != nil {
			return "", fmt.Errorf("sweep uploads: %w", err)
		}
		summary += fmt.Sprintf("; removed %d stale uploads", n)
	}
	if s.Imports != nil {
		sum, err := s.Imports.Sweep(ctx, now)
		if err != nil {
			return "", fmt.Errorf("sweep imports: %w", err)
		}
		s.Logger.Info("sweep imports", "summary", sum)
		summary += "; " + sum
	}
	if s.Clips != nil {
		sum, err := s.Clips.Sweep(ctx, now)
		if err != nil {
			return "", fmt.Errorf("sweep clips: %w", err)
		}
		s.Logger.Info("sweep clips", "summary", sum)
		summary += "; " + sum
	}
	if s.Processing != nil {
		sum, err := s.Processing.Sweep(ctx, now)
		if err != nil {
			return "", fmt.Errorf("sweep processing: %w", err)
		}
		s.Logger.Info("sweep processing", "summary", sum)
		summary += "; " + sum
	}
	if s.Posts != nil {
		sum, err := s.Posts.Sweep(ctx, now)
		if err != nil {
			return "", fmt.Errorf("sweep posts: %w", err)
		}
		s.Logger.Info("sweep posts", "summary", sum)
		summary += "; " + sum
	}
	if s.Mail != nil {
		sum, err := s.Mail.SweepMail(ctx, now, s.Retention)
		if err != nil {
			return "", fmt.Errorf("sweep mail: %w", err)
		}
		s.Logger.Info("sweep mail", "summary", sum)
		summary += "; " + sum
	}
	return summary, nil
}

// ImportRunner runs one import (importer.Importer.Run).
type ImportRunner interface {
	Run(ctx context.Context, videoID uuid.UUID) error
}

// Imports adapts an ImportRunner to the queue message contract.
type Imports struct{ Runner ImportRunner }

var _ httpapi.MessageHandler = Imports{}

// HandleMessage implements httpapi.MessageHandler.
func (i Imports) HandleMessage(ctx context.Context, msg httpapi.QueueMessage, d httpapi.Delivery) error {
	return i.Runner.Run(ctx, msg.VideoID)
}

// LocalHandler drives h from the local queue with the same message contract
// as the import-worker function: the body is decoded the same way, the
// message's trace context goes into ctx as the trigger puts it there, and an
// error asks for redelivery (a body that can never be decoded ends
// dead-lettered after the delivery limit, as on Service Bus).
func LocalHandler(h httpapi.MessageHandler) queue.Handler {
	return func(ctx context.Context, d queue.Delivery) error {
		ctx = traceparent.NewContext(ctx, d.Traceparent)
		msg, err := httpapi.DecodeQueueMessage(d.Body)
		if err != nil {
			return err
		}
		return h.HandleMessage(ctx, msg, httpapi.Delivery{MessageID: d.MessageID, DeliveryCount: d.DeliveryCount, EnqueuedTime: d.EnqueuedTime})
	}
}

// LocalMail drives the mail sender from the local queue with the same
// message contract as the mail-sender function ({"mail_id":"<uuid>"}).
// d is httpapi.MailHandler (auth.Service). A body that can never be decoded
// ends dead-lettered after the delivery limit, as on Service Bus.
func LocalMail(d httpapi.MailHandler) queue.Handler {
	return func(ctx context.Context, del queue.Delivery) error {
		ctx = traceparent.NewContext(ctx, del.Traceparent)
		id, err := auth.DecodeMailMessage(del.Body)
		if err != nil {
			return err
		}
		return d.DeliverMail(ctx, id)
	}
}

// Publisher publishes one post (posts.Worker): idempotent, records
// permanent failures itself, and returns an error only when a redelivery
// may succeed.
type Publisher interface {
	Publish(ctx context.Context, postID uuid.UUID) error
}

// Posts is the publish-worker function's handler ({"post_id"} messages).
type Posts struct {
	Publisher Publisher
	Logger    *slog.Logger
}

var _ httpapi.MessageHandler = Posts{}

// HandleMessage implements httpapi.MessageHandler. A message without
// post_id can never be processed: it is logged and acknowledged.
func (p Posts) HandleMessage(ctx context.Context, msg httpapi.QueueMessage, d httpapi.Delivery) error {
	if msg.PostID == nil {
		p.Logger.Error("publish message without post_id acknowledged", "message_id", d.MessageID)
		return nil
	}
	return p.Publisher.Publish(ctx, *msg.PostID)
}
