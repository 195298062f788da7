package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/posts"
)

// postJSON is the public shape of a post (API.md).
type postJSON struct {
	ID              string     `json:"id"`
	VideoID         *string    `json:"video_id"`
	ClipID          *string    `json:"clip_id"`
	SocialAccountID string     `json:"social_account_id"`
	Title           string     `json:"title"`
	Caption         string     `json:"caption"`
	Privacy         string     `json:"privacy"`
	ScheduledAt     time.Time  `json:"scheduled_at"`
	Status          string     `json:"status"`
	Error           *string    `json:"error"`
	ExternalID      *string    `json:"external_id"`
	ExternalURL     *string    `json:"external_url"`
	PublishedAt     *time.Time `json:"published_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

func idString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

func toPostJSON(p posts.Post) postJSON {
	out := postJSON{
		ID: p.ID.String(), VideoID: idString(p.VideoID), ClipID: idString(p.ClipID), SocialAccountID: p.AccountID.String(),
		Title: p.Title, Caption: p.Caption, Privacy: p.Privacy, ScheduledAt: p.ScheduledAt.UTC(), Status: p.Status,
		Error: nullable(p.Error), ExternalID: nullable(p.ExternalID), ExternalURL: nullable(p.ExternalURL),
		CreatedAt: p.CreatedAt.UTC(),
	}
	if p.PublishedAt != nil {
		t := p.PublishedAt.UTC()
		out.PublishedAt = &t
	}
	return out
}

type postResponse struct {
	Post postJSON `json:"post"`
}

type postListResponse struct {
	Items      []postJSON `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

type postRequest struct {
	VideoID         *uuid.UUID `json:"video_id"`
	ClipID          *uuid.UUID `json:"clip_id"`
	SocialAccountID *uuid.UUID `json:"social_account_id"`
	Title           string     `json:"title"`
	Caption         string     `json:"caption"`
	Privacy         string     `json:"privacy"`
	ScheduledAt     *time.Time `json:"scheduled_at"`
}

// Valid checks presence; the rules live in posts.
func (r postRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.SocialAccountID == nil {
		fields["social_account_id"] = "is required"
	}
	return fields
}

// postError maps the posts package's errors to the API's.
func postError(err error) *Error {
	var v *posts.ValidationError
	switch {
	case errors.As(err, &v):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.", Fields: v.Fields}
	case errors.Is(err, posts.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The post does not exist."}
	case errors.Is(err, posts.ErrAccountNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The social account does not exist."}
	case errors.Is(err, posts.ErrVideoNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The video does not exist."}
	case errors.Is(err, posts.ErrClipNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The clip does not exist."}
	case errors.Is(err, posts.ErrNotReady):
		return &Error{Status: http.StatusConflict, Code: "not_ready", Message: "The video or clip is not ready to be posted yet."}
	case errors.Is(err, posts.ErrNotCancellable):
		return &Error{Status: http.StatusConflict, Code: "not_cancellable", Message: "The post is already publishing or finished and can no longer be cancelled."}
	}
	return nil
}

// POST /api/posts: 201 with the scheduled post.
func (s *Server) createPost(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	req, err := decodeValid[postRequest](r, w)
	if err != nil {
		return err
	}
	p, err := s.posts.Create(r.Context(), c.UserID, posts.Request{
		VideoID: req.VideoID, ClipID: req.ClipID, AccountID: *req.SocialAccountID,
		Title: req.Title, Caption: req.Caption, Privacy: req.Privacy, ScheduledAt: req.ScheduledAt,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, postResponse{Post: toPostJSON(p)})
	return nil
}

// GET /api/posts?status&limit&cursor
func (s *Server) listPosts(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	q := r.URL.Query()
	limit, err := pageLimit(q, posts.MaxPageSize)
	if err != nil {
		return err
	}
	page, err := s.posts.List(r.Context(), c.UserID, q.Get("status"), limit, q.Get("cursor"))
	if err != nil {
		return err
	}
	resp := postListResponse{Items: make([]postJSON, 0, len(page.Items)), NextCursor: nullable(page.NextCursor)}
	for _, p := range page.Items {
		resp.Items = append(resp.Items, toPostJSON(p))
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// GET /api/posts/{id}: another user's post is 404.
func (s *Server) getPost(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, ok := parseID(r, "id")
	if !ok {
		return posts.ErrNotFound
	}
	p, err := s.posts.Get(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, postResponse{Post: toPostJSON(p)})
	return nil
}

// POST /api/posts/{id}/cancel: 200 with the cancelled post; 409 once
// publishing started.
func (s *Server) cancelPost(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, ok := parseID(r, "id")
	if !ok {
		return posts.ErrNotFound
	}
	p, err := s.posts.Cancel(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, postResponse{Post: toPostJSON(p)})
	return nil
}
