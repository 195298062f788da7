package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/clips"
)

// clipJSON is the public shape of a clip (API.md).
type clipJSON struct {
	ID                string          `json:"id"`
	VideoID           string          `json:"video_id"`
	Title             string          `json:"title"`
	StartSeconds      float64         `json:"start_seconds"`
	EndSeconds        float64         `json:"end_seconds"`
	Aspect            string          `json:"aspect"`
	Status            string          `json:"status"`
	Error             *string         `json:"error"`
	DurationSeconds   *float64        `json:"duration_seconds"`
	Width             *int            `json:"width"`
	Height            *int            `json:"height"`
	SizeBytes         *int64          `json:"size_bytes"`
	CreatedAt         time.Time       `json:"created_at"`
	PlaybackURL       string          `json:"playback_url,omitempty"`
	PlaybackExpiresAt *time.Time      `json:"playback_expires_at,omitempty"`
	Progress          *clips.Progress `json:"progress,omitempty"`
}

func toClipJSON(v clips.View) clipJSON {
	c := v.Clip
	out := clipJSON{
		ID: c.ID.String(), VideoID: c.VideoID.String(), Title: c.Title,
		StartSeconds: c.StartSeconds, EndSeconds: c.EndSeconds, Aspect: c.Aspect, Status: c.Status,
		Error: nullable(c.Error), DurationSeconds: c.DurationSeconds, Width: c.Width, Height: c.Height,
		SizeBytes: c.SizeBytes, CreatedAt: c.CreatedAt.UTC(), Progress: v.Progress,
	}
	if v.Playback != nil {
		expires := v.Playback.ExpiresAt.UTC()
		out.PlaybackURL, out.PlaybackExpiresAt = v.Playback.URL, &expires
	}
	return out
}

type clipResponse struct {
	Clip clipJSON `json:"clip"`
}

type clipListResponse struct {
	Items []clipJSON `json:"items"`
}

type clipRequest struct {
	Title        string   `json:"title"`
	StartSeconds *float64 `json:"start_seconds"`
	EndSeconds   *float64 `json:"end_seconds"`
	Aspect       string   `json:"aspect"`
}

// Valid checks presence; the rules live in clips.
func (r clipRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.StartSeconds == nil {
		fields["start_seconds"] = "is required"
	}
	if r.EndSeconds == nil {
		fields["end_seconds"] = "is required"
	}
	return fields
}

// clipError maps the clips package's errors to the API's.
func clipError(err error) *Error {
	var v *clips.ValidationError
	switch {
	case errors.As(err, &v):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.", Fields: v.Fields}
	case errors.Is(err, clips.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The clip does not exist."}
	case errors.Is(err, clips.ErrVideoNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The video does not exist."}
	case errors.Is(err, clips.ErrVideoNotReady):
		return &Error{Status: http.StatusConflict, Code: "video_not_ready", Message: "The video is not ready for clips yet: wait until it is processed."}
	case errors.Is(err, clips.ErrTooManyClips):
		return &Error{Status: http.StatusTooManyRequests, Code: "too_many_clips", Message: "Too many clips are being made; wait for one to finish."}
	}
	return nil
}

// POST /api/videos/{id}/clips
func (s *Server) createClip(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	videoID, ok := parseID(r, "id")
	if !ok {
		return clips.ErrVideoNotFound
	}
	req, err := decodeValid[clipRequest](r, w)
	if err != nil {
		return err
	}
	if req.Aspect == "" {
		req.Aspect = clips.AspectOriginal
	}
	clip, err := s.clips.Create(r.Context(), c.UserID, videoID, clips.Request{
		Title: req.Title, StartSeconds: *req.StartSeconds, EndSeconds: *req.EndSeconds, Aspect: req.Aspect,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, clipResponse{Clip: toClipJSON(clips.View{Clip: clip, Progress: &clips.Progress{UpdatedAt: clip.UpdatedAt.UTC()}})})
	return nil
}

// GET /api/videos/{id}/clips
func (s *Server) listClips(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	videoID, ok := parseID(r, "id")
	if !ok {
		return clips.ErrVideoNotFound
	}
	views, err := s.clips.List(r.Context(), c.UserID, videoID)
	if err != nil {
		return err
	}
	resp := clipListResponse{Items: make([]clipJSON, 0, len(views))}
	for _, v := range views {
		resp.Items = append(resp.Items, toClipJSON(v))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// GET /api/clips/{id}
func (s *Server) getClip(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, ok := parseID(r, "id")
	if !ok {
		return clips.ErrNotFound
	}
	v, err := s.clips.Get(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, clipResponse{Clip: toClipJSON(v)})
	return nil
}

// DELETE /api/clips/{id}: 204, and the clip's blob is gone. Another user's
// clip is 404 and left untouched.
func (s *Server) deleteClip(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, ok := parseID(r, "id")
	if !ok {
		return clips.ErrNotFound
	}
	if err := s.clips.Delete(r.Context(), c.UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
