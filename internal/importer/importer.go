// Package importer runs URL imports: the import-worker's job. It runs
// yt-dlp without a shell, behind an SSRF-guarding proxy, and streams its
// stdout into Blob Storage as staged blocks (never to local disk), with
// progress in Redis and the outcome in PostgreSQL.
//
// The job is idempotent: a finished or cancelled video is left alone (but
// for the deletion of a blob that an earlier attempt could not record), and a
// half-done import restarts into the same blob under a new attempt number
// (fencing the old attempt, see Run). No database connection is held
// across the import: each step is one short statement or transaction.
// Permanent failures (bad source, too large, unsupported) are recorded on
// the video and acknowledged; transient ones (storage or database down)
// return an error so the message is delivered again.
package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/fence"
	"github.com/videofn/videofn/internal/netguard"
	"github.com/videofn/videofn/internal/toolexec"
	"github.com/videofn/videofn/internal/traceparent"
)

// Job is what the worker needs to know about one import.
type Job struct {
	VideoID   uuid.UUID
	UserID    uuid.UUID
	Status    string
	SourceURL string
}

// Result is a finished import.
type Result struct {
	Title       string
	ContentType string
	Size        int64
	Container   string
	BlobName    string
}

// ErrNotFound is returned by a Store for a video that does not exist.
var ErrNotFound = errors.New("not found")

// ErrQuota is returned when an import does not fit in the user's storage
// quota.
var ErrQuota = errors.New("the storage quota is full")

// Attempt numbers one attempt at an import. StartDownload hands out a new
// one; the latest is the import's current attempt, and only the current
// attempt's heartbeat, finish and failure change the video (fencing).
type Attempt int64

// ErrNotCurrent is returned by Touch, Finish and Fail when the attempt is no
// longer the import's current one: a newer attempt took the import over, or
// the import ended (another attempt finished it, the sweeper failed it).
// Nothing was changed; what the import stores (its blob included) belongs
// to someone else.
var ErrNotCurrent = errors.New("the import attempt is no longer current")

// Store is the persistence the job needs. None of its methods holds a
// database connection beyond one short statement or transaction.
type Store interface {
	// Job returns the import, or ErrNotFound.
	Job(ctx context.Context, id uuid.UUID) (Job, error)
	// StartDownload starts a new attempt: it moves a queued or downloading
	// import to downloading under a new attempt number, which fences the
	// attempt running before (if any), and returns it. ok is false, and
	// nothing changes, for an import in any other state.
	StartDownload(ctx context.Context, id uuid.UUID) (a Attempt, ok bool, err error)
	// Status returns the import's status and its current attempt (for
	// cancellation and fencing), or ErrNotFound.
	Status(ctx context.Context, id uuid.UUID) (string, Attempt, error)
	// Touch records that attempt a is alive (and takes the import back if
	// the sweeper queued it again meanwhile); ErrNotCurrent when a is no
	// longer current.
	Touch(ctx context.Context, id uuid.UUID, a Attempt) error
	// Finish records a committed blob and marks the video ready, with its
	// file_storage row, atomically, if a is the current attempt and the
	// user's stored bytes stay within quotaBytes (ErrQuota otherwise; 0
	// means no quota). ErrNotCurrent when another attempt took the import
	// over or the video is ready; false when a is current but the video is
	// no longer queued or downloading (cancelled, failed or deleted
	// meanwhile), so that no attempt can make it ready any more.
	Finish(ctx context.Context, id uuid.UUID, a Attempt, r Result, quotaBytes int64) (bool, error)
	// FreeBytes returns how much of quotaBytes the user's other videos
	// leave free.
	FreeBytes(ctx context.Context, userID, videoID uuid.UUID, quotaBytes int64) (int64, error)
	// Fail marks the import failed with a readable message if a is its
	// current attempt and it is queued or downloading; ErrNotCurrent
	// otherwise.
	Fail(ctx context.Context, id uuid.UUID, a Attempt, message string) error
}

// Blobs gives the job the blobs of the media container.
type Blobs interface {
	BlockBlob(name string) BlockBlob
	// DeleteBlob deletes a blob; a missing blob is not an error.
	DeleteBlob(ctx context.Context, name string) error
	ContainerName() string
}

// Progress stores progress for the frontend.
type ProgressSetter interface {
	Set(ctx context.Context, p Progress) error
}

// Options tune the importer. Zero values take the defaults.
type Options struct {
	YTDLPPath string
	MaxBytes  int64
	// BlockSize x 50,000 must reach MaxBytes; default 8 MiB (~390 GiB).
	BlockSize int
	// InFlight blocks are staged at once; default 4. Memory for the media
	// is (InFlight+1) x BlockSize.
	InFlight int
	// Timeout bounds one import; default 55 min (host functionTimeout is 60).
	Timeout time.Duration
	// QuotaBytes is each user's storage quota (USER_STORAGE_QUOTA_BYTES),
	// shared with uploads; 0 means none.
	QuotaBytes int64
	// AllowPrivate lets yt-dlp reach loopback and private addresses (tests).
	AllowPrivate bool
	// Allow lists extra destinations (tests).
	Allow []netip.AddrPort
	// Sandbox turns the yt-dlp command line (argv[0] is the program) into
	// the one that runs it confined, so that it and every process it starts
	// can connect only to proxyPort (the import's netguard proxy) and write
	// only into workDir: sandbox.Launcher.Wrap. Nil runs yt-dlp with
	// nothing but its --proxy setting between it and the network: only
	// tests that show what the sandbox prevents do that.
	Sandbox          func(proxyPort uint16, workDir string, argv []string) []string
	ProgressInterval time.Duration // default 500 ms
	// CancelPoll is how often a running import checks that it is still
	// wanted: not cancelled, and still the import's current attempt.
	CancelPoll     time.Duration // default 500 ms
	HeartbeatEvery time.Duration // default 30 s
	// SocketTimeout is how long yt-dlp waits on a silent connection before
	// it retries (--socket-timeout); default 30 s.
	SocketTimeout time.Duration
	// Probes, when set, gets the probe message of every finished import
	// (the processing queue).
	Probes ProbeQueue
}

// ProbeQueue sends the probe message of a video that became ready
// (processing.Queue).
type ProbeQueue interface {
	EnqueueProbe(ctx context.Context, videoID uuid.UUID) error
}

// Importer runs import jobs.
type Importer struct {
	opts     Options
	ytdlp    func() (string, error)
	store    Store
	blobs    Blobs
	progress ProgressSetter
	logger   *slog.Logger
	// progressWarn throttles "progress not written" warnings across
	// imports: when Redis is down every write of every import fails.
	progressWarn *throttledWarn
}

// New returns an Importer.
func New(o Options, store Store, blobs Blobs, progress ProgressSetter, logger *slog.Logger) *Importer {
	if o.YTDLPPath == "" {
		o.YTDLPPath = "yt-dlp"
	}
	if o.BlockSize == 0 {
		o.BlockSize = defaultBlockSize
	}
	if o.InFlight == 0 {
		o.InFlight = 4
	}
	if o.Timeout == 0 {
		o.Timeout = 55 * time.Minute
	}
	if o.ProgressInterval == 0 {
		o.ProgressInterval = 500 * time.Millisecond
	}
	if o.CancelPoll == 0 {
		o.CancelPoll = 500 * time.Millisecond
	}
	if o.SocketTimeout == 0 {
		o.SocketTimeout = 30 * time.Second
	}
	if o.HeartbeatEvery == 0 {
		o.HeartbeatEvery = 30 * time.Second
	}
	im := &Importer{opts: o, store: store, blobs: blobs, progress: progress, logger: logger,
		progressWarn: &throttledWarn{every: progressWarnInterval, now: time.Now}}
	// Prepared on first use and kept once it works; a failure is retried
	// by the next import (yt-dlp may be installed meanwhile).
	var mu sync.Mutex
	var ready string
	im.ytdlp = func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if ready != "" {
			return ready, nil
		}
		p, err := toolexec.Prepare(o.YTDLPPath)
		if err == nil {
			ready = p
		}
		return p, err
	}
	return im
}

// BlobName is the blob an import writes: fixed per video, so a redelivered
// message restarts into the same blob.
func BlobName(userID, videoID uuid.UUID) string {
	return userID.String() + "/" + videoID.String() + "/source"
}

// postCommitTimeout bounds each step after the blob is committed (recording
// it, or deleting it): those run on a context the delivery's cancellation
// cannot abort, so that a committed blob is either recorded or deleted.
const postCommitTimeout = 30 * time.Second

// errCancelled is the cause of a job stopped because its video was cancelled.
var errCancelled = errors.New("import cancelled")

// errNotCurrent is the cause of a job stopped because its attempt is no
// longer the import's current one (see ErrNotCurrent).
var errNotCurrent = fmt.Errorf("stopped: %w", ErrNotCurrent)

// permanent is a failure recorded on the video; the message is done.
type permanent struct{ msg string }

func (p permanent) Error() string { return p.msg }

// Run imports video id. It returns nil when the message is done (imported,
// failed for good, cancelled, nothing to do, or another attempt running or
// owning the import) and an error when a redelivery may succeed.
//
// Each Run that does work is one attempt (StartDownload), and the newest
// delivery wins: a delivery of an import that is downloading takes it over,
// because the database cannot tell a duplicate delivery to a live worker
// from the redelivery after a crash, and only the latter is common (the
// queue's lock outlives an import). An attempt that is no longer current,
// because a newer one took the import over or the import ended, stops
// within CancelPoll, commits nothing (it checks again right before the
// commit) and deletes nothing: the blob name is the same for every
// attempt, so what is there may be the winner's. Blob Storage keeps the
// attempts apart besides: the attempt is in the block IDs, and a commit
// discards every uncommitted block it does not list, so an attempt that
// commits late finds its blocks gone and fails instead of replacing the
// winner's bytes.
func (im *Importer) Run(ctx context.Context, id uuid.UUID) error {
	job, err := im.store.Job(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load import: %w", err)
	}
	// The trace context of the message (the request that enqueued the
	// import), so that its lines are found with the request's.
	log := traceparent.Logger(ctx, im.logger).With("video_id", id)
	attempt, ok, err := im.store.StartDownload(ctx, id)
	if err != nil {
		return fmt.Errorf("start import: %w", err)
	}
	if !ok {
		log.Info("import has nothing to do", "status", job.Status)
		// An earlier attempt may have committed the blob and failed to
		// record it before the import was cancelled or failed.
		return im.discardBlob(ctx, job)
	}
	log = log.With("attempt", attempt)
	// After this, ctx may be cancelled (shutdown) while the outcome must
	// still be recorded.
	still := context.WithoutCancel(ctx)

	pw := &progressWriter{store: im.progress, interval: im.opts.ProgressInterval, onError: func(err error) {
		im.progressWarn.warn(log, "progress not written", err)
	}}
	pw.p = Progress{VideoID: id, Owner: job.UserID, Status: "downloading", Step: "starting"}
	pw.update(ctx, true, func(*Progress) {})

	res, err := im.download(ctx, job, attempt, pw, log)
	var perm permanent
	switch {
	case errors.Is(err, errNotCurrent):
		log.Info("import attempt superseded or ended elsewhere; stopped without changes")
		return nil
	case errors.Is(err, errCancelled):
		log.Info("import cancelled")
		pw.update(still, true, func(p *Progress) { p.Status, p.Step = "cancelled", "cancelled" })
		return im.discardBlob(still, job)
	case errors.As(err, &perm):
		if _, err := im.fail(still, id, attempt, perm.msg, pw, log); err != nil {
			return err
		}
		// Failed by this attempt, or ended by another: either way a blob an
		// earlier attempt committed without recording it must go.
		return im.discardBlob(still, job)
	case err != nil:
		pw.update(still, true, func(p *Progress) { p.Step = "retrying" })
		return err
	}

	// The blob is committed: record it even if the delivery is cancelled
	// now (the host gave up, shutdown), or it would be stored with no row.
	finishCtx, cancelFinish := context.WithTimeout(still, postCommitTimeout)
	done, err := im.store.Finish(finishCtx, id, attempt, res, im.opts.QuotaBytes)
	cancelFinish()
	switch {
	case errors.Is(err, ErrQuota):
		// Another upload or import filled the quota meanwhile. Failing the
		// import first fences it (no attempt can make it ready), so the
		// blob deleted after is nobody else's.
		msg := "the video does not fit in your storage quota"
		if failed, err := im.fail(still, id, attempt, msg, pw, log); !failed {
			return err
		}
		return im.discardBlob(still, job)
	case errors.Is(err, ErrNotCurrent):
		// A newer attempt owns the import, or finished it: the blob is
		// (or will be) its.
		log.Info("import attempt superseded before it finished; the blob is left to the current attempt")
		return nil
	case err != nil:
		// Delivered again, the import either completes into the same blob
		// or ends cancelled or failed, and then its blob is deleted (by
		// that delivery, the cancel, a deletion or the sweeper).
		return fmt.Errorf("record import: %w", err)
	case !done:
		// Cancelled (or deleted) after the commit: the blob must not
		// outlive the video. Finish saw this attempt current and the video
		// ended, and an ended import cannot become ready again.
		log.Info("import cancelled at the end; deleting the blob")
		return im.discardBlob(still, job)
	}
	pw.update(context.WithoutCancel(ctx), true, func(p *Progress) {
		hundred := 100.0
		p.Status, p.Step, p.Percent, p.BytesUploaded, p.ETASeconds = "ready", "done", &hundred, res.Size, nil
		p.TotalBytes = &res.Size
	})
	log.Info("import done", "bytes", res.Size, "content_type", res.ContentType)
	if im.opts.Probes != nil {
		// The video records that processing is pending (Finish); a lost
		// send is healed by the processing sweeper.
		if err := im.opts.Probes.EnqueueProbe(context.WithoutCancel(ctx), id); err != nil {
			log.Warn("probe message not sent; the sweeper will send it again", "err", err.Error())
		}
	}
	return nil
}

// discardBlob deletes the import's blob when the video can never become
// ready: it is cancelled, failed or gone (Finish records only a queued or
// downloading import). A ready video keeps its blob, and so does one that
// is queued or downloading again: another attempt owns the blob name. It
// runs on a context the delivery's cancellation cannot abort.
func (im *Importer) discardBlob(ctx context.Context, job Job) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	status, _, err := im.store.Status(ctx, job.VideoID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return fmt.Errorf("import status: %w", err)
	case status != "cancelled" && status != "failed":
		return nil
	}
	if err := im.blobs.DeleteBlob(ctx, BlobName(job.UserID, job.VideoID)); err != nil {
		return fmt.Errorf("delete the blob of an ended import: %w", err)
	}
	return nil
}

// fail records a permanent failure of attempt a and publishes it; failed
// says whether it did. An attempt that is no longer current records
// nothing, and the message is done (nil error).
func (im *Importer) fail(ctx context.Context, id uuid.UUID, a Attempt, msg string, pw *progressWriter, log *slog.Logger) (failed bool, err error) {
	err = im.store.Fail(ctx, id, a, msg)
	if errors.Is(err, ErrNotCurrent) {
		log.Info("import attempt superseded before its failure was recorded", "reason", msg)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record failure: %w", err)
	}
	log.Info("import failed", "reason", msg)
	pw.update(ctx, true, func(p *Progress) {
		p.Status, p.Step, p.Error = "failed", "failed", &msg
		p.ETASeconds = nil
	})
	return true, nil
}

// download runs yt-dlp into the blob and commits it.
func (im *Importer) download(parent context.Context, job Job, attempt Attempt, pw *progressWriter, log *slog.Logger) (Result, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	ctx, stopTimeout := context.WithTimeoutCause(ctx, im.opts.Timeout, permanent{fmt.Sprintf("the import took longer than %s", im.opts.Timeout)})
	defer stopTimeout()
	go im.watch(ctx, job.VideoID, attempt, cancel, log)

	// The stream may not pass the import cap nor the quota left.
	limit, quotaBound := im.opts.MaxBytes, false
	if im.opts.QuotaBytes > 0 {
		free, err := im.store.FreeBytes(ctx, job.UserID, job.VideoID, im.opts.QuotaBytes)
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
	proxy, err := netguard.Start(netguard.Options{AllowPrivate: im.opts.AllowPrivate, Allow: im.opts.Allow, Logger: log})
	if err != nil {
		return Result{}, fmt.Errorf("start proxy: %w", err)
	}
	defer proxy.Close()

	ytdlp, err := im.ytdlp()
	if err != nil {
		return Result{}, err // an installation problem: retry later, it is logged
	}
	// yt-dlp's home, temp and working directory: the only place the
	// sandbox lets it write.
	work, err := os.MkdirTemp("", "videofn-import-")
	if err != nil {
		return Result{}, fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(work)
	argv := append([]string{ytdlp}, ytdlpArgs(job.SourceURL, proxy.URL(), limit, im.opts.SocketTimeout)...)
	if im.opts.Sandbox != nil {
		argv = im.opts.Sandbox(proxy.Port(), work, argv)
	}
	var meta Meta
	var announced atomic.Int64 // the size the source announced (Content-Length), if it did
	metaSeen := make(chan struct{}, 1)
	proc, err := startYTDLP(ctx, argv, work,
		func(m Meta) {
			meta = m
			select {
			case metaSeen <- struct{}{}:
			default:
			}
			pw.update(ctx, true, func(p *Progress) { p.Step = "downloading" })
		},
		func(t Tick) {
			if t.Total > 0 {
				announced.Store(t.Total)
			}
			pw.tick(ctx, t)
		})
	if err != nil {
		return Result{}, err // yt-dlp missing: an installation problem, retry later
	}

	name := BlobName(job.UserID, job.VideoID)
	bb := im.blobs.BlockBlob(name)
	sniff := &sniffer{}
	st := &stager{blob: bb, attempt: attempt, blockSize: im.opts.BlockSize, inFlight: im.opts.InFlight, maxBytes: limit,
		onStaged: func(acked int64) { pw.acked(ctx, acked) }}
	ids, size, stageErr := st.stage(ctx, teeReader(proc.stdout, sniff))
	if stageErr != nil {
		proc.kill()
	}
	exit, diag, waitErr := proc.wait()

	if cause := context.Cause(ctx); cause != nil && parent.Err() == nil {
		if errors.Is(cause, errCancelled) || errors.Is(cause, errNotCurrent) {
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
	switch {
	case errors.Is(stageErr, ErrTooLarge) && quotaBound:
		return Result{}, permanent{fmt.Sprintf("the media does not fit in your storage quota (%d bytes free)", limit)}
	case errors.Is(stageErr, ErrTooLarge):
		return Result{}, permanent{fmt.Sprintf("the media is larger than the import limit of %d bytes", im.opts.MaxBytes)}
	case stageErr != nil:
		return Result{}, fmt.Errorf("stage media: %w", stageErr)
	case waitErr != nil:
		return Result{}, fmt.Errorf("yt-dlp: %w", waitErr)
	case exit != 0:
		// yt-dlp's own words go to the log only (they may quote what a
		// server inside a network answered); the user gets a fixed message.
		log.Info("yt-dlp failed", "exit", exit, "diagnostics", redact(diag, proxy.URL()))
		if sandboxFailed(exit, diag) {
			return Result{}, errors.New("sandbox: yt-dlp was not started: " + redact(diag, proxy.URL()))
		}
		if denied := proxy.Denied(); len(denied) > 0 {
			if denied[0].First {
				return Result{}, permanent{"the address of this link is one imports may not reach (" + denied[0].Reason + ")"}
			}
			return Result{}, permanent{"the source redirects to an address that imports may not reach (" + denied[0].Reason + ")"}
		}
		return Result{}, permanent{describeFailure(diag)}
	case size == 0 && quotaBound:
		return Result{}, permanent{fmt.Sprintf("nothing was downloaded: the media does not fit in your storage quota (%d bytes free), or the page has no downloadable video", limit)}
	case size == 0:
		return Result{}, permanent{fmt.Sprintf("nothing was downloaded: the media is larger than the import limit of %d bytes, or the page has no downloadable video", im.opts.MaxBytes)}
	}
	if n := announced.Load(); n > 0 && size != n {
		// yt-dlp retries a stalled download with a Range request; a source
		// that ignores it sends the whole file again, which yt-dlp writes
		// after what stdout already carried: the stream is not the media.
		log.Warn("yt-dlp's output does not match the announced size; not committing it", "announced", n, "received", size)
		return Result{}, permanent{msgIncomplete}
	}
	contentType := sniff.contentType(meta.Ext)
	if contentType == "" {
		return Result{}, permanent{"the downloaded file is not a supported video format"}
	}
	// Commit only as the current attempt: the watch polls, and this closes
	// all but the last statement's worth of the gap (see Run for why a late
	// commit cannot replace a winner's bytes).
	if err := im.current(ctx, job.VideoID, attempt); err != nil {
		return Result{}, err
	}
	pw.update(ctx, true, func(p *Progress) { p.Step = "finalizing" })
	_, err = bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(contentType)},
	})
	if err != nil {
		return Result{}, fmt.Errorf("commit blob: %w", err)
	}
	title := meta.Title
	if title == "" {
		title = job.SourceURL
	}
	return Result{Title: truncateTitle(title), ContentType: contentType, Size: size, Container: im.blobs.ContainerName(), BlobName: name}, nil
}

// current returns nil while attempt is the import's current attempt and
// the import is queued or downloading; errCancelled when it was cancelled
// or deleted; errNotCurrent when a newer attempt took it over or it ended
// otherwise (finished by another attempt, failed by the sweeper).
func (im *Importer) current(ctx context.Context, id uuid.UUID, attempt Attempt) error {
	status, now, err := im.store.Status(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound), err == nil && status == "cancelled":
		return errCancelled
	case err != nil:
		return fmt.Errorf("check import: %w", err)
	case now != attempt || (status != "queued" && status != "downloading"):
		return errNotCurrent
	}
	return nil
}

// watch stops the job (cancel with errCancelled or errNotCurrent) as soon
// as its video is cancelled or its attempt is no longer current, checking
// every CancelPoll, and keeps the attempt marked alive, until ctx ends.
func (im *Importer) watch(ctx context.Context, id uuid.UUID, attempt Attempt, cancel context.CancelCauseFunc, log *slog.Logger) {
	fence.Watch(ctx, im.opts.CancelPoll, im.opts.HeartbeatEvery,
		func(ctx context.Context) (error, error) {
			return fence.StopCause(im.current(ctx, id, attempt), errCancelled, errNotCurrent)
		},
		func(ctx context.Context) error { return im.store.Touch(ctx, id, attempt) },
		func(err error) bool { return errors.Is(err, ErrNotCurrent) },
		cancel, log)
}

func truncateTitle(s string) string {
	r := []rune(s)
	if len(r) > 200 {
		return string(r[:200])
	}
	return s
}
