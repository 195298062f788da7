package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/clips"
)

// ClipStore implements clips.Store and clips.RenderStore.
type ClipStore struct {
	DB *DB
}

var (
	_ clips.Store       = ClipStore{}
	_ clips.RenderStore = ClipStore{}
)

const clipColumns = `c.id, c.video_id, c.user_id, c.title, c.start_seconds, c.end_seconds, c.aspect, c.status,
	coalesce(c.error, ''), c.duration_seconds, c.width, c.height, c.size_bytes, coalesce(c.blob_name, ''), c.attempt,
	c.created_at, c.updated_at`

// scanClipRow is scanClip of a row of a list.
func scanClipRow(row pgx.Row) (clips.Clip, error) { return scanClip(row) }

func scanClip(row pgx.Row, extra ...any) (clips.Clip, error) {
	var c clips.Clip
	var width, height *int32
	dest := append([]any{&c.ID, &c.VideoID, &c.UserID, &c.Title, &c.StartSeconds, &c.EndSeconds, &c.Aspect, &c.Status,
		&c.Error, &c.DurationSeconds, &width, &height, &c.SizeBytes, &c.BlobName, &c.Attempt,
		&c.CreatedAt, &c.UpdatedAt}, extra...)
	err := row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return clips.Clip{}, clips.ErrNotFound
	}
	if err != nil {
		return clips.Clip{}, err
	}
	if width != nil {
		w := int(*width)
		c.Width = &w
	}
	if height != nil {
		h := int(*height)
		c.Height = &h
	}
	return c, nil
}

func clipByID(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, id uuid.UUID) (clips.Clip, error) {
	return scanClip(q.QueryRow(ctx, `SELECT `+clipColumns+` FROM clips c WHERE c.id = $1`, id))
}

// CreateClip implements clips.Store. The user's row lock serialises the
// in-flight count of concurrent creations.
func (s ClipStore) CreateClip(ctx context.Context, c clips.Clip, maxInFlight int, check func(duration float64) error) (clips.Clip, error) {
	var out clips.Clip
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, c.UserID); err != nil {
			return err
		}
		var status string
		var duration *float64
		err := tx.QueryRow(ctx, `
			SELECT v.status, v.duration_seconds FROM videos v
			WHERE v.id = $1 AND v.user_id = $2 AND `+visible+` FOR SHARE`, c.VideoID, c.UserID).Scan(&status, &duration)
		if errors.Is(err, pgx.ErrNoRows) {
			return clips.ErrVideoNotFound
		}
		if err != nil {
			return fmt.Errorf("select video: %w", err)
		}
		if status != "ready" || duration == nil {
			return clips.ErrVideoNotReady
		}
		if err := check(*duration); err != nil {
			return err
		}
		var inFlight int
		if err := tx.QueryRow(ctx, `
			SELECT count(*) FROM clips WHERE user_id = $1 AND status IN ('queued', 'processing')`, c.UserID).Scan(&inFlight); err != nil {
			return fmt.Errorf("count clips in flight: %w", err)
		}
		if inFlight >= maxInFlight {
			return clips.ErrTooManyClips
		}
		out, err = scanClip(tx.QueryRow(ctx, `
			INSERT INTO clips AS c (id, video_id, user_id, title, start_seconds, end_seconds, aspect, status, blob_name)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8)
			RETURNING `+clipColumns, c.ID, c.VideoID, c.UserID, c.Title, c.StartSeconds, c.EndSeconds, c.Aspect, c.BlobName))
		if err != nil {
			return fmt.Errorf("insert clip: %w", err)
		}
		return nil
	})
	return out, err
}

// Clip implements clips.Store.
func (s ClipStore) Clip(ctx context.Context, userID, id uuid.UUID) (clips.Clip, error) {
	c, err := scanClip(s.DB.pool.QueryRow(ctx, `
		SELECT `+clipColumns+` FROM clips c JOIN videos v ON v.id = c.video_id
		WHERE c.id = $1 AND c.user_id = $2 AND `+visible, id, userID))
	if err != nil && !errors.Is(err, clips.ErrNotFound) {
		return clips.Clip{}, fmt.Errorf("select clip: %w", err)
	}
	return c, err
}

// Clips implements clips.Store.
func (s ClipStore) Clips(ctx context.Context, userID, videoID uuid.UUID) ([]clips.Clip, error) {
	var one int
	err := s.DB.pool.QueryRow(ctx, `SELECT 1 FROM videos v WHERE v.id = $1 AND v.user_id = $2 AND `+visible, videoID, userID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, clips.ErrVideoNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("select video: %w", err)
	}
	return queryAll(ctx, s.DB.pool, "select clips", scanClipRow, `
		SELECT `+clipColumns+` FROM clips c WHERE c.video_id = $1 AND c.user_id = $2
		ORDER BY c.created_at, c.id`, videoID, userID)
}

// DeleteClip implements clips.Store; its file_storage row goes with it
// (ON DELETE CASCADE).
func (s ClipStore) DeleteClip(ctx context.Context, id uuid.UUID) error {
	if _, err := s.DB.pool.Exec(ctx, `DELETE FROM clips WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete clip: %w", err)
	}
	return nil
}

// StaleClips implements clips.Store (served by clips_status_updated_idx).
func (s ClipStore) StaleClips(ctx context.Context, queuedBefore, processingBefore time.Time, limit int) ([]clips.Clip, error) {
	return queryAll(ctx, s.DB.pool, "select stale clips", scanClipRow, `
		SELECT `+clipColumns+` FROM clips c
		WHERE (c.status = 'queued' AND c.updated_at < $1) OR (c.status = 'processing' AND c.updated_at < $2)
		ORDER BY c.updated_at LIMIT $3`, queuedBefore, processingBefore, limit)
}

// Requeue implements clips.Store: only if the clip has not changed since
// it was read (same status and updated_at).
func (s ClipStore) Requeue(ctx context.Context, c clips.Clip) (clips.Clip, bool, error) {
	out, err := scanClip(s.DB.pool.QueryRow(ctx, `
		UPDATE clips c SET status = 'queued', updated_at = clock_timestamp()
		WHERE c.id = $1 AND c.status = $2 AND c.updated_at = $3
		RETURNING `+clipColumns, c.ID, c.Status, c.UpdatedAt))
	if errors.Is(err, clips.ErrNotFound) {
		return clips.Clip{}, false, nil
	}
	if err != nil {
		return clips.Clip{}, false, fmt.Errorf("requeue clip: %w", err)
	}
	return out, true, nil
}

// FailStale implements clips.Store.
func (s ClipStore) FailStale(ctx context.Context, id uuid.UUID, message string) error {
	if _, err := s.DB.pool.Exec(ctx, `
		UPDATE clips SET status = 'failed', error = $2 WHERE id = $1 AND status IN ('queued', 'processing')`, id, message); err != nil {
		return fmt.Errorf("fail stale clip: %w", err)
	}
	return nil
}

// RenderJob implements clips.RenderStore.
func (s ClipStore) RenderJob(ctx context.Context, id uuid.UUID) (clips.Job, error) {
	var j clips.Job
	c, err := scanClip(s.DB.pool.QueryRow(ctx, `
		SELECT `+clipColumns+`, v.status, coalesce(v.content_type, ''), coalesce(f.blob_name, ''), coalesce(f.snapshot, '')
		FROM clips c JOIN videos v ON v.id = c.video_id
		LEFT JOIN file_storage f ON f.video_id = v.id AND f.kind = 'source'
		WHERE c.id = $1`, id), &j.VideoStatus, &j.ContentType, &j.SourceBlob, &j.SourceSnapshot)
	if err != nil {
		if errors.Is(err, clips.ErrNotFound) {
			return clips.Job{}, err
		}
		return clips.Job{}, fmt.Errorf("select clip job: %w", err)
	}
	j.Clip = c
	return j, nil
}

// StartRender implements clips.RenderStore.
func (s ClipStore) StartRender(ctx context.Context, id uuid.UUID) (clips.Attempt, bool, error) {
	var a clips.Attempt
	err := s.DB.pool.QueryRow(ctx, `
		UPDATE clips SET status = 'processing', error = NULL, attempt = attempt + 1
		WHERE id = $1 AND status IN ('queued', 'processing')
		RETURNING attempt`, id).Scan(&a)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("start clip: %w", err)
	}
	return a, true, nil
}

// Status implements clips.RenderStore.
func (s ClipStore) Status(ctx context.Context, id uuid.UUID) (string, clips.Attempt, error) {
	var status string
	var a clips.Attempt
	err := s.DB.pool.QueryRow(ctx, `SELECT status, attempt FROM clips WHERE id = $1`, id).Scan(&status, &a)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, clips.ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("select clip status: %w", err)
	}
	return status, a, nil
}

// Touch implements clips.RenderStore.
func (s ClipStore) Touch(ctx context.Context, id uuid.UUID, a clips.Attempt) error {
	tag, err := s.DB.pool.Exec(ctx, `
		UPDATE clips SET status = 'processing', updated_at = now()
		WHERE id = $1 AND attempt = $2 AND status IN ('queued', 'processing')`, id, a)
	if err != nil {
		return fmt.Errorf("touch clip: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return clips.ErrNotCurrent
	}
	return nil
}

// FreeBytes implements clips.RenderStore.
func (s ClipStore) FreeBytes(ctx context.Context, userID uuid.UUID, quotaBytes int64) (int64, error) {
	var used int64
	if err := s.DB.pool.QueryRow(ctx, `
		SELECT coalesce(sum(size_bytes), 0)::bigint FROM file_storage WHERE user_id = $1`, userID).Scan(&used); err != nil {
		return 0, fmt.Errorf("sum stored bytes: %w", err)
	}
	return quotaBytes - used, nil
}

// Finish implements clips.RenderStore: the clip becomes ready with its
// file_storage row (kind 'clip') in one transaction, under the user's lock
// the quota checks share.
func (s ClipStore) Finish(ctx context.Context, id uuid.UUID, a clips.Attempt, r clips.Result, quotaBytes int64) error {
	return pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var userID uuid.UUID
		err := tx.QueryRow(ctx, `SELECT user_id FROM clips WHERE id = $1`, id).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return clips.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("select clip owner: %w", err)
		}
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var status string
		var current clips.Attempt
		err = tx.QueryRow(ctx, `SELECT status, attempt FROM clips WHERE id = $1 FOR UPDATE`, id).Scan(&status, &current)
		if errors.Is(err, pgx.ErrNoRows) {
			return clips.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock clip: %w", err)
		}
		if current != a || (status != "queued" && status != "processing") {
			return clips.ErrNotCurrent
		}
		if quotaBytes > 0 {
			used, err := usedBytes(ctx, tx, userID, uuid.Nil)
			if err != nil {
				return err
			}
			if used+r.Size > quotaBytes {
				return clips.ErrQuota
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE clips SET status = 'ready', error = NULL, duration_seconds = $2, width = $3, height = $4, size_bytes = $5
			WHERE id = $1`, id, r.DurationSeconds, r.Width, r.Height, r.Size); err != nil {
			return fmt.Errorf("update clip: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO file_storage (user_id, clip_id, kind, container, blob_name, content_type, size_bytes)
			VALUES ($1, $2, 'clip', $3, $4, 'video/mp4', $5)
			ON CONFLICT (container, blob_name) DO UPDATE SET size_bytes = EXCLUDED.size_bytes`,
			userID, id, r.Container, r.BlobName, r.Size); err != nil {
			return fmt.Errorf("insert file_storage: %w", err)
		}
		return nil
	})
}

// Fail implements clips.RenderStore.
func (s ClipStore) Fail(ctx context.Context, id uuid.UUID, a clips.Attempt, message string) error {
	tag, err := s.DB.pool.Exec(ctx, `
		UPDATE clips SET status = 'failed', error = $3
		WHERE id = $1 AND attempt = $2 AND status IN ('queued', 'processing')`, id, a, message)
	if err != nil {
		return fmt.Errorf("fail clip: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return clips.ErrNotCurrent
	}
	return nil
}
