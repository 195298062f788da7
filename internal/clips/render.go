package clips

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/fence"
	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/traceparent"
)

// Tool runs ffmpeg and ffprobe (*mediatool.Runner).
type Tool interface {
	Start(ctx context.Context, args []string, inputURL string, opts ...mediatool.Option) (*mediatool.Process, error)
	Probe(ctx context.Context, readURL string) (mediatool.Info, error)
}

// ProgressSetter stores progress for the API.
type ProgressSetter interface {
	Set(ctx context.Context, id uuid.UUID, p Progress) error
}

// RenderOptions tune the renderer. Zero values take the defaults.
type RenderOptions struct {
	// QuotaBytes is each user's storage quota; 0 means none.
	QuotaBytes int64
	// MaxBytes caps one clip's file; default 4 GiB.
	MaxBytes int64
	// BlockSize and InFlight: see importer.StageOptions.
	BlockSize int
	InFlight  int
	// Timeout bounds one render; default 20 min. The source's read URL is
	// valid for as long.
	Timeout          time.Duration
	ProgressInterval time.Duration // default 500 ms
	CancelPoll       time.Duration // default 1 s
	HeartbeatEvery   time.Duration // default 20 s
}

// Renderer renders clips: the video-processor's "clip" task.
type Renderer struct {
	opts     RenderOptions
	store    RenderStore
	blobs    importer.Blobs
	signer   Signer
	tool     Tool
	progress ProgressSetter
	logger   *slog.Logger
}

// NewRenderer returns a Renderer.
func NewRenderer(o RenderOptions, store RenderStore, blobs importer.Blobs, signer Signer, tool Tool, progress ProgressSetter, logger *slog.Logger) *Renderer {
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 30
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Minute
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = 500 * time.Millisecond
	}
	if o.CancelPoll == 0 {
		o.CancelPoll = time.Second
	}
	if o.HeartbeatEvery == 0 {
		o.HeartbeatEvery = 20 * time.Second
	}
	return &Renderer{opts: o, store: store, blobs: blobs, signer: signer, tool: tool, progress: progress, logger: logger}
}

// permanent is a failure recorded on the clip; the message is done.
type permanent struct{ msg string }

func (p permanent) Error() string { return p.msg }

var (
	errGone       = errors.New("clip deleted")
	errNotCurrent = fmt.Errorf("stopped: %w", ErrNotCurrent)
)

// postCommitTimeout bounds each step after the commit, which runs on a
// context the delivery's cancellation cannot abort.
const postCommitTimeout = 30 * time.Second

// Run renders clip id. It returns nil when the message is done (ready,
// failed for good, deleted, nothing to do, or another attempt owns the
// clip) and an error when a redelivery may succeed.
//
// Each Run that does work is one attempt (StartRender), and the newest
// delivery wins, as for imports: an attempt that is no longer current
// stops within CancelPoll and commits nothing, and the attempt number in
// its block IDs keeps its blocks apart from the winner's. A ready clip is
// left alone, so a redelivery does no work twice.
func (r *Renderer) Run(ctx context.Context, id uuid.UUID) error {
	job, err := r.store.RenderJob(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load clip: %w", err)
	}
	log := traceparent.Logger(ctx, r.logger).With("clip_id", id, "video_id", job.VideoID)
	attempt, ok, err := r.store.StartRender(ctx, id)
	if err != nil {
		return fmt.Errorf("start clip: %w", err)
	}
	if !ok {
		log.Info("clip has nothing to do", "status", job.Status)
		return r.discardBlob(ctx, job)
	}
	log = log.With("attempt", attempt)
	still := context.WithoutCancel(ctx)
	pw := &progressWriter{store: r.progress, id: id, interval: r.opts.ProgressInterval, onError: func(err error) {
		log.Warn("clip progress not written", "err", err.Error())
	}}
	zero := 0.0
	pw.set(ctx, &zero, true)

	res, err := r.render(ctx, job, attempt, pw, log)
	var perm permanent
	switch {
	case errors.Is(err, errNotCurrent):
		log.Info("clip attempt superseded or ended elsewhere; stopped without changes")
		return nil
	case errors.Is(err, errGone):
		log.Info("clip deleted while rendering")
		return r.discardBlob(still, job)
	case errors.As(err, &perm):
		return r.fail(still, job, attempt, perm.msg, log)
	case err != nil:
		return err
	}
	finishCtx, cancel := context.WithTimeout(still, postCommitTimeout)
	err = r.store.Finish(finishCtx, id, attempt, res, r.opts.QuotaBytes)
	cancel()
	switch {
	case errors.Is(err, ErrQuota):
		return r.fail(still, job, attempt, "the clip does not fit in your storage quota", log)
	case errors.Is(err, ErrNotCurrent):
		log.Info("clip attempt superseded before it finished; the blob is left to the current attempt")
		return nil
	case errors.Is(err, ErrNotFound):
		log.Info("clip deleted at the end; deleting the blob")
		return r.discardBlob(still, job)
	case err != nil:
		return fmt.Errorf("record clip: %w", err)
	}
	hundred := 100.0
	pw.set(still, &hundred, true)
	log.Info("clip ready", "bytes", res.Size, "duration", res.DurationSeconds, "width", res.Width, "height", res.Height)
	return nil
}

// fail records a permanent failure of attempt a, then deletes a blob an
// attempt may have committed (the clip can never become ready).
func (r *Renderer) fail(ctx context.Context, job Job, a Attempt, msg string, log *slog.Logger) error {
	err := r.store.Fail(ctx, job.ID, a, msg)
	if errors.Is(err, ErrNotCurrent) {
		log.Info("clip attempt superseded before its failure was recorded", "reason", msg)
		return nil
	}
	if err != nil {
		return fmt.Errorf("record clip failure: %w", err)
	}
	log.Info("clip failed", "reason", msg)
	return r.discardBlob(ctx, job)
}

// discardBlob deletes the clip's blob when the clip can never become
// ready: failed, cancelled or gone. A ready clip keeps it, and so does one
// in flight (another attempt owns the name).
func (r *Renderer) discardBlob(ctx context.Context, job Job) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	status, _, err := r.store.Status(ctx, job.ID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("clip status: %w", err)
	case status != StatusFailed && status != StatusCancelled:
		return nil
	}
	if err := r.blobs.DeleteBlob(ctx, job.BlobName); err != nil {
		return fmt.Errorf("delete the blob of an ended clip: %w", err)
	}
	return nil
}

// Args returns ffmpeg's arguments (without the program) for a clip of
// inputURL from start for dur seconds: input seek (-ss before -i, so only
// the range is read), stream copy when copy is set, otherwise H.264/AAC
// with the 9:16 crop when vertical, and fragmented MP4 on stdout, progress
// on stderr.
func Args(inputURL string, start, dur float64, vertical, copy bool) []string {
	args := []string{"-ss", formatSeconds(start), "-i", inputURL, "-t", formatSeconds(dur),
		"-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1"}
	if copy {
		args = append(args, "-c", "copy", "-avoid_negative_ts", "make_zero")
	} else {
		if vertical {
			args = append(args, "-vf", VerticalFilter)
		}
		args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
			"-c:a", "aac", "-b:a", "128k")
	}
	return append(args, "-movflags", "frag_keyframe+empty_moov+default_base_moof",
		"-progress", "pipe:2", "-nostats", "-f", "mp4", "pipe:1")
}

// VerticalFilter crops the centre of the frame to 9:16 (even dimensions)
// and scales it down to at most 1080x1920.
const VerticalFilter = "crop=w='trunc(min(iw,ih*9/16)/2)*2':h='trunc(min(ih,iw*16/9)/2)*2'," +
	"scale=w='min(1080,iw)':h=-2,setsar=1"

func formatSeconds(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// canCopy reports whether the clip can be cut without re-encoding: the
// original frame, from the very start (input seek with stream copy starts
// at the keyframe before the cut, which only the first frame is sure to
// be), of an MP4 source whose codecs MP4 carries.
func canCopy(job Job) bool {
	return job.Aspect == AspectOriginal && job.StartSeconds == 0 && job.ContentType == "video/mp4"
}

// render runs ffmpeg into the clip's blob, commits it and probes it back.
func (r *Renderer) render(parent context.Context, job Job, attempt Attempt, pw *progressWriter, log *slog.Logger) (Result, error) {
	if job.VideoStatus != "ready" || job.SourceBlob == "" {
		return Result{}, permanent{"the video is no longer available"}
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	ctx, stopTimeout := context.WithTimeoutCause(ctx, r.opts.Timeout, permanent{fmt.Sprintf("making the clip took longer than %s", r.opts.Timeout)})
	defer stopTimeout()
	go r.watch(ctx, job.ID, attempt, cancel, log)

	limit, quotaBound := r.opts.MaxBytes, false
	if r.opts.QuotaBytes > 0 {
		free, err := r.store.FreeBytes(ctx, job.UserID, r.opts.QuotaBytes)
		if err != nil {
			return Result{}, fmt.Errorf("quota: %w", err)
		}
		if free < limit {
			limit, quotaBound = max(free, 0), true
		}
	}
	if limit == 0 {
		return Result{}, permanent{"your storage quota is full"}
	}
	expires := time.Now().Add(r.opts.Timeout + time.Minute)
	src, err := r.signer.ReadURL(ctx, job.SourceBlob, job.SourceSnapshot, job.ContentType, expires)
	if err != nil {
		return Result{}, fmt.Errorf("sign source read url: %w", err)
	}
	dur := job.EndSeconds - job.StartSeconds
	copy := canCopy(job)
	log.Info("rendering clip", "start", job.StartSeconds, "seconds", dur, "aspect", job.Aspect, "stream_copy", copy)
	args := Args(src, job.StartSeconds, dur, job.Aspect == AspectVertical, copy)
	proc, err := r.tool.Start(ctx, args, src, mediatool.WithStderrLines(func(line string) bool {
		v, ok := strings.CutPrefix(line, "out_time_us=")
		if !ok {
			return strings.Contains(line, "=") && !strings.Contains(line, " ")
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil && us >= 0 {
			pct := min(99, float64(us)/1e6*100/dur)
			pw.set(ctx, &pct, false)
		}
		return true
	}))
	if err != nil {
		return Result{}, fmt.Errorf("start ffmpeg: %w", err)
	}
	bb := r.blobs.BlockBlob(job.BlobName)
	ids, size, stageErr := importer.Stage(ctx, bb, proc.Stdout, importer.StageOptions{
		Attempt: int64(attempt), BlockSize: r.opts.BlockSize, InFlight: r.opts.InFlight, MaxBytes: limit,
	})
	if stageErr != nil {
		proc.Kill()
	}
	waitErr := proc.Wait()

	if cause := context.Cause(ctx); cause != nil && parent.Err() == nil {
		if errors.Is(cause, errGone) || errors.Is(cause, errNotCurrent) {
			return Result{}, cause
		}
		var perm permanent
		if errors.As(cause, &perm) {
			return Result{}, perm
		}
	}
	if parent.Err() != nil {
		return Result{}, parent.Err()
	}
	var unreadable *mediatool.UnreadableError
	switch {
	case errors.Is(stageErr, importer.ErrTooLarge) && quotaBound:
		return Result{}, permanent{fmt.Sprintf("the clip does not fit in your storage quota (%d bytes free)", limit)}
	case errors.Is(stageErr, importer.ErrTooLarge):
		return Result{}, permanent{fmt.Sprintf("the clip is larger than the limit of %d bytes", r.opts.MaxBytes)}
	case stageErr != nil:
		return Result{}, fmt.Errorf("stage clip: %w", stageErr)
	case errors.As(waitErr, &unreadable):
		log.Info("ffmpeg could not read the source", "diagnostics", proc.Stderr())
		return Result{}, permanent{"the video could not be read: " + unreadable.Reason}
	case waitErr != nil:
		log.Warn("ffmpeg failed", "err", waitErr.Error(), "diagnostics", proc.Stderr())
		return Result{}, fmt.Errorf("ffmpeg: %w", waitErr)
	case size == 0:
		log.Warn("ffmpeg wrote nothing", "diagnostics", proc.Stderr())
		return Result{}, permanent{"the range of the video has no frames to make a clip of"}
	}
	if err := r.current(ctx, job.ID, attempt); err != nil {
		return Result{}, err
	}
	if _, err := bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr("video/mp4")},
	}); err != nil {
		return Result{}, fmt.Errorf("commit clip blob: %w", err)
	}
	// Read it back: what is stored is what the API reports.
	readURL, err := r.signer.ReadURL(ctx, job.BlobName, "", "video/mp4", time.Now().Add(5*time.Minute))
	if err != nil {
		return Result{}, fmt.Errorf("sign clip read url: %w", err)
	}
	p, err := r.tool.Probe(ctx, readURL)
	if errors.As(err, &unreadable) {
		log.Warn("the rendered clip cannot be read back", "reason", unreadable.Reason)
		return Result{}, permanent{"the clip could not be made from this video"}
	}
	if err != nil {
		return Result{}, fmt.Errorf("probe clip: %w", err)
	}
	return Result{DurationSeconds: p.DurationSeconds, Width: p.Width, Height: p.Height, Size: size,
		Container: r.blobs.ContainerName(), BlobName: job.BlobName}, nil
}

// current returns nil while attempt is the clip's current attempt and the
// clip is in flight; errGone when it was deleted; errNotCurrent otherwise.
func (r *Renderer) current(ctx context.Context, id uuid.UUID, attempt Attempt) error {
	status, now, err := r.store.Status(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound), err == nil && status == StatusCancelled:
		return errGone
	case err != nil:
		return fmt.Errorf("check clip: %w", err)
	case now != attempt || (status != StatusQueued && status != StatusProcessing):
		return errNotCurrent
	}
	return nil
}

// watch stops the render once the clip is deleted or the attempt is no
// longer current, checking every CancelPoll, and beats every
// HeartbeatEvery, until ctx ends.
func (r *Renderer) watch(ctx context.Context, id uuid.UUID, attempt Attempt, cancel context.CancelCauseFunc, log *slog.Logger) {
	fence.Watch(ctx, r.opts.CancelPoll, r.opts.HeartbeatEvery,
		func(ctx context.Context) (error, error) {
			return fence.StopCause(r.current(ctx, id, attempt), errGone, errNotCurrent)
		},
		func(ctx context.Context) error { return r.store.Touch(ctx, id, attempt) },
		func(err error) bool { return errors.Is(err, ErrNotCurrent) },
		cancel, log)
}
