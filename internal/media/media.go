// Package media owns videos and their blobs: direct uploads (a write-only SAS
// URL for one server-named blob, then a check of what arrived), the video
// list and detail with short-lived read URLs, deletion, and the clean-up of
// uploads that were never completed.
//
// Guarantees the package gives (and its tests check):
//   - an upload URL can create and write exactly one blob, named by the
//     server (<user id>/<video id>/source), for at most 15 minutes; it cannot
//     read, list or write any other blob;
//   - a video becomes ready only after its blob was found within the
//     declared size, the upload cap and the user's quota, and its first bytes
//     are those of a video container. What is checked is a snapshot of the
//     blob taken at completion, and the video is read from that snapshot
//     from then on (playback, processing, the stored size): the upload URL,
//     valid for some minutes more, can still rewrite the base blob but never
//     a snapshot, so nothing it does changes what was checked;
//   - a refused upload's blob is deleted and the video is failed with a
//     reason the owner can read;
//   - every query is scoped to the user: another user's video is
//     indistinguishable from one that does not exist;
//   - no blob outlives its video: deletion removes the blobs first, with
//     all their snapshots, and a blob written after deletion with a
//     still-valid upload URL is removed by the sweeper once that URL has
//     expired; likewise, whatever an upload URL wrote to the base blob of a
//     completed upload is undone by the sweeper (the base blob is restored
//     from the checked snapshot, every other snapshot deleted).
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/ratelimit"
)

// Video sources and statuses, as stored in videos.source and videos.status.
const (
	SourceUpload = "upload"
	SourceURL    = "url"

	StatusPendingUpload = "pending_upload"
	StatusQueued        = "queued"
	StatusDownloading   = "downloading"
	StatusProcessing    = "processing"
	StatusReady         = "ready"
	StatusFailed        = "failed"
	// StatusCancelled on an upload marks a video its owner deleted (or the
	// sweeper claimed) while its upload URL may still be valid: it is hidden
	// from every query and removed, with its blobs, by the sweeper once the
	// URL has expired.
	StatusCancelled = "cancelled"
)

// Limits of the API.
const (
	// MaxUploadURLLifetime caps how long an upload URL stays valid.
	MaxUploadURLLifetime = 15 * time.Minute
	// UploadBlockSize is the block size clients should use with Put Block:
	// blocks above 4 MiB get high-throughput ingestion, a failed block costs
	// little to resend, and 50,000 blocks of 8 MiB allow ~390 GiB, far above
	// any upload cap.
	UploadBlockSize = 8 << 20
	// DefaultPageSize and MaxPageSize bound GET /api/videos.
	DefaultPageSize = 20
	MaxPageSize     = 100
	// MaxFilenameLength is the longest filename (kept as the title), in characters.
	MaxFilenameLength = 255
)

// Errors returned by the Service. The HTTP layer maps them to statuses.
var (
	// ErrNotFound is returned for a video that does not exist, belongs to
	// another user or was deleted. Stores return it too.
	ErrNotFound = errors.New("video not found")
	// ErrNotAnUpload is returned when an upload operation names an imported video.
	ErrNotAnUpload = errors.New("video is not a direct upload")
	// ErrNotPending is returned when an upload can no longer be completed or
	// renewed (it is failed, cancelled or being processed). Stores return it
	// when a conditional update finds the video in another status.
	ErrNotPending = errors.New("video is not awaiting its upload")
	// ErrUploadIncomplete is returned by CompleteUpload when no blob has been
	// committed yet; the video stays pending and the call may be repeated.
	ErrUploadIncomplete = errors.New("upload not committed yet")

	// ErrBlobNotFound is returned by a Blobs implementation.
	ErrBlobNotFound = errors.New("blob not found")
)

// ValidationError lists invalid fields by JSON name.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid fields: %v", e.Fields) }

// QuotaError is returned when an upload does not fit in the user's storage
// quota. Stores return it from CreateUpload and CompleteUpload.
type QuotaError struct {
	QuotaBytes     int64 // the user's quota
	UsedBytes      int64 // stored and reserved by the user's other videos
	RequestedBytes int64 // what this upload needs
}

func (e *QuotaError) Error() string {
	free := max(e.QuotaBytes-e.UsedBytes, 0)
	return fmt.Sprintf("the upload needs %d bytes but only %d of your %d-byte storage quota are free", e.RequestedBytes, free, e.QuotaBytes)
}

// RejectedError is returned by CompleteUpload when the uploaded blob was
// refused. The blob has been deleted and the video is failed with Reason,
// a sentence fit for the owner.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "upload rejected: " + e.Reason }

// Video is a video as the owner sees it.
type Video struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	Title     string
	Source    string // SourceUpload or SourceURL
	SourceURL string // "" for uploads
	Status    string
	Error     string // why it failed, for the owner; "" unless failed
	// ContentType is the declared type while the upload is pending, the
	// verified one afterwards.
	ContentType string
	// SizeBytes is the declared size while the upload is pending, the
	// stored size afterwards; nil when unknown.
	SizeBytes       *int64
	DurationSeconds *float64
	Width, Height   *int
	CreatedAt       time.Time
	// UpdatedAt is when the row last changed; for a pending upload, when its
	// upload URL was last issued.
	UpdatedAt time.Time
	// UploadExpiresAt is when the latest upload URL of a pending upload
	// stops working, as signed; zero for imports, and for an upload created
	// by a binary older than migration 00013.
	UploadExpiresAt time.Time
	// SourceBlob is the name of the blob holding the source file, "" when the
	// video has none (yet).
	SourceBlob string
	// SourceSnapshot is the snapshot of SourceBlob that holds the verified
	// source file of a completed upload; readers must read it, not the base
	// blob. "" when the base blob itself holds the file (imports, pending
	// uploads).
	SourceSnapshot string

	// ProcessingStatus is the state of the probe and poster of a ready
	// video: "pending", "processing", "done", "failed"; "" when there is
	// nothing to process (not ready yet). ProcessingError says, in words
	// for the owner, why it failed.
	ProcessingStatus string
	ProcessingError  string
	// What the probe found; nil or "" when unknown.
	FrameRate  *float64
	VideoCodec string
	AudioCodec string
	BitRate    *int64
	// PosterBlob is the poster JPEG's blob, "" when there is none.
	PosterBlob string
	// ThumbnailURL is a short-lived read URL of the poster, set by the
	// Service's Video and Videos; "" without a poster.
	ThumbnailURL string
}

// NewUpload is an upload video to create with its source file_storage row.
type NewUpload struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	Title       string
	ContentType string
	SizeBytes   int64 // declared; reserved against the quota until completion
	Container   string
	// URLExpiresAt is when the upload URL issued with it stops working.
	URLExpiresAt time.Time
	BlobName     string
}

// Position is a place in a user's video list: the videos after it are older
// (created_at, id descending). The zero Position is the start of the list.
type Position struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// IsZero reports whether p is the start of the list.
func (p Position) IsZero() bool { return p.ID == uuid.Nil }

// UnsettledUpload is a completed upload whose base blob an upload URL may
// have written since its snapshot was taken.
type UnsettledUpload struct {
	ID       uuid.UUID
	Blob     string
	Snapshot string
}

// StaleUpload is an upload video the sweeper has work to do for.
type StaleUpload struct {
	ID     uuid.UUID
	Status string // pending_upload, cancelled or failed
}

// Store keeps videos and their file_storage rows. Every method that takes a
// user id scopes its query to that user. Videos hidden by HideUpload are
// ErrNotFound to every user-scoped method.
type Store interface {
	// CreateUpload inserts a pending upload video and its source
	// file_storage row in one transaction, after checking, serialised per
	// user, that the sizes the user stores and reserves plus u.SizeBytes
	// stay within quotaBytes; *QuotaError otherwise.
	CreateUpload(ctx context.Context, u NewUpload, quotaBytes int64) (Video, error)
	// RenewUpload records that a new upload URL, working until
	// urlExpiresAt, was issued for a pending upload (its updated_at becomes
	// now). ErrNotPending when it is not pending.
	RenewUpload(ctx context.Context, id uuid.UUID, urlExpiresAt time.Time) (Video, error)
	// CompleteUpload marks a pending upload ready with the snapshot of its
	// blob that holds the verified file, its stored size and content type,
	// and flags the base blob for settling (UnsettledUploads), after checking
	// that the user's other sizes plus sizeBytes stay within quotaBytes
	// (*QuotaError). ErrNotPending when the video is no longer pending.
	CompleteUpload(ctx context.Context, id uuid.UUID, snapshot string, sizeBytes int64, contentType string, quotaBytes int64) (Video, error)
	// FailUpload marks a pending upload failed with reason and releases its
	// reservation (the source row's size becomes 0; the row stays so that
	// the sweeper can make sure the blob is gone). ErrNotPending when the
	// video is no longer pending.
	FailUpload(ctx context.Context, id uuid.UUID, reason string) (Video, error)

	// Video returns the user's video, or ErrNotFound.
	Video(ctx context.Context, userID, id uuid.UUID) (Video, error)
	// Videos returns up to limit of the user's videos after pos, newest first.
	Videos(ctx context.Context, userID uuid.UUID, after Position, limit int) ([]Video, error)

	// BlobNames returns the names of every blob recorded for the video and
	// its clips.
	BlobNames(ctx context.Context, id uuid.UUID) ([]string, error)
	// StopImport marks a queued or downloading import cancelled, committed
	// before it returns, so that no worker can record it as ready (and add
	// a file_storage row) any more; other videos are left alone.
	StopImport(ctx context.Context, id uuid.UUID) error
	// HideUpload marks an upload cancelled (hidden) and releases its
	// reservations, for the sweeper to finish its deletion later.
	HideUpload(ctx context.Context, id uuid.UUID) error
	// DeleteVideo deletes the video and, by cascade, its clips and
	// file_storage rows. Deleting a missing video is not an error.
	DeleteVideo(ctx context.Context, id uuid.UUID) error

	// StaleUploads returns up to limit upload videos not updated since
	// cutoff that are pending, cancelled, or failed with file_storage rows
	// left, oldest first.
	StaleUploads(ctx context.Context, cutoff time.Time, limit int) ([]StaleUpload, error)
	// CancelStaleUpload moves a pending upload not updated since cutoff to
	// cancelled and reports whether it did (false: it was completed or
	// renewed meanwhile).
	CancelStaleUpload(ctx context.Context, id uuid.UUID, cutoff time.Time) (bool, error)
	// ForgetBlobs deletes the video's file_storage rows.
	ForgetBlobs(ctx context.Context, id uuid.UUID) error

	// UnsettledUploads returns up to limit completed uploads, completed
	// before cutoff and not hidden, whose base blob is flagged for settling,
	// oldest first.
	UnsettledUploads(ctx context.Context, cutoff time.Time, limit int) ([]UnsettledUpload, error)
	// UploadSettled clears the flag, if the video still reads snapshot.
	UploadSettled(ctx context.Context, id uuid.UUID, snapshot string) error
}

// Signer issues SAS URLs for one blob each.
type Signer interface {
	// UploadURL returns a URL that allows creating and writing the blob
	// (Put Blob, Put Block, Put Block List) and nothing else, until expiry.
	UploadURL(ctx context.Context, name string, expiry time.Time) (string, error)
	// ReadURL returns a URL that allows reading the blob's snapshot (the
	// base blob when snapshot is ""), served with contentType, until expiry,
	// and nothing else.
	ReadURL(ctx context.Context, name, snapshot, contentType string, expiry time.Time) (string, error)
}

// Blobs inspects, freezes and removes blobs of the media container.
type Blobs interface {
	// Snapshot takes a read-only snapshot of the blob as committed now and
	// returns its id. No upload URL can write, delete or re-tier a
	// snapshot. ErrBlobNotFound when no blob was committed.
	Snapshot(ctx context.Context, name string) (snapshot string, err error)
	// Inspect returns the size and the first n bytes (fewer when shorter) of
	// the blob's snapshot, or of the base blob when snapshot is "".
	// ErrBlobNotFound when it does not exist.
	Inspect(ctx context.Context, name, snapshot string, n int) (size int64, head []byte, err error)
	// Settle undoes whatever was done to the base blob since snapshot was
	// taken: it breaks any lease, deletes every other snapshot and copies
	// snapshot over the base blob (which then shares its blocks). Only call
	// it once no upload URL can write the blob any more. ErrBlobNotFound
	// when the snapshot no longer exists.
	Settle(ctx context.Context, name, snapshot string) error
	// DeleteSnapshot deletes one snapshot of the blob; a missing one is not
	// an error.
	DeleteSnapshot(ctx context.Context, name, snapshot string) error
	// Delete deletes the blob and all its snapshots, breaking a lease if
	// needed. Deleting a missing blob is not an error.
	Delete(ctx context.Context, name string) error
	// StagedBlocks returns the blob's uncommitted blocks (Get Block List),
	// none when nothing was staged or the blob does not exist.
	StagedBlocks(ctx context.Context, name string) ([]StagedBlock, error)
}

// StagedBlock is a block that was staged (Put Block) and not committed yet.
type StagedBlock struct {
	ID        string // the base64 block id, as the client sent it
	SizeBytes int64
}

// Options configure a Service. Container, UploadMaxBytes and QuotaBytes are
// required; the rest have defaults.
type Options struct {
	Container      string // the container blobs are stored in (file_storage.container)
	UploadMaxBytes int64  // the largest upload
	QuotaBytes     int64  // the bytes each user may store, pending uploads included

	// UploadURLTTL is the lifetime of an upload URL: default and at most
	// MaxUploadURLLifetime.
	UploadURLTTL time.Duration
	// ReadURLTTL is the lifetime of a playback URL, default 30 minutes.
	ReadURLTTL time.Duration
	// SweepMargin is how long after its upload URL expired a pending upload
	// is left before the sweeper removes it, default 15 minutes.
	SweepMargin time.Duration

	// Limiter, when set, limits how fast each user may ask for upload URLs
	// (UploadLimit, default 60 per hour), so a client cannot make the API
	// sign URLs and insert rows at will.
	Limiter     ratelimit.Checker
	UploadLimit ratelimit.Limit

	// Probes, when set, is told about every completed upload once it is
	// recorded (the processing queue). A failed send is only logged: the
	// video's processing is pending and the sweeper sends the probe again.
	Probes ProbeQueue

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards
}

// ProbeQueue sends the probe message of a video that became ready
// (processing.Queue).
type ProbeQueue interface {
	EnqueueProbe(ctx context.Context, videoID uuid.UUID) error
}

// Service implements the video and upload operations.
type Service struct {
	opts   Options
	store  Store
	signer Signer
	blobs  Blobs
}

// NewService returns a Service. It panics when a required option is
// missing: that is a wiring mistake, not a runtime condition.
func NewService(opts Options, store Store, signer Signer, blobs Blobs) *Service {
	if opts.Container == "" || opts.UploadMaxBytes <= 0 || opts.QuotaBytes <= 0 {
		panic("media: Options.Container, UploadMaxBytes and QuotaBytes are required")
	}
	if opts.UploadURLTTL <= 0 || opts.UploadURLTTL > MaxUploadURLLifetime {
		opts.UploadURLTTL = MaxUploadURLLifetime
	}
	if opts.ReadURLTTL <= 0 {
		opts.ReadURLTTL = 30 * time.Minute
	}
	if opts.SweepMargin <= 0 {
		opts.SweepMargin = 15 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	return &Service{opts: opts, store: store, signer: signer, blobs: blobs}
}

// UploadURLTTL returns how long upload URLs stay valid.
func (s *Service) UploadURLTTL() time.Duration { return s.opts.UploadURLTTL }

// blobName is the server-chosen name of an upload's blob: the user's own
// prefix, the video, and a fixed file name. Nothing the client sends is
// part of it.
func blobName(userID, videoID uuid.UUID) string {
	return userID.String() + "/" + videoID.String() + "/source"
}

// posterBlobName is the one name of a video's poster
// (processing.PosterBlobName, which cannot be imported from here).
func posterBlobName(userID, videoID uuid.UUID) string {
	return userID.String() + "/" + videoID.String() + "/poster.jpg"
}

// clockSkew is how far storage's clock may be ahead of ours or behind it.
const clockSkew = 5 * time.Minute

// uploadURLMayBeValid reports whether an upload URL issued for v could still
// be used: every URL of a pending upload was issued at or before
// v.UpdatedAt, and later updates only move UpdatedAt forward.
func (s *Service) uploadURLMayBeValid(v Video) bool {
	return v.Source == SourceUpload && s.opts.Now().Before(v.UpdatedAt.Add(s.opts.UploadURLTTL+clockSkew))
}
