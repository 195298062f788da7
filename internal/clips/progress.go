package clips

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/redisstore"
)

// Progress is how far a running clip is: the share of the clip's duration
// ffmpeg has written (null before it starts), as of UpdatedAt.
type Progress struct {
	Percent   *float64  `json:"percent"`
	UpdatedAt time.Time `json:"updated_at"`
}

// progressTTL keeps progress for the last polls; PostgreSQL has the outcome.
const progressTTL = time.Hour

// ProgressStore keeps progress in Redis, one JSON value per clip with a TTL.
type ProgressStore struct {
	Client *redisstore.Client
}

func (s ProgressStore) key(id uuid.UUID) string { return s.Client.Key("clip:progress:" + id.String()) }

// Set replaces the progress of clip id.
func (s ProgressStore) Set(ctx context.Context, id uuid.UUID, p Progress) error {
	if err := redisstore.SetJSON(ctx, s.Client, s.key(id), p, progressTTL); err != nil {
		return fmt.Errorf("set clip progress: %w", err)
	}
	return nil
}

// Get returns the progress of clip id; ok is false when Redis has none.
func (s ProgressStore) Get(ctx context.Context, id uuid.UUID) (Progress, bool, error) {
	p, ok, err := redisstore.GetJSON[Progress](ctx, s.Client, s.key(id))
	if err != nil {
		return Progress{}, false, fmt.Errorf("get clip progress: %w", err)
	}
	return p, ok, nil
}

// progressWriter writes ffmpeg's position at most every interval; Redis
// errors go to onError and never stop the render (progress is advisory).
type progressWriter struct {
	store interface {
		Set(context.Context, uuid.UUID, Progress) error
	}
	id       uuid.UUID
	interval time.Duration
	onError  func(error)

	mu      sync.Mutex
	written time.Time
}

func (w *progressWriter) set(ctx context.Context, percent *float64, force bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(w.written) < w.interval {
		return
	}
	w.written = now
	if err := w.store.Set(ctx, w.id, Progress{Percent: percent, UpdatedAt: now.UTC()}); err != nil && w.onError != nil {
		w.onError(err)
	}
}
