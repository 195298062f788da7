// Package processing is the video-processor's job on stored videos: it
// probes a ready video with ffprobe (duration, size, dimensions, frame
// rate, codecs, bit rate) and renders its poster, a JPEG frame, with ffmpeg
// (internal/mediatool: sandboxed, reading a short-lived read URL through a
// storage-only proxy; nothing touches the local disk). Dispatcher routes
// the processing queue's messages: probe here, clip to a ClipRenderer.
//
// Guarantees:
//   - a video stays playable (status ready) whatever processing does; its
//     processing has its own state: pending -> processing -> done | failed;
//   - a video ffprobe or ffmpeg cannot read ends failed with a reason in
//     words and nothing half-written: no metadata, no poster blob, no poster
//     row (the poster blob is written only once both tools have succeeded);
//   - the metadata and the poster's file_storage row (kind 'thumbnail',
//     counted in the quota) are recorded in one transaction, and only by
//     the current attempt (fencing, like imports): a redelivered or
//     concurrent message cannot record twice, and a finished video is left
//     alone. The poster blob has one fixed name per video, so however many
//     attempts ran there is one poster blob;
//   - permanent failures are recorded and acknowledged; transient ones
//     (storage, database) return an error so the message is redelivered,
//     and the sweeper sends a probe again for a video whose processing is
//     pending or running for too long.
package processing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/traceparent"
)

// Processing states, as stored in videos.processing_status.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusDone       = "done"
	StatusFailed     = "failed"
)

// Attempt numbers one attempt at processing a video; only the current
// (latest) attempt may finish or fail it.
type Attempt int64

// ErrNotCurrent is returned by Finish and Fail when the attempt is no
// longer current (another attempt took over, or processing ended);
// nothing was changed.
var ErrNotCurrent = errors.New("the processing attempt is no longer current")

// ErrGone is returned by FinishProcessing when the video no longer exists
// (deleted meanwhile); nothing was recorded.
var ErrGone = errors.New("the video no longer exists")

// Job is what the worker needs to know about one video.
type Job struct {
	VideoID uuid.UUID
	UserID  uuid.UUID
	// SourceBlob, SourceSnapshot and ContentType name what a read URL
	// reads: the checked snapshot of an upload, the blob of an import.
	SourceBlob     string
	SourceSnapshot string
	ContentType    string
}

// Metadata is what the probe found.
type Metadata struct {
	DurationSeconds float64
	SizeBytes       int64
	Width, Height   int
	FrameRate       float64 // 0: unknown
	VideoCodec      string
	AudioCodec      string // "": no sound
	BitRate         int64  // 0: unknown
}

// Poster is a committed poster blob.
type Poster struct {
	Container   string
	BlobName    string
	ContentType string
	SizeBytes   int64
}

// Store is the persistence of the job; each method is one short statement
// or transaction.
type Store interface {
	// StartProcessing starts a new attempt on a ready video whose
	// processing is pending or processing (taking it over from an attempt
	// that may be running), and returns the job. ok is false, and nothing
	// changes, for a video that is missing, not ready, or whose processing
	// is done, failed or not applicable.
	StartProcessing(ctx context.Context, id uuid.UUID) (j Job, a Attempt, ok bool, err error)
	// FinishProcessing records m and, when p is not nil, the poster's
	// file_storage row (replacing any earlier one), and marks processing
	// done, atomically, if a is the current attempt; ErrGone when the
	// video was deleted, ErrNotCurrent otherwise.
	FinishProcessing(ctx context.Context, id uuid.UUID, a Attempt, m Metadata, p *Poster) error
	// FailProcessing marks processing failed with reason if a is the
	// current attempt; ErrNotCurrent otherwise.
	FailProcessing(ctx context.Context, id uuid.UUID, a Attempt, reason string) error
}

// Signer issues read URLs (blob.Signer).
type Signer interface {
	ReadURL(ctx context.Context, name, snapshot, contentType string, expiry time.Time) (string, error)
}

// Blobs writes and deletes the poster blob.
type Blobs interface {
	// PutBlock stages data as the one block blockID of blob name and
	// commits it as the blob's whole content, with contentType.
	PutBlock(ctx context.Context, name, blockID string, data []byte, contentType string) error
	// DeleteBlob deletes a blob; a missing blob is not an error.
	DeleteBlob(ctx context.Context, name string) error
	ContainerName() string
}

// Tools runs the media tools (*mediatool.Runner).
type Tools interface {
	Probe(ctx context.Context, readURL string) (mediatool.Info, error)
	Start(ctx context.Context, args []string, inputURL string, opts ...mediatool.Option) (*mediatool.Process, error)
}

var _ Tools = (*mediatool.Runner)(nil)

// Options tune the Processor. Zero values take the defaults.
type Options struct {
	// ReadURLTTL is the lifetime of the read URL the tools get; default
	// 10 min.
	ReadURLTTL time.Duration
	// Timeout bounds one video's probe and poster; default 5 min.
	Timeout time.Duration
	// PosterMaxWidth caps the poster's width; default 1280.
	PosterMaxWidth int
	// PosterMaxBytes caps the poster JPEG; default 8 MiB.
	PosterMaxBytes int64
	Now            func() time.Time
}

// Processor probes videos and renders their posters.
type Processor struct {
	opts   Options
	store  Store
	signer Signer
	blobs  Blobs
	tools  Tools
	logger *slog.Logger
}

// New returns a Processor.
func New(o Options, store Store, signer Signer, blobs Blobs, tools Tools, logger *slog.Logger) *Processor {
	if o.ReadURLTTL == 0 {
		o.ReadURLTTL = 10 * time.Minute
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.PosterMaxWidth == 0 {
		o.PosterMaxWidth = 1280
	}
	if o.PosterMaxBytes == 0 {
		o.PosterMaxBytes = 8 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Processor{opts: o, store: store, signer: signer, blobs: blobs, tools: tools, logger: logger}
}

// PosterBlobName is the one name of a video's poster blob.
func PosterBlobName(userID, videoID uuid.UUID) string {
	return userID.String() + "/" + videoID.String() + "/poster.jpg"
}

// posterBlockID is the id of the poster's block for attempt a: two
// attempts never stage the same block id, so one cannot commit the block
// another staged.
func posterBlockID(a Attempt) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64([]byte("poster"), uint64(a)))
}

// Probe processes video id: probe, poster, record. It returns nil when the
// video is done, failed for good (recorded), or has nothing to process;
// an error only when a redelivery may succeed.
func (p *Processor) Probe(ctx context.Context, id uuid.UUID) error {
	job, a, ok, err := p.store.StartProcessing(ctx, id)
	if err != nil {
		return fmt.Errorf("start processing: %w", err)
	}
	if !ok {
		p.logger.Info("probe message for a video with nothing to process acknowledged", "video_id", id)
		return nil
	}
	log := traceparent.Logger(ctx, p.logger).With("video_id", id, "attempt", int64(a))
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()

	readURL, err := p.signer.ReadURL(ctx, job.SourceBlob, job.SourceSnapshot, job.ContentType, p.opts.Now().Add(p.opts.ReadURLTTL))
	if err != nil {
		return fmt.Errorf("sign read url: %w", err)
	}
	start := time.Now()
	info, err := p.tools.Probe(ctx, readURL)
	if err != nil {
		return p.failed(ctx, log, job, a, "probe", err)
	}
	log.Info("video probed", "duration_seconds", info.DurationSeconds, "width", info.Width, "height", info.Height,
		"video_codec", info.VideoCodec, "audio_codec", info.AudioCodec, "bytes_read", info.BytesRead, "elapsed", time.Since(start))

	jpeg, err := p.renderPoster(ctx, readURL, info.DurationSeconds)
	if err != nil {
		return p.failed(ctx, log, job, a, "poster", err)
	}
	name := PosterBlobName(job.UserID, job.VideoID)
	if err := p.blobs.PutBlock(ctx, name, posterBlockID(a), jpeg, "image/jpeg"); err != nil {
		return fmt.Errorf("store poster: %w", err)
	}
	m := Metadata{DurationSeconds: info.DurationSeconds, SizeBytes: info.SizeBytes, Width: info.Width, Height: info.Height,
		FrameRate: info.FrameRate, VideoCodec: info.VideoCodec, AudioCodec: info.AudioCodec, BitRate: info.BitRate}
	poster := &Poster{Container: p.blobs.ContainerName(), BlobName: name, ContentType: "image/jpeg", SizeBytes: int64(len(jpeg))}
	switch err := p.store.FinishProcessing(ctx, id, a, m, poster); {
	case errors.Is(err, ErrGone):
		// Deleted while we worked: its deletion may have listed the blobs
		// before this one existed.
		log.Info("video deleted during processing; deleting its poster")
		if err := p.blobs.DeleteBlob(context.WithoutCancel(ctx), name); err != nil {
			return fmt.Errorf("delete the poster of a deleted video: %w", err)
		}
		return nil
	case errors.Is(err, ErrNotCurrent):
		// Another attempt owns the video now; the poster blob (one name)
		// is the one it records.
		log.Info("processing taken over by another attempt; result dropped")
		return nil
	case err != nil:
		return fmt.Errorf("finish processing: %w", err)
	}
	log.Info("video processed", "poster_bytes", len(jpeg))
	return nil
}

// failed records a permanent failure of step, or returns a transient one
// for redelivery.
func (p *Processor) failed(ctx context.Context, log *slog.Logger, job Job, a Attempt, step string, err error) error {
	var ue *mediatool.UnreadableError
	if !errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", step, err)
	}
	log.Info("video unreadable", "step", step, "reason", ue.Reason)
	switch err := p.store.FailProcessing(ctx, job.VideoID, a, ue.Reason); {
	case errors.Is(err, ErrNotCurrent):
		return nil
	case err != nil:
		return fmt.Errorf("record failure: %w", err)
	}
	return nil
}

// posterTime is where the poster is taken: a tenth into the video, or 1 s
// into a short one (the middle of one shorter than 2 s).
func posterTime(duration float64) float64 {
	switch {
	case duration >= 10:
		return duration / 10
	case duration >= 2:
		return 1
	}
	return duration / 2
}

// renderPoster has ffmpeg write one JPEG frame at posterTime, at most
// PosterMaxWidth wide (aspect kept), to stdout. A seek that finds no frame
// (a stream that ends before the container says) falls back to the first
// frame.
func (p *Processor) renderPoster(ctx context.Context, readURL string, duration float64) ([]byte, error) {
	at := posterTime(duration)
	for {
		img, err := p.renderFrame(ctx, readURL, at)
		if err == nil && len(img) == 0 {
			err = &mediatool.UnreadableError{Reason: "the file has no picture that can be decoded"}
		}
		if err != nil && at > 0 && errors.Is(err, mediatool.ErrUnreadable) {
			at = 0
			continue
		}
		return img, err
	}
}

func (p *Processor) renderFrame(ctx context.Context, readURL string, at float64) ([]byte, error) {
	scale := "scale='min(" + strconv.Itoa(p.opts.PosterMaxWidth) + ",iw)':-2"
	args := []string{"-loglevel", "error",
		"-ss", strconv.FormatFloat(at, 'f', 3, 64), "-i", readURL,
		"-map", "0:v:0", "-frames:v", "1", "-an", "-sn", "-dn",
		"-vf", scale, "-q:v", "3", "-c:v", "mjpeg", "-f", "image2pipe", "pipe:1"}
	proc, err := p.tools.Start(ctx, args, readURL)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, readErr := io.Copy(&buf, io.LimitReader(proc.Stdout, p.opts.PosterMaxBytes+1))
	if int64(buf.Len()) > p.opts.PosterMaxBytes {
		proc.Kill()
		proc.Wait()
		return nil, &mediatool.UnreadableError{Reason: "the poster frame is too large"}
	}
	if err := proc.Wait(); err != nil {
		return nil, err
	}
	if readErr != nil {
		return nil, fmt.Errorf("read poster: %w", readErr)
	}
	return buf.Bytes(), nil
}
