package media

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/ratelimit"
)

// UploadRequest is what a client declares before uploading.
type UploadRequest struct {
	Filename    string // kept only as the title
	ContentType string
	SizeBytes   int64
}

// Upload is an issued upload: the video and the URL to send its blob to.
type Upload struct {
	Video     Video
	URL       string
	ExpiresAt time.Time
}

// StartUpload validates req, reserves its size against the user's quota,
// creates a pending upload video and returns a URL that can write its blob
// only. It returns *ValidationError for a bad request and *QuotaError when
// the declared size does not fit in the quota.
func (s *Service) StartUpload(ctx context.Context, userID uuid.UUID, req UploadRequest) (Upload, error) {
	title, contentType, problems := s.validate(req)
	if len(problems) > 0 {
		return Upload{}, &ValidationError{Fields: problems}
	}
	if err := s.limitUploads(ctx, userID); err != nil {
		return Upload{}, err
	}
	id := uuid.New()
	name := blobName(userID, id)
	// Sign before inserting: a signing failure then leaves nothing behind.
	expires := s.uploadURLExpiry()
	url, err := s.uploadURL(ctx, name, expires)
	if err != nil {
		return Upload{}, err
	}
	v, err := s.store.CreateUpload(ctx, NewUpload{
		ID: id, UserID: userID, Title: title, ContentType: contentType, SizeBytes: req.SizeBytes,
		Container: s.opts.Container, BlobName: name, URLExpiresAt: expires,
	}, s.opts.QuotaBytes)
	if err != nil {
		return Upload{}, err
	}
	return Upload{Video: v, URL: url, ExpiresAt: expires}, nil
}

// limitUploads applies the per-user limit on issued upload URLs; a
// *ratelimit.LimitError when it is reached.
func (s *Service) limitUploads(ctx context.Context, userID uuid.UUID) error {
	if s.opts.Limiter == nil {
		return nil
	}
	limit := s.opts.UploadLimit
	if limit == (ratelimit.Limit{}) {
		limit = ratelimit.PerHour(60)
	}
	return ratelimit.Enforce(ctx, s.opts.Limiter, ratelimit.Rule{Name: "upload:user", Subject: userID.String(), Limit: limit})
}

// RenewUpload issues a new upload URL for the same blob of a pending upload,
// for uploads that take longer than one URL's lifetime. ErrNotFound,
// ErrNotAnUpload, or ErrNotPending when the upload was completed or failed.
func (s *Service) RenewUpload(ctx context.Context, userID, id uuid.UUID) (Upload, error) {
	v, err := s.store.Video(ctx, userID, id)
	if err != nil {
		return Upload{}, err
	}
	if v.Source != SourceUpload {
		return Upload{}, ErrNotAnUpload
	}
	if v.Status != StatusPendingUpload {
		return Upload{}, ErrNotPending
	}
	if err := s.limitUploads(ctx, userID); err != nil {
		return Upload{}, err
	}
	// Record the renewal first: the sweeper measures staleness from it.
	expires := s.uploadURLExpiry()
	if v, err = s.store.RenewUpload(ctx, id, expires); err != nil {
		return Upload{}, err
	}
	url, err := s.uploadURL(ctx, v.SourceBlob, expires)
	if err != nil {
		return Upload{}, err
	}
	return Upload{Video: v, URL: url, ExpiresAt: expires}, nil
}

// UploadStatus is what a client needs to resume a pending upload, after a
// reload for instance: what the video declared, and what storage holds.
type UploadStatus struct {
	Video Video
	// ExpiresAt is when the latest upload URL stops working (a client that
	// lost it gets a new one from RenewUpload).
	ExpiresAt time.Time
	// Committed reports whether a blob was committed (Put Block List or Put
	// Blob): then the upload only needs completing.
	Committed bool
	// Staged are the blocks staged and not committed; a client sends only
	// the others, then commits the whole list.
	Staged []StagedBlock
}

// UploadStatus returns the state of the user's pending upload id. It
// returns ErrNotFound for a video that is not the user's, ErrNotAnUpload for
// an import and ErrNotPending once the upload was completed, refused or
// deleted. It changes nothing.
func (s *Service) UploadStatus(ctx context.Context, userID, id uuid.UUID) (UploadStatus, error) {
	v, err := s.store.Video(ctx, userID, id)
	if err != nil {
		return UploadStatus{}, err
	}
	if v.Source != SourceUpload {
		return UploadStatus{}, ErrNotAnUpload
	}
	if v.Status != StatusPendingUpload {
		return UploadStatus{}, ErrNotPending
	}
	staged, err := s.blobs.StagedBlocks(ctx, v.SourceBlob)
	if err != nil {
		return UploadStatus{}, fmt.Errorf("upload status: %w", err)
	}
	committed := true
	if _, _, err := s.blobs.Inspect(ctx, v.SourceBlob, "", 0); errors.Is(err, ErrBlobNotFound) {
		committed = false
	} else if err != nil {
		return UploadStatus{}, fmt.Errorf("upload status: %w", err)
	}
	expires := v.UploadExpiresAt
	if expires.IsZero() { // created before migration 00013: its bound as it was then
		expires = v.UpdatedAt.Add(s.opts.UploadURLTTL).Truncate(time.Second)
	}
	return UploadStatus{
		Video:     v,
		ExpiresAt: expires.UTC(),
		Committed: committed,
		Staged:    staged,
	}, nil
}

// uploadURLExpiry is when an upload URL issued now stops working. SAS times
// have whole seconds; truncating keeps expires_at exact.
func (s *Service) uploadURLExpiry() time.Time {
	return s.opts.Now().Add(s.opts.UploadURLTTL).UTC().Truncate(time.Second)
}

func (s *Service) uploadURL(ctx context.Context, name string, expires time.Time) (string, error) {
	url, err := s.signer.UploadURL(ctx, name, expires)
	if err != nil {
		return "", fmt.Errorf("sign upload url: %w", err)
	}
	return url, nil
}

// validate checks an upload request and returns the title and normalised
// content type, or the problems by JSON field name.
func (s *Service) validate(req UploadRequest) (title, contentType string, problems map[string]string) {
	problems = map[string]string{}
	title = strings.TrimSpace(req.Filename)
	// Keep the base name only: a path says nothing the title needs.
	if i := strings.LastIndexAny(title, `/\`); i >= 0 {
		title = strings.TrimSpace(title[i+1:])
	}
	switch {
	case title == "":
		problems["filename"] = "is required"
	case !utf8.ValidString(title) || strings.ContainsFunc(title, unicode.IsControl):
		problems["filename"] = "must be text without control characters"
	case utf8.RuneCountInString(title) > MaxFilenameLength:
		problems["filename"] = fmt.Sprintf("must be at most %d characters", MaxFilenameLength)
	}
	contentType, ok := allowedContentType(req.ContentType)
	if !ok {
		problems["content_type"] = "must be one of " + allowedContentTypes()
	}
	switch {
	case req.SizeBytes < 1:
		problems["size_bytes"] = "must be at least 1"
	case req.SizeBytes > s.opts.UploadMaxBytes:
		problems["size_bytes"] = fmt.Sprintf("must be at most %d (the upload limit)", s.opts.UploadMaxBytes)
	}
	return title, contentType, problems
}

// CompleteUpload checks the blob a client uploaded and makes the video
// ready. It is idempotent: completing a ready video returns it unchanged.
//
// What it checks is a snapshot of the blob, taken first, and the video is
// read from that snapshot from then on (Video.SourceSnapshot): the upload
// URL stays valid for some minutes and can still rewrite the base blob,
// break or take leases on it and snapshot it, but it cannot change a
// snapshot, so playback, processing and the stored size keep to the bytes
// that were checked. The sweeper settles the base blob once the URL has
// expired (SweepUploads).
//
// It returns ErrNotFound, ErrNotAnUpload, ErrUploadIncomplete (no blob
// committed yet; nothing changed), ErrNotPending (the upload was
// cancelled), or *RejectedError when the blob is larger than declared,
// larger than the upload cap, not a video, or over the quota: the blob is
// then deleted and the video failed with that reason, and completing it
// again returns the same error.
func (s *Service) CompleteUpload(ctx context.Context, userID, id uuid.UUID) (Video, error) {
	v, err := s.store.Video(ctx, userID, id)
	if err != nil {
		return Video{}, err
	}
	if v.Source != SourceUpload {
		return Video{}, ErrNotAnUpload
	}
	switch v.Status {
	case StatusPendingUpload:
	case StatusReady, StatusProcessing:
		return v, nil
	case StatusFailed:
		return v, &RejectedError{Reason: v.Error}
	default:
		return Video{}, ErrNotPending
	}

	snapshot, err := s.blobs.Snapshot(ctx, v.SourceBlob)
	if errors.Is(err, ErrBlobNotFound) {
		return Video{}, ErrUploadIncomplete
	}
	if err != nil {
		return Video{}, fmt.Errorf("snapshot upload: %w", err)
	}
	size, head, err := s.blobs.Inspect(ctx, v.SourceBlob, snapshot, sniffLen)
	if errors.Is(err, ErrBlobNotFound) {
		return Video{}, ErrNotFound // deleted (with its snapshots) meanwhile
	}
	if err != nil {
		s.dropSnapshot(ctx, v, snapshot)
		return Video{}, fmt.Errorf("inspect upload: %w", err)
	}
	contentType, reason := s.check(v, size, head)
	if reason != "" {
		return s.reject(ctx, v, reason)
	}
	done, err := s.store.CompleteUpload(ctx, v.ID, snapshot, size, contentType, s.opts.QuotaBytes)
	var quota *QuotaError
	switch {
	case errors.As(err, &quota):
		return s.reject(ctx, v, "it would exceed your storage quota: "+quota.Error())
	case errors.Is(err, ErrNotPending):
		// Changed while we checked: completed by a concurrent call (which
		// recorded its own snapshot), or deleted or swept (whoever did it
		// deletes the blob with every snapshot).
		now, err := s.store.Video(ctx, userID, id)
		if err == nil && now.SourceSnapshot != snapshot {
			s.dropSnapshot(ctx, v, snapshot)
		}
		if err == nil && now.Status == StatusReady {
			return now, nil
		}
		return Video{}, ErrNotFound
	case err != nil:
		s.dropSnapshot(ctx, v, snapshot)
		return Video{}, fmt.Errorf("complete upload: %w", err)
	}
	s.opts.Logger.Info("upload completed", "video_id", v.ID, "user_id", v.UserID, "size_bytes", size, "content_type", contentType)
	if s.opts.Probes != nil {
		if err := s.opts.Probes.EnqueueProbe(ctx, v.ID); err != nil {
			s.opts.Logger.Warn("probe message not sent; the sweeper will send it again", "video_id", v.ID, "err", err.Error())
		}
	}
	return done, nil
}

// dropSnapshot deletes a snapshot no video reads. Failing to is only
// logged: the sweeper deletes every snapshot but the recorded one when it
// settles the blob, and all of them with the video.
func (s *Service) dropSnapshot(ctx context.Context, v Video, snapshot string) {
	if err := s.blobs.DeleteSnapshot(ctx, v.SourceBlob, snapshot); err != nil {
		s.opts.Logger.Warn("delete an unused upload snapshot", "video_id", v.ID, "err", err.Error())
	}
}

// check returns the content type to store, or why the blob is refused.
func (s *Service) check(v Video, size int64, head []byte) (contentType, reason string) {
	declared := int64(0)
	if v.SizeBytes != nil {
		declared = *v.SizeBytes
	}
	switch {
	case size == 0:
		return "", "the uploaded file is empty"
	case size > s.opts.UploadMaxBytes:
		return "", fmt.Sprintf("the uploaded file has %d bytes, more than the upload limit of %d", size, s.opts.UploadMaxBytes)
	case size > declared:
		return "", fmt.Sprintf("the uploaded file has %d bytes, more than the %d declared", size, declared)
	}
	contentType, ok := sniff(head, v.ContentType)
	if !ok {
		return "", "the uploaded file is not a video in a supported format (MP4, QuickTime, WebM, Matroska or MPEG-TS)"
	}
	return contentType, ""
}

// reject deletes the upload's blob, with its snapshots, and fails the video
// with reason.
func (s *Service) reject(ctx context.Context, v Video, reason string) (Video, error) {
	if err := s.blobs.Delete(ctx, v.SourceBlob); err != nil {
		return Video{}, fmt.Errorf("delete rejected upload: %w", err)
	}
	failed, err := s.store.FailUpload(ctx, v.ID, reason)
	if errors.Is(err, ErrNotPending) {
		return Video{}, ErrNotFound // deleted or swept meanwhile
	}
	if err != nil {
		return Video{}, fmt.Errorf("fail upload: %w", err)
	}
	s.opts.Logger.Info("upload rejected", "video_id", v.ID, "user_id", v.UserID, "reason", reason)
	return failed, &RejectedError{Reason: reason}
}
