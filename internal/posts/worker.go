package posts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
	"github.com/videofn/videofn/internal/traceparent"
)

// Attempt numbers one attempt at publishing a post; only the current
// (latest) attempt may record progress, success or failure.
type Attempt int64

// Job is what a worker needs to publish one post.
type Job struct {
	PostID    uuid.UUID
	UserID    uuid.UUID
	AccountID uuid.UUID
	Platform  string
	Title     string
	Caption   string
	Privacy   string
	// Vertical is true for a 9:16 clip (or any taller-than-wide source):
	// YouTube shows it as a Short.
	Vertical bool
	// Blob, Snapshot, ContentType and Size name what is published.
	Blob        string
	Snapshot    string
	ContentType string
	Size        int64
	// Session is the upload session an earlier attempt started, sealed;
	// zero for none.
	Session SealedSession
	Attempt Attempt
}

// SealedSession is a platform's upload session URL as it is stored:
// sealed with secretbox under the key KeyID names, bound to its post by
// SessionAdditionalData. The URL is a capability (whoever has it can send
// bytes into the session), so the store never sees it in clear text. The
// zero value is no session.
type SealedSession struct {
	KeyID      string
	Ciphertext []byte
}

// SessionAdditionalData is the additional data the sealed upload session
// of post id is bound to: "<post id>:upload_url", the form of every
// sealed column (social.AdditionalData). For re-encryption
// (postgres.Reencrypt), which must open and seal exactly as the Worker
// does.
func SessionAdditionalData(id uuid.UUID) []byte {
	return social.AdditionalData(id.String(), "upload_url")
}

// WorkStore is the persistence of the worker; each method is one
// statement.
type WorkStore interface {
	// ClaimPost takes post id for a new attempt, leased until now+lease, if
	// it is scheduled and due, or publishing under an expired lease (a
	// crashed or released attempt: the job carries its upload session). ok
	// is false, and nothing changes, otherwise: missing, cancelled, not due
	// yet, finished, or held by a live attempt.
	ClaimPost(ctx context.Context, id uuid.UUID, lease time.Duration) (j Job, ok bool, err error)
	// SaveUpload records the attempt's upload session (sealed) and the
	// bytes the platform confirmed, and renews its lease until now+lease;
	// ErrNotCurrent if a is not current.
	SaveUpload(ctx context.Context, id uuid.UUID, a Attempt, session SealedSession, offset int64, lease time.Duration) error
	// FinishPost marks the post published; ErrNotCurrent if a is not current.
	FinishPost(ctx context.Context, id uuid.UUID, a Attempt, externalID, externalURL string) error
	// FailPost marks the post failed with reason; ErrNotCurrent if a is not
	// current.
	FailPost(ctx context.Context, id uuid.UUID, a Attempt, reason string) error
	// ReleasePost ends the lease of attempt a now, so that the next
	// delivery takes the post over at once; ErrNotCurrent if a is not
	// current.
	ReleasePost(ctx context.Context, id uuid.UUID, a Attempt) error
}

// TokenSource hands out a social account's current access token,
// refreshing it when it is about to expire (social.Accounts). It returns
// an error wrapping ErrNeedsReconnect when the platform refused the
// refresh (revoked or expired grant).
type TokenSource interface {
	AccessToken(ctx context.Context, userID, accountID uuid.UUID) (string, error)
}

// ErrNeedsReconnect marks a token the platform no longer accepts: the
// account must be connected again (social.ErrNeedsReconnect, which
// social.Accounts.AccessToken returns).
var ErrNeedsReconnect = social.ErrNeedsReconnect

// BlobSource reads a range of a stored blob (BlobRanges).
type BlobSource interface {
	OpenRange(ctx context.Context, name, snapshot string, offset, count int64) (io.ReadCloser, error)
}

// PublishRequest is what a Publisher gets for one post.
type PublishRequest struct {
	// Token returns the account's access token; call it before each
	// request (it refreshes ahead of expiry).
	Token              func(ctx context.Context) (string, error)
	Title, Description string
	Privacy            string // PrivacyPublic, PrivacyUnlisted or PrivacyPrivate
	Vertical           bool
	Size               int64
	ContentType        string
	// Open streams count bytes of the file from offset (a ranged blob
	// read; nothing touches the local disk).
	Open func(ctx context.Context, offset, count int64) (io.ReadCloser, error)
	// SessionURL is the upload session an earlier attempt started: resume
	// it (ask the platform how much it has) instead of starting another.
	SessionURL string
	// Saved records a new session (before its first byte is sent) and the
	// confirmed offset after each chunk; an error (ErrNotCurrent: another
	// attempt took over) must stop the upload.
	Saved func(ctx context.Context, sessionURL string, offset int64) error
}

// PublishResult is the published post on the platform.
type PublishResult struct {
	ExternalID string
	URL        string
}

// Publisher publishes one post on one platform. Publish must send the
// file at most once per session, resume SessionURL when set, and return a
// *PermanentError for failures a retry cannot fix (the post ends failed
// with its reason); any other error is retried by a redelivery, which
// resumes the session Saved recorded.
type Publisher interface {
	Publish(ctx context.Context, p PublishRequest) (PublishResult, error)
}

// PermanentError is a failure a retry cannot fix; Reason is shown to the
// user.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// WorkerOptions tune the Worker. Zero values take the defaults.
type WorkerOptions struct {
	// Timeout bounds one publishing attempt; default 1 h.
	Timeout time.Duration
	// Lease is how long a claim, and then each confirmed chunk, keeps the
	// post from other workers; default 5 min. An attempt that stops making
	// progress for that long (its worker crashed) is taken over by the next
	// delivery, which resumes its session; if the old attempt was only
	// slow, its next save fails (ErrNotCurrent) and it stops.
	Lease time.Duration
}

// Worker publishes posts: the publish queue's handler.
type Worker struct {
	opts       WorkerOptions
	store      WorkStore
	tokens     TokenSource
	blobs      BlobSource
	publishers map[string]Publisher
	box        *secretbox.Box
	logger     *slog.Logger
}

// NewWorker returns a Worker publishing through publishers (platform ->
// Publisher). Upload sessions are sealed with box before they are stored
// (under its current key) and opened with it when a later attempt resumes
// them: the social accounts' box (DATA_ENCRYPTION_KEY, and
// DATA_ENCRYPTION_KEY_PREVIOUS while keys rotate).
func NewWorker(o WorkerOptions, store WorkStore, tokens TokenSource, blobs BlobSource, publishers map[string]Publisher,
	box *secretbox.Box, logger *slog.Logger) *Worker {
	if o.Timeout <= 0 {
		o.Timeout = time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{opts: o, store: store, tokens: tokens, blobs: blobs, publishers: publishers, box: box, logger: logger}
}

// Shorts tag YouTube reads in a vertical video's title or description.
const shortsTag = "#Shorts"

// Publish publishes post id if it is due and nobody else is publishing
// it. It returns nil when the post is published, failed for good
// (recorded), or has nothing to do; an error only when a redelivery may
// succeed (the lease is then released so that it resumes at once).
func (w *Worker) Publish(ctx context.Context, id uuid.UUID) error {
	job, ok, err := w.store.ClaimPost(ctx, id, w.opts.Lease)
	if err != nil {
		return fmt.Errorf("claim post: %w", err)
	}
	if !ok {
		w.logger.InfoContext(ctx, "publish message with nothing to do acknowledged", "post_id", id)
		return nil
	}
	log := traceparent.Logger(ctx, w.logger).With("post_id", id, "attempt", int64(job.Attempt), "platform", job.Platform)
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()

	pub := w.publishers[job.Platform]
	if pub == nil {
		return w.fail(ctx, log, job, "publishing to "+job.Platform+" is not supported")
	}
	if job.Blob == "" {
		return w.fail(ctx, log, job, "the video or clip file is no longer available")
	}
	title, description := job.Title, job.Caption
	if job.Vertical {
		title, description = shorts(title, description)
	}
	// The session is sealed again whenever it changes (a new one, or the
	// first save of a resumed one: that moves a session sealed under the
	// previous key to the current key), and reused for the saves after.
	var savedURL string
	var saved SealedSession
	req := PublishRequest{
		Token: func(ctx context.Context) (string, error) {
			return w.tokens.AccessToken(ctx, job.UserID, job.AccountID)
		},
		Title: title, Description: description, Privacy: job.Privacy, Vertical: job.Vertical,
		Size: job.Size, ContentType: job.ContentType,
		Open: func(ctx context.Context, offset, count int64) (io.ReadCloser, error) {
			return w.blobs.OpenRange(ctx, job.Blob, job.Snapshot, offset, count)
		},
		SessionURL: w.openSession(log, job),
		Saved: func(ctx context.Context, sessionURL string, offset int64) error {
			if sessionURL != savedURL || saved.Ciphertext == nil {
				keyID, sealed, err := w.box.Seal([]byte(sessionURL), SessionAdditionalData(id))
				if err != nil {
					return fmt.Errorf("seal upload session: %w", err)
				}
				savedURL, saved = sessionURL, SealedSession{KeyID: keyID, Ciphertext: sealed}
			}
			return w.store.SaveUpload(context.WithoutCancel(ctx), id, job.Attempt, saved, offset, w.opts.Lease)
		},
	}
	start := time.Now()
	res, err := pub.Publish(ctx, req)
	var perm *PermanentError
	switch {
	case errors.Is(err, ErrNeedsReconnect):
		return w.fail(ctx, log, job, "the account needs to be reconnected: its access was revoked or has expired")
	case errors.As(err, &perm):
		return w.fail(ctx, log, job, perm.Reason)
	case errors.Is(err, ErrNotCurrent):
		log.Info("publishing taken over by another attempt; stopped")
		return nil
	case err != nil:
		if rerr := w.store.ReleasePost(context.WithoutCancel(ctx), id, job.Attempt); rerr != nil && !errors.Is(rerr, ErrNotCurrent) {
			log.Warn("release post; it is taken over when its lease ends", "error", rerr)
		}
		return fmt.Errorf("publish post %s: %w", id, err)
	}
	switch err := w.store.FinishPost(context.WithoutCancel(ctx), id, job.Attempt, res.ExternalID, res.URL); {
	case errors.Is(err, ErrNotCurrent):
		log.Warn("post published but the attempt is no longer current; result dropped", "external_id", res.ExternalID)
		return nil
	case err != nil:
		// The session is complete: a redelivery asks it and records the
		// same video.
		return fmt.Errorf("finish post: %w", err)
	}
	log.Info("post published", "external_id", res.ExternalID, "bytes", job.Size, "elapsed", time.Since(start))
	return nil
}

// openSession returns the upload session an earlier attempt of job
// stored, or "" for none. A session that does not open (a key no longer
// configured, a damaged value, or one copied from another post) counts as
// none: the attempt starts a new session, and a warning says so without
// the value.
func (w *Worker) openSession(log *slog.Logger, job Job) string {
	if job.Session.Ciphertext == nil {
		return ""
	}
	plain, err := w.box.Open(job.Session.KeyID, job.Session.Ciphertext, SessionAdditionalData(job.PostID))
	if err != nil {
		log.Warn("stored upload session does not open; starting a new one", "key_id", job.Session.KeyID, "error", err.Error())
		return ""
	}
	return string(plain)
}

func (w *Worker) fail(ctx context.Context, log *slog.Logger, job Job, reason string) error {
	log.Info("post failed", "reason", reason)
	switch err := w.store.FailPost(context.WithoutCancel(ctx), job.PostID, job.Attempt, reason); {
	case errors.Is(err, ErrNotCurrent):
		return nil
	case err != nil:
		return fmt.Errorf("record failure: %w", err)
	}
	return nil
}

// shorts adds #Shorts to the title when it fits and to the description
// otherwise (YouTube reads either), unless one already has it.
func shorts(title, description string) (string, string) {
	if containsFold(title, shortsTag) || containsFold(description, shortsTag) {
		return title, description
	}
	if t := title + " " + shortsTag; len([]rune(t)) <= MaxTitleLength {
		return t, description
	}
	switch {
	case description == "":
		return title, shortsTag
	case len(description)+len("\n\n"+shortsTag) > MaxCaptionBytes:
		return title, description // no room: YouTube decides by the frame alone
	}
	return title, description + "\n\n" + shortsTag
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
