// Package posts schedules and publishes posts: a ready video or clip sent
// to a connected social account at a chosen time.
//
// Guarantees:
//   - a post is published at its time by the publish queue: its message is
//     sent with a scheduled enqueue time (Service Bus ScheduledEnqueueTime,
//     the local queue's NotBefore), and the sweeper sends it again for a due
//     post still scheduled, so a lost message cannot lose a post;
//   - a post is published at most once, whatever the redeliveries and
//     concurrent workers: a worker claims it scheduled -> publishing with a
//     new attempt number and a lease in one UPDATE, and only that attempt
//     may record progress, success or failure. A message that finds the
//     post publishing under a live lease does nothing;
//   - a re-run after a crash (lease expired) resumes the same upload
//     session: the platform is asked how much it has, so no second video is
//     uploaded;
//   - a post can be cancelled only while it is scheduled; a cancelled post
//     sends nothing;
//   - permanent failures (an account that needs reconnecting, a platform
//     that refuses the upload) end the post failed with a reason in words;
//     transient ones release the lease and ask for redelivery.
//
// Platforms plug in through Publisher (see PublishRequest for what one
// gets and must do); YouTube is the one shipped (YouTube, resumable upload).
package posts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Post statuses, as stored in posts.status.
const (
	StatusScheduled  = "scheduled"
	StatusPublishing = "publishing"
	StatusPublished  = "published"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
)

// Privacy settings.
const (
	PrivacyPublic   = "public"
	PrivacyUnlisted = "unlisted"
	PrivacyPrivate  = "private"
)

// Limits of the fields (YouTube's: a title of at most 100 characters, a
// description of at most 5000 bytes).
const (
	MaxTitleLength   = 100
	MaxCaptionBytes  = 5000
	DefaultPageSize  = 20
	MaxPageSize      = 100
	maxScheduleAhead = 365 * 24 * time.Hour
)

// Post is one scheduled or published post.
type Post struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	VideoID     *uuid.UUID // exactly one of VideoID and ClipID
	ClipID      *uuid.UUID
	AccountID   uuid.UUID
	Title       string
	Caption     string
	Privacy     string
	ScheduledAt time.Time
	Status      string
	Error       string // "" unless failed
	ExternalID  string // "" until published
	ExternalURL string
	PublishedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Request is what POST /api/posts asks for.
type Request struct {
	VideoID     *uuid.UUID
	ClipID      *uuid.UUID
	AccountID   uuid.UUID
	Title       string
	Caption     string
	Privacy     string
	ScheduledAt *time.Time // nil: now
}

var (
	// ErrNotFound: no such post of this user.
	ErrNotFound = errors.New("post not found")
	// ErrAccountNotFound: no such social account of this user.
	ErrAccountNotFound = errors.New("social account not found")
	// ErrVideoNotFound, ErrClipNotFound: no such video or clip of this user.
	ErrVideoNotFound = errors.New("video not found")
	ErrClipNotFound  = errors.New("clip not found")
	// ErrNotReady: the video or clip is not ready to be published.
	ErrNotReady = errors.New("the video or clip is not ready")
	// ErrNotCancellable: the post is no longer scheduled.
	ErrNotCancellable = errors.New("the post can no longer be cancelled")
	// ErrNotCurrent is returned by the work store when the attempt is no
	// longer the post's current one; nothing was changed.
	ErrNotCurrent = errors.New("the publishing attempt is no longer current")
)

// ValidationError lists invalid request fields (field -> reason).
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid post: %v", e.Fields) }

// Filter selects a page of posts.
type Filter struct {
	Status string // "" for all
	Limit  int
	After  *Position
}

// Position is a place in the newest-first order of a user's posts.
type Position struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// Page is one page of posts; NextCursor is "" on the last page.
type Page struct {
	Items      []Post
	NextCursor string
}

// Store is the persistence of the API side.
type Store interface {
	// CreatePost inserts p (status scheduled) if its video or clip is the
	// user's and ready and its account is the user's: ErrVideoNotFound,
	// ErrClipNotFound, ErrNotReady, ErrAccountNotFound otherwise.
	CreatePost(ctx context.Context, p Post) (Post, error)
	// Post returns the user's post id, or ErrNotFound.
	Post(ctx context.Context, userID, id uuid.UUID) (Post, error)
	// Posts returns up to f.Limit+1 of the user's posts, newest first.
	Posts(ctx context.Context, userID uuid.UUID, f Filter) ([]Post, error)
	// CancelPost cancels the user's post if it is scheduled: ErrNotFound,
	// or ErrNotCancellable once publishing started or ended.
	CancelPost(ctx context.Context, userID, id uuid.UUID) (Post, error)
}

// Service is the API side of posts.
type Service struct {
	store  Store
	queue  Queue
	now    func() time.Time
	logger *slog.Logger
}

// NewService returns a Service; now nil means time.Now.
func NewService(store Store, q Queue, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, queue: q, now: now, logger: logger}
}

// Create schedules a post and sends its message to the publish queue,
// to be delivered at its time. A failed send is logged, not returned: the
// post is stored, and the sweeper sends the message of a due post again.
func (s *Service) Create(ctx context.Context, userID uuid.UUID, r Request) (Post, error) {
	now := s.now()
	fields := map[string]string{}
	if (r.VideoID == nil) == (r.ClipID == nil) {
		fields["video_id"] = "exactly one of video_id and clip_id is required"
	}
	if r.AccountID == uuid.Nil {
		fields["social_account_id"] = "is required"
	}
	r.Title = strings.TrimSpace(r.Title)
	switch n := utf8.RuneCountInString(r.Title); {
	case n == 0:
		fields["title"] = "is required"
	case n > MaxTitleLength:
		fields["title"] = fmt.Sprintf("must be at most %d characters", MaxTitleLength)
	case strings.ContainsAny(r.Title, "<>"):
		fields["title"] = "must not contain < or >"
	}
	if len(r.Caption) > MaxCaptionBytes || !utf8.ValidString(r.Caption) {
		fields["caption"] = fmt.Sprintf("must be UTF-8 text of at most %d bytes", MaxCaptionBytes)
	}
	if r.Privacy == "" {
		r.Privacy = PrivacyPrivate
	}
	switch r.Privacy {
	case PrivacyPublic, PrivacyUnlisted, PrivacyPrivate:
	default:
		fields["privacy"] = "must be public, unlisted or private"
	}
	at := now
	if r.ScheduledAt != nil {
		at = *r.ScheduledAt
		switch {
		case at.Before(now.Add(-time.Minute)):
			fields["scheduled_at"] = "must not be in the past"
		case at.After(now.Add(maxScheduleAhead)):
			fields["scheduled_at"] = "must be within a year"
		case at.Before(now):
			at = now
		}
	}
	if len(fields) > 0 {
		return Post{}, &ValidationError{Fields: fields}
	}
	p, err := s.store.CreatePost(ctx, Post{
		ID: uuid.New(), UserID: userID, VideoID: r.VideoID, ClipID: r.ClipID, AccountID: r.AccountID,
		Title: r.Title, Caption: r.Caption, Privacy: r.Privacy, ScheduledAt: at.UTC().Truncate(time.Microsecond),
	})
	if err != nil {
		return Post{}, err
	}
	if err := s.queue.Enqueue(ctx, p.ID, p.ScheduledAt); err != nil {
		s.logger.WarnContext(ctx, "send publish message; the sweeper sends it again once the post is due", "post_id", p.ID, "error", err)
	}
	return p, nil
}

// Get returns the user's post, or ErrNotFound.
func (s *Service) Get(ctx context.Context, userID, id uuid.UUID) (Post, error) {
	return s.store.Post(ctx, userID, id)
}

// List returns a page of the user's posts, newest first, optionally of
// one status. limit 0 means DefaultPageSize; cursor "" is the first page.
func (s *Service) List(ctx context.Context, userID uuid.UUID, status string, limit int, cursor string) (Page, error) {
	fields := map[string]string{}
	switch status {
	case "", StatusScheduled, StatusPublishing, StatusPublished, StatusFailed, StatusCancelled:
	default:
		fields["status"] = "must be scheduled, publishing, published, failed or cancelled"
	}
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		fields["limit"] = fmt.Sprintf("must be between 1 and %d", MaxPageSize)
	}
	f := Filter{Status: status, Limit: limit}
	if cursor != "" {
		p, ok := decodeCursor(cursor)
		if !ok {
			fields["cursor"] = "is not a cursor returned by this API"
		}
		f.After = &p
	}
	if len(fields) > 0 {
		return Page{}, &ValidationError{Fields: fields}
	}
	items, err := s.store.Posts(ctx, userID, f)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = encodeCursor(Position{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// Cancel cancels the user's scheduled post: ErrNotFound, or
// ErrNotCancellable once publishing has started. Its queued message then
// finds nothing to do.
func (s *Service) Cancel(ctx context.Context, userID, id uuid.UUID) (Post, error) {
	return s.store.CancelPost(ctx, userID, id)
}

// Cursors are opaque to clients: base64url of the creation time in
// microseconds and the id.
func encodeCursor(p Position) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%s", p.CreatedAt.UnixMicro(), p.ID))
}

func decodeCursor(s string) (Position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Position{}, false
	}
	var micros int64
	var id string
	before, after, ok := strings.Cut(string(b), ".")
	if !ok {
		return Position{}, false
	}
	if _, err := fmt.Sscanf(before, "%d", &micros); err != nil {
		return Position{}, false
	}
	id = after
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return Position{}, false
	}
	return Position{CreatedAt: time.UnixMicro(micros).UTC(), ID: u}, true
}
