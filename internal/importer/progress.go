package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

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

	// Owner is the user whose import it is: stored with the progress so
	// that a poll can be answered from Redis alone (Service.ProgressJSON).
	Owner uuid.UUID `json:"-"`
}

// progressTTL keeps progress after an import ends long enough for the
// frontend's last polls; PostgreSQL has the final state anyway.
const progressTTL = time.Hour

// ProgressStore keeps progress in Redis, one hash per video with a TTL:
// "p" (the Progress as JSON, sent as it is to a poll), with "owner",
// "status" and "at" (UpdatedAt in Unix ms) beside it so that a poll can
// decide without decoding it, and, once the import was cancelled or its
// video deleted, "ended". A worker's write replaces all but ended.
type ProgressStore struct {
	Client *redisstore.Client
}

// CachedProgress is what Redis holds for one import.
type CachedProgress struct {
	Found     bool // Redis has progress
	Ended     bool // cancelled or deleted since: PostgreSQL must answer
	Owner     uuid.UUID
	Status    string
	UpdatedAt time.Time
	JSON      []byte // the Progress as stored (Owner aside)
}

// Progress decodes the stored progress.
func (c CachedProgress) Progress() (Progress, error) {
	var p Progress
	if err := json.Unmarshal(c.JSON, &p); err != nil {
		return Progress{}, fmt.Errorf("decode progress: %w", err)
	}
	p.Owner = c.Owner
	return p, nil
}

func (s ProgressStore) key(id uuid.UUID) string {
	return s.Client.Key("import:poll:" + id.String())
}

// Set replaces the progress of p.VideoID (and its owner, p.Owner).
func (s ProgressStore) Set(ctx context.Context, p Progress) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	key := s.key(p.VideoID)
	_, err = s.Client.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.HSet(ctx, key, "owner", p.Owner.String(), "status", p.Status, "at", p.UpdatedAt.UnixMilli(), "p", b)
		tx.PExpire(ctx, key, progressTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("set progress: %w", err)
	}
	return nil
}

// MarkEnded records that the import was cancelled or its video deleted, so
// that no progress written before or after answers a poll on its own.
func (s ProgressStore) MarkEnded(ctx context.Context, id uuid.UUID) error {
	key := s.key(id)
	_, err := s.Client.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.HSet(ctx, key, "ended", "1")
		tx.PExpire(ctx, key, progressTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark import ended: %w", err)
	}
	return nil
}

// Lookup returns what Redis holds for id.
func (s ProgressStore) Lookup(ctx context.Context, id uuid.UUID) (CachedProgress, error) {
	return parseProgress(s.Client.HGetAll(ctx, s.key(id)))
}

// Queue adds the lookup of id to p, for a read made in one round trip with
// others; the returned function gives its answer after p ran.
func (s ProgressStore) Queue(p redis.Pipeliner, id uuid.UUID) func() (CachedProgress, error) {
	cmd := p.HGetAll(context.Background(), s.key(id))
	return func() (CachedProgress, error) { return parseProgress(cmd) }
}

// Get returns the progress of id; ok is false when Redis has none.
func (s ProgressStore) Get(ctx context.Context, id uuid.UUID) (Progress, bool, error) {
	c, err := s.Lookup(ctx, id)
	if err != nil || !c.Found {
		return Progress{}, false, err
	}
	p, err := c.Progress()
	return p, err == nil, err
}

// parseProgress reads the hash without decoding the progress: a field that
// is missing or malformed leaves the entry unusable on its own (zero time:
// stale), never wrong.
func parseProgress(cmd *redis.MapStringStringCmd) (CachedProgress, error) {
	m, err := cmd.Result()
	if err != nil {
		return CachedProgress{}, fmt.Errorf("get progress: %w", err)
	}
	c := CachedProgress{Ended: m["ended"] != ""}
	raw, ok := m["p"]
	if !ok {
		return c, nil
	}
	owner, err := uuid.Parse(m["owner"])
	if err != nil {
		return CachedProgress{}, fmt.Errorf("decode progress owner: %w", err)
	}
	c.Found, c.Owner, c.Status, c.JSON = true, owner, m["status"], []byte(raw)
	if ms, err := strconv.ParseInt(m["at"], 10, 64); err == nil {
		c.UpdatedAt = time.UnixMilli(ms)
	}
	return c, nil
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
