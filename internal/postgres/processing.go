package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/processing"
)

// ProcessingStore implements processing.Store and processing.SweepStore.
type ProcessingStore struct {
	DB *DB
}

var (
	_ processing.Store      = ProcessingStore{}
	_ processing.SweepStore = ProcessingStore{}
)

// StartProcessing implements processing.Store: one UPDATE that fences any
// earlier attempt by taking the next number.
func (s ProcessingStore) StartProcessing(ctx context.Context, id uuid.UUID) (processing.Job, processing.Attempt, bool, error) {
	var j processing.Job
	var a processing.Attempt
	err := s.DB.pool.QueryRow(ctx, `
		WITH v AS (
			UPDATE videos SET processing_status = 'processing', processing_attempt = processing_attempt + 1,
				processing_updated_at = now()
			WHERE id = $1 AND status = 'ready' AND processing_status IN ('pending', 'processing')
			RETURNING id, user_id, processing_attempt
		)
		SELECT v.id, v.user_id, v.processing_attempt, f.blob_name, coalesce(f.snapshot, ''), coalesce(f.content_type, '')
		FROM v JOIN file_storage f ON f.video_id = v.id AND f.kind = 'source'`, id).
		Scan(&j.VideoID, &j.UserID, &a, &j.SourceBlob, &j.SourceSnapshot, &j.ContentType)
	if errors.Is(err, pgx.ErrNoRows) {
		return processing.Job{}, 0, false, nil
	}
	if err != nil {
		return processing.Job{}, 0, false, fmt.Errorf("start processing: %w", translate(err))
	}
	return j, a, true, nil
}

// FinishProcessing implements processing.Store.
func (s ProcessingStore) FinishProcessing(ctx context.Context, id uuid.UUID, a processing.Attempt, m processing.Metadata, p *processing.Poster) error {
	return translate(pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var userID uuid.UUID
		err := tx.QueryRow(ctx, `
			UPDATE videos SET processing_status = 'done', processing_error = NULL, processing_updated_at = now(),
				duration_seconds = $3, width = $4, height = $5, frame_rate = $6, video_codec = $7,
				audio_codec = $8, bit_rate = $9
			WHERE id = $1 AND processing_attempt = $2 AND processing_status = 'processing'
			RETURNING user_id`,
			id, a, m.DurationSeconds, positiveInt(m.Width), positiveInt(m.Height), positive(m.FrameRate),
			nonEmpty(m.VideoCodec), nonEmpty(m.AudioCodec), positive64(m.BitRate)).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM videos WHERE id = $1)`, id).Scan(&exists); err != nil {
				return fmt.Errorf("finish processing: %w", err)
			}
			if !exists {
				return processing.ErrGone
			}
			return processing.ErrNotCurrent
		}
		if err != nil {
			return fmt.Errorf("finish processing: %w", err)
		}
		if p == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
			VALUES ($1, $2, 'thumbnail', $3, $4, $5, $6)
			ON CONFLICT (video_id, kind) WHERE video_id IS NOT NULL DO UPDATE
				SET container = EXCLUDED.container, blob_name = EXCLUDED.blob_name,
					content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes`,
			userID, id, p.Container, p.BlobName, p.ContentType, p.SizeBytes); err != nil {
			return fmt.Errorf("record poster: %w", err)
		}
		return nil
	}))
}

// FailProcessing implements processing.Store.
func (s ProcessingStore) FailProcessing(ctx context.Context, id uuid.UUID, a processing.Attempt, reason string) error {
	tag, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET processing_status = 'failed', processing_error = $3, processing_updated_at = now()
		WHERE id = $1 AND processing_attempt = $2 AND processing_status = 'processing'`, id, a, reason)
	if err != nil {
		return fmt.Errorf("fail processing: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return processing.ErrNotCurrent
	}
	return nil
}

// StaleProcessing implements processing.SweepStore (videos_processing_idx).
func (s ProcessingStore) StaleProcessing(ctx context.Context, pendingBefore, processingBefore time.Time, limit int) ([]processing.Stale, error) {
	rows, err := s.DB.pool.Query(ctx, `
		SELECT id, processing_status, processing_updated_at, processing_attempt FROM videos
		WHERE processing_status IN ('pending', 'processing')
			AND processing_updated_at < greatest($1::timestamptz, $2::timestamptz)
			AND (processing_status = 'pending' AND processing_updated_at < $1
				OR processing_status = 'processing' AND processing_updated_at < $2)
		ORDER BY processing_updated_at LIMIT $3`, pendingBefore, processingBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("select stale processing: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (processing.Stale, error) {
		var st processing.Stale
		err := r.Scan(&st.ID, &st.Status, &st.UpdatedAt, &st.Attempts)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("select stale processing: %w", translate(err))
	}
	return out, nil
}

// RequeueProcessing implements processing.SweepStore.
func (s ProcessingStore) RequeueProcessing(ctx context.Context, st processing.Stale) (time.Time, bool, error) {
	var since time.Time
	err := s.DB.pool.QueryRow(ctx, `
		UPDATE videos SET processing_status = 'pending', processing_updated_at = now()
		WHERE id = $1 AND processing_status = $2 AND processing_updated_at = $3
		RETURNING processing_updated_at`, st.ID, st.Status, st.UpdatedAt).Scan(&since)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("requeue processing: %w", translate(err))
	}
	return since, true, nil
}

// GiveUpProcessing implements processing.SweepStore.
func (s ProcessingStore) GiveUpProcessing(ctx context.Context, st processing.Stale, reason string) error {
	_, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET processing_status = 'failed', processing_error = $4, processing_updated_at = now()
		WHERE id = $1 AND processing_status = $2 AND processing_updated_at = $3`, st.ID, st.Status, st.UpdatedAt, reason)
	if err != nil {
		return fmt.Errorf("give up processing: %w", translate(err))
	}
	return nil
}

// Unknown probe values are stored as NULL, which the CHECKs expect.
func positive(f float64) *float64 {
	if f <= 0 {
		return nil
	}
	return &f
}

func positiveInt(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func positive64(n int64) *int64 {
	if n <= 0 {
		return nil
	}
	return &n
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return &s
}
