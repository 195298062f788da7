// Package clips makes short clips of stored videos (issue 11): the API side
// (create, list, read, delete, sweep) and the renderer the video-processor
// runs for a "clip" message. The renderer runs ffmpeg on a short-lived read
// URL of the source (input seek, so only the range is read), writes
// fragmented MP4 to a pipe and stages it into the clip's own blob in
// blocks, never to local disk. Like imports it numbers its attempts, so a
// redelivered or concurrent message cannot commit twice.
package clips

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
)

// Aspects a clip may have.
const (
	AspectOriginal = "original"
	AspectVertical = "9:16"
)

// Statuses of a clip.
const (
	StatusQueued     = "queued"
	StatusProcessing = "processing"
	StatusReady      = "ready"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
)

// MinSeconds is the shortest clip.
const MinSeconds = 0.5

// MaxTitleLength bounds a clip title, in characters.
const MaxTitleLength = 200

// Errors of the API side.
var (
	ErrNotFound      = errors.New("clip not found")
	ErrVideoNotFound = errors.New("video not found")
	ErrVideoNotReady = errors.New("the video is not ready or not yet probed")
	ErrTooManyClips  = errors.New("too many clips in flight")
	// ErrNotCurrent is returned by the renderer's store when an attempt is
	// no longer the clip's current one (see imports).
	ErrNotCurrent = errors.New("the clip attempt is no longer current")
	// ErrQuota is returned by Finish when the clip does not fit in the
	// user's storage quota.
	ErrQuota = errors.New("the storage quota is full")
)

// ValidationError says which fields of a clip request are invalid.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid clip: %v", e.Fields) }

// Attempt numbers one attempt at rendering a clip.
type Attempt int64

// Clip is a stored clip.
type Clip struct {
	ID              uuid.UUID
	VideoID         uuid.UUID
	UserID          uuid.UUID
	Title           string
	StartSeconds    float64
	EndSeconds      float64
	Aspect          string
	Status          string
	Error           string
	DurationSeconds *float64
	Width           *int
	Height          *int
	SizeBytes       *int64
	BlobName        string
	Attempt         Attempt
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// InFlight reports whether the clip is still queued or processing.
func (c Clip) InFlight() bool { return c.Status == StatusQueued || c.Status == StatusProcessing }

// Request is what a user asks for.
type Request struct {
	Title        string
	StartSeconds float64
	EndSeconds   float64
	Aspect       string
}

// BlobName is the blob a clip is rendered into: fixed at creation, so that
// every attempt writes the same blob and deletion knows it before it exists.
func BlobName(userID, videoID, clipID uuid.UUID) string {
	return userID.String() + "/" + videoID.String() + "/clips/" + clipID.String() + ".mp4"
}

// Store is the persistence of the API side.
type Store interface {
	// CreateClip inserts a queued clip of the user's video, atomically
	// with the checks: ErrVideoNotFound when the video is not the user's,
	// ErrVideoNotReady when it is not ready or has no probed duration,
	// check's error when the range does not fit the duration, and
	// ErrTooManyClips when the user has maxInFlight clips queued or
	// processing.
	CreateClip(ctx context.Context, c Clip, maxInFlight int, check func(duration float64) error) (Clip, error)
	// Clip returns the user's clip, or ErrNotFound.
	Clip(ctx context.Context, userID, id uuid.UUID) (Clip, error)
	// Clips returns the clips of the user's video, oldest first;
	// ErrVideoNotFound when the video is not the user's.
	Clips(ctx context.Context, userID, videoID uuid.UUID) ([]Clip, error)
	// DeleteClip deletes the clip's row (and its file_storage row).
	DeleteClip(ctx context.Context, id uuid.UUID) error
	// StaleClips lists clips queued since before queuedBefore or processing
	// without a heartbeat since before processingBefore, at most limit.
	StaleClips(ctx context.Context, queuedBefore, processingBefore time.Time, limit int) ([]Clip, error)
	// Requeue sets a stale clip back to queued (touching updated_at) and
	// returns the new row; ok is false when it changed meanwhile.
	Requeue(ctx context.Context, c Clip) (Clip, bool, error)
	// FailStale marks a clip that is still queued or processing failed.
	FailStale(ctx context.Context, id uuid.UUID, message string) error
}

// Signer makes short-lived read URLs (blob.Signer).
type Signer interface {
	ReadURL(ctx context.Context, name, snapshot, contentType string, expiry time.Time) (string, error)
}

// Deleter deletes blobs; a missing blob is not an error.
type Deleter interface {
	Delete(ctx context.Context, name string) error
}

// ProgressReader reads a clip's progress.
type ProgressReader interface {
	Get(ctx context.Context, id uuid.UUID) (Progress, bool, error)
}

// ServiceOptions configure the API side.
type ServiceOptions struct {
	Queue       string          // the processing queue
	MaxSeconds  float64         // longest clip (CLIP_MAX_SECONDS), default 180
	MaxInFlight int             // clips queued or processing per user (CLIPS_IN_FLIGHT_PER_USER), default 3
	PerUser     ratelimit.Limit // clips a user may create, default 60 per hour
	ReadURLTTL  time.Duration   // playback URLs, default 15 min
	// QueuedTimeout: a clip queued this long is sent again; default 2 min.
	QueuedTimeout time.Duration
	// StaleWorker: a clip processing without a heartbeat this long is
	// queued again; default 2 min (the renderer beats every 20 s).
	StaleWorker time.Duration
	// GiveUpAfter: a clip older than this that is still in flight fails;
	// default 1 h.
	GiveUpAfter time.Duration
	Now         func() time.Time
}

// Service is the API side of clips.
type Service struct {
	opts     ServiceOptions
	store    Store
	signer   Signer
	blobs    Deleter
	sender   queue.Sender
	progress ProgressReader
	limiter  ratelimit.Checker
	logger   *slog.Logger
}

// NewService returns a Service.
func NewService(o ServiceOptions, store Store, signer Signer, blobs Deleter, sender queue.Sender, progress ProgressReader, limiter ratelimit.Checker, logger *slog.Logger) *Service {
	if o.MaxSeconds == 0 {
		o.MaxSeconds = 180
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 3
	}
	if o.PerUser == (ratelimit.Limit{}) {
		o.PerUser = ratelimit.PerHour(60)
	}
	if o.ReadURLTTL == 0 {
		o.ReadURLTTL = 15 * time.Minute
	}
	if o.QueuedTimeout == 0 {
		o.QueuedTimeout = 2 * time.Minute
	}
	if o.StaleWorker == 0 {
		o.StaleWorker = 2 * time.Minute
	}
	if o.GiveUpAfter == 0 {
		o.GiveUpAfter = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{opts: o, store: store, signer: signer, blobs: blobs, sender: sender, progress: progress, limiter: limiter, logger: logger}
}

// MaxSeconds is the longest clip the service accepts.
func (s *Service) MaxSeconds() float64 { return s.opts.MaxSeconds }

// validate checks what can be checked without the video.
func (s *Service) validate(r Request) map[string]string {
	fields := map[string]string{}
	if utf8.RuneCountInString(r.Title) > MaxTitleLength {
		fields["title"] = fmt.Sprintf("must be at most %d characters", MaxTitleLength)
	}
	if r.Aspect != AspectOriginal && r.Aspect != AspectVertical {
		fields["aspect"] = `must be "original" or "9:16"`
	}
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case !finite(r.StartSeconds) || r.StartSeconds < 0:
		fields["start_seconds"] = "must be a number of seconds, 0 or more"
	case !finite(r.EndSeconds):
		fields["end_seconds"] = "must be a number of seconds"
	case r.EndSeconds <= r.StartSeconds:
		fields["end_seconds"] = "must be after start_seconds"
	case r.EndSeconds-r.StartSeconds < MinSeconds:
		fields["end_seconds"] = fmt.Sprintf("the clip must be at least %s seconds long", seconds(MinSeconds))
	case r.EndSeconds-r.StartSeconds > s.opts.MaxSeconds:
		fields["end_seconds"] = fmt.Sprintf("the clip must be at most %s seconds long", seconds(s.opts.MaxSeconds))
	}
	return fields
}

func seconds(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Create validates the request, enforces the per-user limits, records the
// clip as queued and sends its message. If the send fails the clip stays
// queued and the sweeper sends it again.
func (s *Service) Create(ctx context.Context, userID, videoID uuid.UUID, r Request) (Clip, error) {
	r.Title = strings.TrimSpace(r.Title)
	if fields := s.validate(r); len(fields) > 0 {
		return Clip{}, &ValidationError{Fields: fields}
	}
	if err := ratelimit.Enforce(ctx, s.limiter, ratelimit.Rule{Name: "clip:user", Subject: userID.String(), Limit: s.opts.PerUser}); err != nil {
		return Clip{}, err
	}
	id := uuid.New()
	c := Clip{
		ID: id, VideoID: videoID, UserID: userID, Title: r.Title,
		StartSeconds: r.StartSeconds, EndSeconds: r.EndSeconds, Aspect: r.Aspect,
		Status: StatusQueued, BlobName: BlobName(userID, videoID, id),
	}
	c, err := s.store.CreateClip(ctx, c, s.opts.MaxInFlight, func(duration float64) error {
		if r.EndSeconds > duration {
			return &ValidationError{Fields: map[string]string{
				"end_seconds": fmt.Sprintf("must be at most the video's duration, %s seconds", seconds(math.Floor(duration*1000)/1000)),
			}}
		}
		return nil
	})
	if err != nil {
		return Clip{}, err
	}
	if err := s.send(ctx, c); err != nil {
		s.logger.Error("clip message not sent; the sweeper will send it again", "clip_id", c.ID, "err", err.Error())
	}
	return c, nil
}

// messageID repeats for a repeated send of the same enqueue and differs
// when the sweeper queues the clip again.
func messageID(c Clip) string {
	return "clip:" + c.ID.String() + ":" + strconv.FormatInt(c.UpdatedAt.UnixMicro(), 10)
}

func (s *Service) send(ctx context.Context, c Clip) error {
	body := fmt.Appendf(nil, `{"video_id":%q,"task":"clip","clip_id":%q}`, c.VideoID.String(), c.ID.String())
	return s.sender.Send(ctx, s.opts.Queue, queue.Message{ID: messageID(c), Body: body})
}

// Playback is a short-lived URL to read a ready clip.
type Playback struct {
	URL       string
	ExpiresAt time.Time
}

// View is a clip as the API shows it.
type View struct {
	Clip     Clip
	Playback *Playback // when ready
	Progress *Progress // while queued or processing
}

// Get returns the user's clip with a playback URL when it is ready and its
// progress while it runs; ErrNotFound for another user's clip.
func (s *Service) Get(ctx context.Context, userID, id uuid.UUID) (View, error) {
	c, err := s.store.Clip(ctx, userID, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, c, true)
}

func (s *Service) view(ctx context.Context, c Clip, withProgress bool) (View, error) {
	v := View{Clip: c}
	switch {
	case c.Status == StatusReady:
		expires := s.opts.Now().Add(s.opts.ReadURLTTL).UTC().Truncate(time.Second)
		url, err := s.signer.ReadURL(ctx, c.BlobName, "", "video/mp4", expires)
		if err != nil {
			return View{}, fmt.Errorf("sign clip read url: %w", err)
		}
		v.Playback = &Playback{URL: url, ExpiresAt: expires}
	case c.InFlight() && withProgress:
		p := Progress{UpdatedAt: c.UpdatedAt.UTC()}
		if got, ok, err := s.progress.Get(ctx, c.ID); err == nil && ok {
			p = got
		} else if err != nil {
			s.logger.Warn("clip progress read failed; answering without it", "err", err.Error())
		}
		v.Progress = &p
	}
	return v, nil
}

// List returns the clips of the user's video, oldest first, with playback
// URLs for the ready ones and the progress of the running ones.
func (s *Service) List(ctx context.Context, userID, videoID uuid.UUID) ([]View, error) {
	cs, err := s.store.Clips(ctx, userID, videoID)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(cs))
	for _, c := range cs {
		v, err := s.view(ctx, c, true)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Delete deletes the user's clip: its blob first, then its rows. A worker
// still rendering it finds the clip gone when it records its result and
// deletes what it committed. ErrNotFound for another user's clip.
func (s *Service) Delete(ctx context.Context, userID, id uuid.UUID) error {
	c, err := s.store.Clip(ctx, userID, id)
	if err != nil {
		return err
	}
	if err := s.blobs.Delete(ctx, c.BlobName); err != nil {
		return fmt.Errorf("delete clip blob: %w", err)
	}
	if err := s.store.DeleteClip(ctx, id); err != nil {
		return err
	}
	s.logger.Info("clip deleted", "clip_id", id, "user_id", userID)
	return nil
}

// sweepBatch bounds the clips one sweep heals.
const sweepBatch = 200

// Sweep heals clips no worker is running: queued ones whose message may be
// lost are sent again, processing ones whose worker stopped beating are
// queued again, and any still in flight after GiveUpAfter fails.
func (s *Service) Sweep(ctx context.Context, now time.Time) (string, error) {
	stale, err := s.store.StaleClips(ctx, now.Add(-s.opts.QueuedTimeout), now.Add(-s.opts.StaleWorker), sweepBatch)
	if err != nil {
		return "", fmt.Errorf("stale clips: %w", err)
	}
	var resent, failed int
	for _, c := range stale {
		if now.Sub(c.CreatedAt) > s.opts.GiveUpAfter {
			if err := s.store.FailStale(ctx, c.ID, "the clip could not be made in time; try again"); err != nil {
				return "", err
			}
			failed++
			continue
		}
		next, ok, err := s.store.Requeue(ctx, c)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if err := s.send(ctx, next); err != nil {
			return "", fmt.Errorf("send clip again: %w", err)
		}
		resent++
	}
	return fmt.Sprintf("%d clips sent again, %d failed as stale", resent, failed), nil
}
