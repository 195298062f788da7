package media

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Playback is a short-lived URL to read a ready video's file.
type Playback struct {
	URL       string
	ExpiresAt time.Time
}

// Video returns the user's video and, once it is ready, a read URL valid
// for a short time, for the snapshot that was checked when the video is an
// upload. ErrNotFound when the video does not exist or is not
// the user's.
func (s *Service) Video(ctx context.Context, userID, id uuid.UUID) (Video, *Playback, error) {
	v, err := s.store.Video(ctx, userID, id)
	if err != nil {
		return Video{}, nil, err
	}
	if err := s.signThumbnail(ctx, &v); err != nil {
		return Video{}, nil, err
	}
	if v.Status != StatusReady || v.SourceBlob == "" {
		return v, nil, nil
	}
	expires := s.opts.Now().Add(s.opts.ReadURLTTL).UTC().Truncate(time.Second)
	url, err := s.signer.ReadURL(ctx, v.SourceBlob, v.SourceSnapshot, v.ContentType, expires)
	if err != nil {
		return Video{}, nil, fmt.Errorf("sign read url: %w", err)
	}
	return v, &Playback{URL: url, ExpiresAt: expires}, nil
}

// Page is one page of a video list. NextCursor is "" on the last page.
type Page struct {
	Videos     []Video
	NextCursor string
}

// Videos returns a page of the user's videos, newest first. limit is
// between 1 and MaxPageSize (0 means DefaultPageSize); cursor is "" for the
// first page or a NextCursor from an earlier page. *ValidationError for a
// cursor that is not one.
func (s *Service) Videos(ctx context.Context, userID uuid.UUID, limit int, cursor string) (Page, error) {
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return Page{}, &ValidationError{Fields: map[string]string{"limit": fmt.Sprintf("must be between 1 and %d", MaxPageSize)}}
	}
	var after Position
	if cursor != "" {
		p, ok := decodeCursor(cursor)
		if !ok {
			return Page{}, &ValidationError{Fields: map[string]string{"cursor": "is not a cursor returned by this API"}}
		}
		after = p
	}
	// One more than asked tells whether there is a next page.
	videos, err := s.store.Videos(ctx, userID, after, limit+1)
	if err != nil {
		return Page{}, err
	}
	var page Page
	if len(videos) > limit {
		videos = videos[:limit]
		last := videos[limit-1]
		page.NextCursor = encodeCursor(Position{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for i := range videos {
		if err := s.signThumbnail(ctx, &videos[i]); err != nil {
			return Page{}, err
		}
	}
	page.Videos = videos
	return page, nil
}

// signThumbnail sets v.ThumbnailURL to a read URL of its poster, valid for
// ReadURLTTL, when it has one.
func (s *Service) signThumbnail(ctx context.Context, v *Video) error {
	if v.PosterBlob == "" || v.Status != StatusReady {
		return nil
	}
	expires := s.opts.Now().Add(s.opts.ReadURLTTL).UTC().Truncate(time.Second)
	u, err := s.signer.ReadURL(ctx, v.PosterBlob, "", "image/jpeg", expires)
	if err != nil {
		return fmt.Errorf("sign thumbnail url: %w", err)
	}
	v.ThumbnailURL = u
	return nil
}

// Cursors are opaque to clients: base64url of the creation time in
// microseconds (PostgreSQL's precision) and the id, 24 bytes.
func encodeCursor(p Position) string {
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b, uint64(p.CreatedAt.UnixMicro()))
	copy(b[8:], p.ID[:])
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (Position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return Position{}, false
	}
	id, err := uuid.FromBytes(b[8:])
	if err != nil || id == uuid.Nil {
		return Position{}, false
	}
	return Position{CreatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b))).UTC(), ID: id}, true
}

// Delete deletes the user's video: its blobs first (every file_storage row
// of the video and its clips, each with all its snapshots, and for an
// import the blob its worker writes, recorded or not), then its rows.
// Deleting a video that does not exist, or is not the user's, does nothing
// and is not an error.
//
// An import still queued or downloading is first cancelled, in a committed
// statement of its own: from then on no worker can record it (its Finish
// fails, and the worker deletes the blob it committed), so the blobs listed
// after it are all there will be.
//
// While an upload URL of the video may still be valid, its holder could
// write the blob again after this deletion; the video is then hidden
// instead of deleted, and the sweeper deletes its blob and rows once the
// URL has expired.
func (s *Service) Delete(ctx context.Context, userID, id uuid.UUID) error {
	v, err := s.store.Video(ctx, userID, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// The poster too, recorded or not: a processing attempt may have
	// committed it without recording it yet (it deletes what it commits
	// once it finds the video gone).
	extra := []string{posterBlobName(v.UserID, id)}
	if v.Source == SourceURL {
		if err := s.store.StopImport(ctx, id); err != nil {
			return fmt.Errorf("stop import: %w", err)
		}
		extra = append(extra, blobName(v.UserID, id))
	}
	if err := s.deleteBlobs(ctx, id, extra...); err != nil {
		return err
	}
	if s.uploadURLMayBeValid(v) {
		if err := s.store.HideUpload(ctx, id); err != nil {
			return fmt.Errorf("hide deleted upload: %w", err)
		}
	} else if err := s.store.DeleteVideo(ctx, id); err != nil {
		return fmt.Errorf("delete video: %w", err)
	}
	s.opts.Logger.Info("video deleted", "video_id", id, "user_id", userID)
	return nil
}

// deleteBlobs deletes every blob recorded for the video and its clips, and
// the extra blobs named.
func (s *Service) deleteBlobs(ctx context.Context, videoID uuid.UUID, extra ...string) error {
	names, err := s.store.BlobNames(ctx, videoID)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, name := range extra {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if err := s.blobs.Delete(ctx, name); err != nil {
			return fmt.Errorf("delete blob: %w", err)
		}
	}
	return nil
}
