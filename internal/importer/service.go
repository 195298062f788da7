package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/netguard"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
)

// Errors of the API side.
var (
	ErrTooManyImports = errors.New("too many imports running")
	ErrFinished       = errors.New("the import has already finished")
)

// InvalidURLError says why a URL cannot be imported.
type InvalidURLError struct{ Reason string }

func (e *InvalidURLError) Error() string { return "invalid import URL: " + e.Reason }

// RateLimitError is returned when a user starts imports too fast.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return "too many imports; retry after " + e.RetryAfter.String()
}

// ImportRow is the stored state of an import, for the progress fallback.
type ImportRow struct {
	ID        uuid.UUID
	Status    string
	Error     *string
	Size      *int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ServiceStore is the persistence of the API side.
type ServiceStore interface {
	// CreateImport inserts a queued URL video unless the user already has
	// maxActive imports queued or downloading (ErrTooManyImports),
	// atomically.
	CreateImport(ctx context.Context, userID uuid.UUID, rawURL, title string, maxActive int) (ImportRow, error)
	// Import returns the user's import, or ErrNotFound (also for another
	// user's video or an upload).
	Import(ctx context.Context, userID, id uuid.UUID) (ImportRow, error)
	// CancelImport cancels a queued or downloading import and returns the
	// resulting row; other statuses are left alone.
	CancelImport(ctx context.Context, userID, id uuid.UUID) (ImportRow, error)
	// StaleImports lists imports queued since before queuedBefore or
	// downloading without a heartbeat since before downloadingBefore.
	StaleImports(ctx context.Context, queuedBefore, downloadingBefore time.Time) ([]ImportRow, error)
	// Requeue sets a stale import back to queued (touching updated_at) and
	// returns the new row; ok is false when it changed meanwhile.
	Requeue(ctx context.Context, row ImportRow) (ImportRow, bool, error)
	// FailStale marks a stale import failed with message.
	FailStale(ctx context.Context, id uuid.UUID, message string) error
	// EndedImports returns up to limit imports cancelled or failed (last
	// changed) before before whose blob is not yet known to be deleted,
	// oldest first.
	EndedImports(ctx context.Context, before time.Time, limit int) ([]EndedImport, error)
	// BlobDeleted records that the blob of an ended import is deleted, so
	// that EndedImports no longer returns it.
	BlobDeleted(ctx context.Context, id uuid.UUID) error
}

// EndedImport is a cancelled or failed import whose blob may still exist.
type EndedImport struct {
	ID     uuid.UUID
	UserID uuid.UUID
}

// ProgressReader reads progress from Redis (see ProgressStore).
type ProgressReader interface {
	Lookup(ctx context.Context, id uuid.UUID) (CachedProgress, error)
	MarkEnded(ctx context.Context, id uuid.UUID) error
}

// Limiter checks rate limits.
type Limiter interface {
	AllowAll(ctx context.Context, rules ...ratelimit.Rule) (ratelimit.Decision, error)
}

// ServiceOptions configure the API side.
type ServiceOptions struct {
	Queue         string // the imports queue name
	MaxActive     int    // concurrent imports per user, default 3
	AllowPrivate  bool
	Allow         []netip.AddrPort // tests
	PerUserLimit  ratelimit.Limit  // default 30 per hour
	QueuedTimeout time.Duration    // queued this long without a worker: sent again; default 2 min
	GiveUpAfter   time.Duration    // an import older than this that is still not done fails; default 3 h
	StaleWorker   time.Duration    // downloading without a heartbeat this long: queued again; default 5 min
	// BlobGrace is how long after an import was cancelled or failed the
	// sweeper deletes its blob; default 90 min. It must exceed how long a
	// worker that was running then can still write the blob: an import
	// runs at most 55 minutes (Options.Timeout), then records or deletes
	// its blob within a minute.
	BlobGrace time.Duration
	// Now is the clock progress freshness is judged by; default time.Now.
	Now func() time.Time
}

// Service is the API side of imports: enqueue, progress, cancel, sweep.
type Service struct {
	opts     ServiceOptions
	store    ServiceStore
	blobs    Blobs
	sender   queue.Sender
	progress ProgressReader
	limiter  Limiter
	logger   *slog.Logger
}

// NewService returns a Service. blobs is the media container the workers
// write imports into.
func NewService(o ServiceOptions, store ServiceStore, blobs Blobs, sender queue.Sender, progress ProgressReader, limiter Limiter, logger *slog.Logger) *Service {
	if o.MaxActive == 0 {
		o.MaxActive = 3
	}
	if o.PerUserLimit == (ratelimit.Limit{}) {
		o.PerUserLimit = ratelimit.PerHour(30)
	}
	if o.QueuedTimeout == 0 {
		o.QueuedTimeout = 2 * time.Minute
	}
	if o.GiveUpAfter == 0 {
		o.GiveUpAfter = 3 * time.Hour
	}
	if o.StaleWorker == 0 {
		o.StaleWorker = 5 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BlobGrace == 0 {
		o.BlobGrace = 90 * time.Minute
	}
	return &Service{opts: o, store: store, blobs: blobs, sender: sender, progress: progress, limiter: limiter, logger: logger}
}

// MaxURLLength caps an import URL.
const MaxURLLength = 2048

// ValidateURL checks an import URL at the edge: http or https, at most
// MaxURLLength bytes, a host, no credentials, no IPv4 address in another
// form than dotted decimal (2130706433, 0x7f.1, 127.1, 0177.0.0.1: what
// browsers and resolvers read as IPv4, and what no host name looks like),
// and no literal loopback, private or otherwise non-public address unless
// allowPrivate. Host names are checked again at connect time, on every
// hop, by the proxy.
func ValidateURL(raw string, allowPrivate bool, allow []netip.AddrPort) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return nil, &InvalidURLError{"a URL is required"}
	case len(raw) > MaxURLLength:
		return nil, &InvalidURLError{fmt.Sprintf("the URL is longer than %d characters", MaxURLLength)}
	case strings.ContainsAny(raw, " \t\r\n\x00"):
		return nil, &InvalidURLError{"the URL contains white space or control characters"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &InvalidURLError{"the URL cannot be parsed"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &InvalidURLError{"only http and https URLs can be imported"}
	}
	if u.User != nil {
		return nil, &InvalidURLError{"the URL must not contain credentials"}
	}
	host := u.Hostname()
	if host == "" {
		return nil, &InvalidURLError{"the URL has no host"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, &InvalidURLError{"the URL has an invalid port"}
		}
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil && endsInANumber(host) {
		return nil, &InvalidURLError{"the URL's host is an IP address in a non-standard form; write it as a.b.c.d"}
	}
	if err == nil {
		port := 80
		if u.Scheme == "https" {
			port = 443
		}
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		}
		allowed := netguard.Allowed(ip, allowPrivate)
		for _, a := range allow {
			if a == netip.AddrPortFrom(ip.Unmap(), uint16(port)) {
				allowed = true
			}
		}
		if !allowed {
			return nil, &InvalidURLError{"the URL points at a private or reserved address"}
		}
	}
	return u, nil
}

// endsInANumber reports whether host's last label (a trailing dot aside) is
// a decimal, octal or hexadecimal number: the WHATWG URL rule by which a
// host is an IPv4 address, whatever netip accepts.
func endsInANumber(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// messageID makes a MessageId that repeats for a repeated send of the same
// enqueue (deduplicated) and differs when the sweeper queues it again.
func messageID(row ImportRow) string {
	return "import:" + row.ID.String() + ":" + strconv.FormatInt(row.UpdatedAt.UnixMicro(), 10)
}

func (s *Service) send(ctx context.Context, row ImportRow) error {
	body := fmt.Appendf(nil, `{"video_id":%q}`, row.ID.String())
	return s.sender.Send(ctx, s.opts.Queue, queue.Message{ID: messageID(row), Body: body})
}

// Enqueue validates the URL, enforces the per-user limits, records the
// video as queued and sends the message. If the send fails the video stays
// queued and the sweeper sends it again, so it is never stranded.
func (s *Service) Enqueue(ctx context.Context, userID uuid.UUID, rawURL string) (ImportRow, error) {
	u, err := ValidateURL(rawURL, s.opts.AllowPrivate, s.opts.Allow)
	if err != nil {
		return ImportRow{}, err
	}
	if err := ratelimit.Enforce(ctx, s.limiter, ratelimit.Rule{Name: "import:user", Subject: userID.String(), Limit: s.opts.PerUserLimit}); err != nil {
		return ImportRow{}, err
	}
	row, err := s.store.CreateImport(ctx, userID, u.String(), u.Host, s.opts.MaxActive)
	if err != nil {
		return ImportRow{}, err
	}
	if err := s.send(ctx, row); err != nil {
		s.logger.Error("import message not sent; the sweeper will send it again", "video_id", row.ID, "err", err.Error())
	}
	return row, nil
}

// progressFresh is how recent progress of a running import must be for a
// poll to be answered from Redis alone: a worker writes at least every
// ProgressInterval (500 ms) while anything changes. Older progress may be
// of a worker that stopped (the sweeper then requeues or fails the import
// in PostgreSQL only), so PostgreSQL is asked.
const progressFresh = 5 * time.Second

// Progress returns the import's progress as ProgressJSON gives it, reading
// Redis itself.
func (s *Service) Progress(ctx context.Context, userID, id uuid.UUID) (Progress, error) {
	c, err := s.progress.Lookup(ctx, id)
	b, err := s.ProgressJSON(ctx, userID, id, c, err)
	if err != nil {
		return Progress{}, err
	}
	var p Progress
	if err := json.Unmarshal(b, &p); err != nil {
		return Progress{}, fmt.Errorf("decode progress: %w", err)
	}
	return p, nil
}

// ProgressJSON returns the import's progress as JSON, given what Redis held
// for it (c, or the error of reading it). Progress of the user's running
// import, fresh (progressFresh) and neither cancelled nor deleted since, is
// sent as Redis holds it, with no PostgreSQL round trip and no decoding:
// the poll of a running import, the frontend's hot path. Every other case
// asks PostgreSQL, which is the truth for the status (cancel, sweeper,
// deletion) and for whose import it is: ErrNotFound when the user has no
// such import. PostgreSQL alone answers when Redis has nothing or could not
// be read.
func (s *Service) ProgressJSON(ctx context.Context, userID, id uuid.UUID, c CachedProgress, readErr error) ([]byte, error) {
	if readErr == nil && c.Found && !c.Ended && c.Owner == userID &&
		(c.Status == "queued" || c.Status == "downloading") &&
		s.opts.Now().Sub(c.UpdatedAt) < progressFresh && json.Valid(c.JSON) {
		return c.JSON, nil
	}
	row, err := s.store.Import(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if readErr != nil {
		s.logger.Warn("progress read failed; answering from PostgreSQL", "err", readErr.Error())
	}
	var p Progress
	cached := readErr == nil && c.Found
	if cached {
		if p, err = c.Progress(); err != nil {
			s.logger.Warn("stored progress unreadable; answering from PostgreSQL", "video_id", id, "err", err.Error())
			cached = false
		}
	}
	if cached {
		// The database is the truth for the status (cancel, sweeper).
		if p.Status != row.Status {
			p.Status = row.Status
			if row.Error != nil {
				p.Error = row.Error
			}
		}
	} else {
		p = Progress{VideoID: id, Status: row.Status, Step: row.Status, Error: row.Error, UpdatedAt: row.UpdatedAt.UTC()}
		if row.Size != nil {
			p.BytesUploaded, p.TotalBytes = *row.Size, row.Size
		}
		if row.Status == "ready" {
			hundred := 100.0
			p.Percent = &hundred
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode progress: %w", err)
	}
	return b, nil
}

// Ended records that the import's video was deleted, so that progress a
// worker wrote does not answer polls for it (best effort: a poll then finds
// the video gone in PostgreSQL once the progress is progressFresh old).
func (s *Service) Ended(ctx context.Context, id uuid.UUID) {
	if err := s.progress.MarkEnded(ctx, id); err != nil {
		s.logger.Warn("ended import not marked ended in Redis", "video_id", id, "err", err.Error())
	}
}

// Cancel cancels a queued or running import; a worker stops within about a
// second and leaves no blob. Cancelling a cancelled import is a no-op;
// cancelling a finished one is ErrFinished.
//
// Once the import is cancelled its blob is deleted: an earlier attempt may
// have committed it and failed to record it, with no worker left to delete
// it. A worker still running deletes what it commits after this (its Finish
// finds the import cancelled). If this deletion fails, the sweeper deletes
// the blob later; the cancel stands.
func (s *Service) Cancel(ctx context.Context, userID, id uuid.UUID) error {
	row, err := s.store.CancelImport(ctx, userID, id)
	if err != nil {
		return err
	}
	if row.Status != "cancelled" {
		return ErrFinished
	}
	s.Ended(ctx, id)
	if err := s.blobs.DeleteBlob(ctx, BlobName(userID, id)); err != nil {
		s.logger.Warn("blob of a cancelled import not deleted; the sweeper will delete it", "video_id", id, "err", err.Error())
	}
	return nil
}

// blobBatch bounds the blobs of ended imports one sweep deletes; a backlog
// is worked off over several timer runs.
const blobBatch = 200

// Sweep heals imports that no worker is running: queued ones whose message
// may be lost are sent again, downloading ones whose worker stopped
// beating are queued again, and any that is still not done after
// GiveUpAfter fails. It then deletes the blob of every import cancelled or
// failed more than BlobGrace ago, so that no blob of an import that will
// never be ready stays stored, whatever stopped the worker from deleting it.
func (s *Service) Sweep(ctx context.Context, now time.Time) (string, error) {
	summary, err := s.heal(ctx, now)
	if err != nil {
		return "", err
	}
	deleted, err := s.deleteEndedBlobs(ctx, now)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, %d blobs of ended imports deleted", summary, deleted), nil
}

// deleteEndedBlobs deletes the blobs of imports cancelled or failed before
// now - BlobGrace. A failure on one import does not stop the others; they
// are retried by the next sweep.
func (s *Service) deleteEndedBlobs(ctx context.Context, now time.Time) (int, error) {
	ended, err := s.store.EndedImports(ctx, now.Add(-s.opts.BlobGrace), blobBatch)
	if err != nil {
		return 0, fmt.Errorf("ended imports: %w", err)
	}
	var errs []error
	deleted := 0
	for _, e := range ended {
		if err := s.blobs.DeleteBlob(ctx, BlobName(e.UserID, e.ID)); err != nil {
			errs = append(errs, fmt.Errorf("import %s: %w", e.ID, err))
			continue
		}
		if err := s.store.BlobDeleted(ctx, e.ID); err != nil {
			errs = append(errs, fmt.Errorf("import %s: %w", e.ID, err))
			continue
		}
		deleted++
	}
	return deleted, errors.Join(errs...)
}

func (s *Service) heal(ctx context.Context, now time.Time) (string, error) {
	stale, err := s.store.StaleImports(ctx, now.Add(-s.opts.QueuedTimeout), now.Add(-s.opts.StaleWorker))
	if err != nil {
		return "", fmt.Errorf("stale imports: %w", err)
	}
	var resent, failed int
	for _, row := range stale {
		if now.Sub(row.CreatedAt) > s.opts.GiveUpAfter {
			if err := s.store.FailStale(ctx, row.ID, "the import could not be completed in time; try again"); err != nil {
				return "", err
			}
			failed++
			continue
		}
		next, ok, err := s.store.Requeue(ctx, row)
		if err != nil {
			return "", err
		}
		if !ok {
			continue
		}
		if err := s.send(ctx, next); err != nil {
			return "", fmt.Errorf("send import again: %w", err)
		}
		resent++
	}
	return fmt.Sprintf("%d imports sent again, %d failed as stale", resent, failed), nil
}
