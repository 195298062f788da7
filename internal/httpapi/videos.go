package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/media"
)

// videoJSON is the public shape of a video (API.md), plus error (why it
// failed) and playback_expires_at.
type videoJSON struct {
	ID                string     `json:"id"`
	Title             string     `json:"title"`
	Source            string     `json:"source"`
	SourceURL         *string    `json:"source_url"`
	Status            string     `json:"status"`
	Error             *string    `json:"error"`
	ContentType       *string    `json:"content_type"`
	SizeBytes         *int64     `json:"size_bytes"`
	DurationSeconds   *float64   `json:"duration_seconds"`
	Width             *int       `json:"width"`
	Height            *int       `json:"height"`
	CreatedAt         time.Time  `json:"created_at"`
	PlaybackURL       string     `json:"playback_url,omitempty"`
	PlaybackExpiresAt *time.Time `json:"playback_expires_at,omitempty"`
	// Processing (probe and poster) of a ready video; null before.
	ProcessingStatus *string  `json:"processing_status"`
	ProcessingError  *string  `json:"processing_error"`
	FrameRate        *float64 `json:"frame_rate"`
	VideoCodec       *string  `json:"video_codec"`
	AudioCodec       *string  `json:"audio_codec"`
	BitRate          *int64   `json:"bit_rate"`
	ThumbnailURL     string   `json:"thumbnail_url,omitempty"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toVideoJSON(v media.Video, p *media.Playback) videoJSON {
	out := videoJSON{
		ID: v.ID.String(), Title: v.Title, Source: v.Source, SourceURL: nullable(v.SourceURL),
		Status: v.Status, Error: nullable(v.Error), ContentType: nullable(v.ContentType),
		SizeBytes: v.SizeBytes, DurationSeconds: v.DurationSeconds, Width: v.Width, Height: v.Height,
		CreatedAt:        v.CreatedAt.UTC(),
		ProcessingStatus: nullable(v.ProcessingStatus), ProcessingError: nullable(v.ProcessingError),
		FrameRate: v.FrameRate, VideoCodec: nullable(v.VideoCodec), AudioCodec: nullable(v.AudioCodec),
		BitRate: v.BitRate, ThumbnailURL: v.ThumbnailURL,
	}
	if p != nil {
		expires := p.ExpiresAt.UTC()
		out.PlaybackURL, out.PlaybackExpiresAt = p.URL, &expires
	}
	return out
}

type videoResponse struct {
	Video videoJSON `json:"video"`
}

type uploadRequest struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
}

func (uploadRequest) Valid(context.Context) map[string]string { return nil } // rules live in media

// uploadResponse tells the client where to send the blob and how.
type uploadResponse struct {
	VideoID        string    `json:"video_id"`
	UploadURL      string    `json:"upload_url"`
	ExpiresAt      time.Time `json:"expires_at"`
	BlockSizeBytes int       `json:"block_size_bytes"`
}

func writeUpload(w http.ResponseWriter, status int, u media.Upload) {
	writeJSON(w, status, uploadResponse{
		VideoID: u.Video.ID.String(), UploadURL: u.URL, ExpiresAt: u.ExpiresAt.UTC(),
		BlockSizeBytes: media.UploadBlockSize,
	})
}

// POST /api/uploads
func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	req, err := decodeValid[uploadRequest](r, w)
	if err != nil {
		return err
	}
	u, err := s.media.StartUpload(r.Context(), c.UserID, media.UploadRequest{
		Filename: req.Filename, ContentType: req.ContentType, SizeBytes: req.SizeBytes,
	})
	if err != nil {
		return err
	}
	writeUpload(w, http.StatusCreated, u)
	return nil
}

// uploadStatusResponse is a pending upload's state, for resuming it.
type uploadStatusResponse struct {
	VideoID        string            `json:"video_id"`
	Status         string            `json:"status"`
	Title          string            `json:"title"`
	SizeBytes      int64             `json:"size_bytes"`
	ContentType    string            `json:"content_type"`
	BlockSizeBytes int               `json:"block_size_bytes"`
	ExpiresAt      time.Time         `json:"expires_at"`
	Committed      bool              `json:"committed"`
	StagedBlocks   []stagedBlockJSON `json:"staged_blocks"`
}

type stagedBlockJSON struct {
	ID        string `json:"id"`
	SizeBytes int64  `json:"size_bytes"`
}

// GET /api/uploads/{video_id}: the blocks already staged, so that a client
// that lost its state (a reload) sends only the others.
func (s *Server) getUpload(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, err := pathID(r, "video_id")
	if err != nil {
		return err
	}
	st, err := s.media.UploadStatus(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	out := uploadStatusResponse{
		VideoID: st.Video.ID.String(), Status: st.Video.Status, Title: st.Video.Title,
		ContentType: st.Video.ContentType, BlockSizeBytes: media.UploadBlockSize,
		ExpiresAt: st.ExpiresAt, Committed: st.Committed,
		StagedBlocks: make([]stagedBlockJSON, 0, len(st.Staged)),
	}
	if st.Video.SizeBytes != nil {
		out.SizeBytes = *st.Video.SizeBytes
	}
	for _, b := range st.Staged {
		out.StagedBlocks = append(out.StagedBlocks, stagedBlockJSON{ID: b.ID, SizeBytes: b.SizeBytes})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/uploads/{video_id}/renew
func (s *Server) renewUpload(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, err := pathID(r, "video_id")
	if err != nil {
		return err
	}
	u, err := s.media.RenewUpload(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	writeUpload(w, http.StatusOK, u)
	return nil
}

// POST /api/uploads/{video_id}/complete
func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, err := pathID(r, "video_id")
	if err != nil {
		return err
	}
	v, err := s.media.CompleteUpload(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, videoResponse{Video: toVideoJSON(v, nil)})
	return nil
}

type videoListResponse struct {
	Items      []videoJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

// pageLimit reads the optional ?limit of a list route: 0 when absent (the
// store's default), 422 validation_failed unless a whole number in 1..max.
func pageLimit(q url.Values, max int) (int, error) {
	if !q.Has("limit") {
		return 0, nil
	}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n < 1 || n > max {
		return 0, &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.",
			Fields: map[string]string{"limit": "must be a whole number between 1 and " + strconv.Itoa(max)}}
	}
	return n, nil
}

// GET /api/videos?limit&cursor
func (s *Server) listVideos(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	q := r.URL.Query()
	limit, err := pageLimit(q, media.MaxPageSize)
	if err != nil {
		return err
	}
	page, err := s.media.Videos(r.Context(), c.UserID, limit, q.Get("cursor"))
	if err != nil {
		return err
	}
	resp := videoListResponse{Items: make([]videoJSON, 0, len(page.Videos)), NextCursor: nullable(page.NextCursor)}
	for _, v := range page.Videos {
		resp.Items = append(resp.Items, toVideoJSON(v, nil))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// GET /api/videos/{id}
func (s *Server) getVideo(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, playback, err := s.media.Video(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, videoResponse{Video: toVideoJSON(v, playback)})
	return nil
}

// DELETE /api/videos/{id} answers 204 whenever, afterwards, the user has no
// video with that id: also when there was none, or it is another user's
// (left untouched). A retried delete thus succeeds, and the answer reveals
// nothing about other users' videos. An id that is not a canonical UUID is
// 404, like on every {id} route.
func (s *Server) deleteVideo(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.media.Delete(r.Context(), c.UserID, id); err != nil {
		return err
	}
	if s.imports != nil {
		// Progress an import's worker wrote must not answer polls of a
		// deleted video (importer.Service.ProgressJSON).
		s.imports.Ended(r.Context(), id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pathID parses a video id from the path; an id that is not a canonical
// UUID (see parseID) names no video.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, ok := parseID(r, name)
	if !ok {
		return uuid.Nil, media.ErrNotFound
	}
	return id, nil
}

// mediaError maps the media package's errors to the API's.
func mediaError(err error) *Error {
	var v *media.ValidationError
	var q *media.QuotaError
	var rej *media.RejectedError
	switch {
	case errors.As(err, &v):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.", Fields: v.Fields}
	case errors.As(err, &q):
		return &Error{Status: http.StatusForbidden, Code: "quota_exceeded", Message: "Storage quota exceeded: " + q.Error() + "."}
	case errors.As(err, &rej):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "upload_rejected", Message: "The upload was rejected: " + rej.Reason + "."}
	case errors.Is(err, media.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The video does not exist."}
	case errors.Is(err, media.ErrNotAnUpload):
		return &Error{Status: http.StatusConflict, Code: "not_an_upload", Message: "The video was not uploaded directly."}
	case errors.Is(err, media.ErrNotPending):
		return &Error{Status: http.StatusConflict, Code: "upload_closed", Message: "The video no longer accepts an upload."}
	case errors.Is(err, media.ErrUploadIncomplete):
		return &Error{Status: http.StatusConflict, Code: "upload_incomplete", Message: "No file has been committed yet: upload every block, commit the block list, then try again."}
	}
	return nil
}
