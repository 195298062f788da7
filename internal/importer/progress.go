package importer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/redisstore"
)

// Progress is what GET /api/imports/{id} returns (API.md).
type Progress struct {
	VideoID       uuid.UUID `json:"video_id"`
	Status        string    `json:"status"`
	Step          string    `json:"step"`
	Percent       *float64  `json:"percent"`
	BytesUploaded int64     `json:"bytes_uploaded"`
	TotalBytes    *int64    `json:"total_bytes"`
	SpeedBps      float64   `json:"speed_bps"`
	ETASeconds    *int64    `json:"eta_seconds"`
	Error         *string   `json:"error"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// progressTTL keeps progress after an import ends long enough for the
// frontend's last polls; PostgreSQL has the final state anyway.
const progressTTL = time.Hour

// ProgressStore keeps progress in Redis as one JSON value per video with a
// TTL.
type ProgressStore struct {
	Client *redisstore.Client
}

func (s ProgressStore) key(id uuid.UUID) string {
	return s.Client.Key("import:progress:" + id.String())
}

// Set replaces the progress of p.VideoID.
func (s ProgressStore) Set(ctx context.Context, p Progress) error {
	if err := redisstore.SetJSON(ctx, s.Client, s.key(p.VideoID), p, progressTTL); err != nil {
		return fmt.Errorf("set progress: %w", err)
	}
	return nil
}

// Get returns the progress of id; ok is false when Redis has none.
func (s ProgressStore) Get(ctx context.Context, id uuid.UUID) (Progress, bool, error) {
	p, ok, err := redisstore.GetJSON[Progress](ctx, s.Client, s.key(id))
	if err != nil {
		return Progress{}, false, fmt.Errorf("get progress: %w", err)
	}
	return p, ok, nil
}

// progressWriter collects yt-dlp ticks and storage acknowledgements and
// writes them to Redis at most every interval (yt-dlp prints a line per
// read block). A change held back by the interval is written when the
// interval ends, so the last state is always published, also when the
// source then stalls. Redis errors are logged by the caller's onError and
// never stop the import: progress is advisory.
type progressWriter struct {
	store interface {
		Set(context.Context, Progress) error
	}
	interval time.Duration
	onError  func(error)

	// writing serialises the writes, each of a copy taken inside it, so a
	// late write never replaces a newer state with an older one.
	writing sync.Mutex

	mu       sync.Mutex
	p        Progress
	written  time.Time
	trailing *time.Timer // the pending write of a held-back change, if any
}

func (w *progressWriter) update(ctx context.Context, force bool, change func(p *Progress)) {
	w.mu.Lock()
	change(&w.p)
	if since := time.Since(w.written); !force && since < w.interval {
		if w.trailing == nil {
			w.trailing = time.AfterFunc(w.interval-since, func() {
				if ctx.Err() == nil {
					w.write(ctx)
				}
			})
		}
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	w.write(ctx)
}

// write publishes the current state and cancels a pending trailing write.
func (w *progressWriter) write(ctx context.Context) {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	if w.trailing != nil {
		w.trailing.Stop()
		w.trailing = nil
	}
	now := time.Now()
	w.written = now
	w.p.UpdatedAt = now.UTC()
	p := w.p
	w.mu.Unlock()
	if err := w.store.Set(ctx, p); err != nil && w.onError != nil {
		w.onError(err)
	}
}

// tick applies a yt-dlp progress line.
func (w *progressWriter) tick(ctx context.Context, t Tick) {
	w.update(ctx, false, func(p *Progress) {
		total := t.Total
		if total <= 0 {
			total = t.Estimate
		}
		if total > 0 {
			p.TotalBytes = &total
			pct := min(100, float64(t.Downloaded)*100/float64(total))
			p.Percent = &pct
		}
		if t.Speed >= 0 {
			p.SpeedBps = t.Speed
		}
		if t.ETA >= 0 {
			eta := t.ETA
			p.ETASeconds = &eta
		} else {
			p.ETASeconds = nil
		}
	})
}

// acked records bytes acknowledged by storage.
func (w *progressWriter) acked(ctx context.Context, n int64) {
	w.update(ctx, false, func(p *Progress) { p.BytesUploaded = n })
}
