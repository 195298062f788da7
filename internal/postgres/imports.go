package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/importer"
)

// ImportStore implements importer.Store.
type ImportStore struct {
	DB *DB
}

var _ importer.Store = ImportStore{}

// Job implements importer.Store.
func (s ImportStore) Job(ctx context.Context, id uuid.UUID) (importer.Job, error) {
	j := importer.Job{VideoID: id}
	var src *string
	err := s.DB.pool.QueryRow(ctx, `SELECT user_id, status, source_url FROM videos WHERE id = $1 AND source = 'url'`, id).
		Scan(&j.UserID, &j.Status, &src)
	if errors.Is(err, pgx.ErrNoRows) {
		return importer.Job{}, importer.ErrNotFound
	}
	if err != nil {
		return importer.Job{}, fmt.Errorf("select import: %w", err)
	}
	if src != nil {
		j.SourceURL = *src
	}
	return j, nil
}

// StartDownload implements importer.Store. An import found downloading
// was interrupted (its worker died) or is running in a worker that the new
// attempt number now fences.
func (s ImportStore) StartDownload(ctx context.Context, id uuid.UUID) (importer.Attempt, bool, error) {
	var a importer.Attempt
	err := s.DB.pool.QueryRow(ctx, `
		UPDATE videos SET status = 'downloading', error = NULL, import_attempt = import_attempt + 1
		WHERE id = $1 AND source = 'url' AND status IN ('queued', 'downloading')
		RETURNING import_attempt`, id).Scan(&a)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("start import: %w", err)
	}
	return a, true, nil
}

// Status implements importer.Store.
func (s ImportStore) Status(ctx context.Context, id uuid.UUID) (string, importer.Attempt, error) {
	var status string
	var a importer.Attempt
	err := s.DB.pool.QueryRow(ctx, `SELECT status, import_attempt FROM videos WHERE id = $1`, id).Scan(&status, &a)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, importer.ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("select import status: %w", err)
	}
	return status, a, nil
}

// Touch implements importer.Store.
func (s ImportStore) Touch(ctx context.Context, id uuid.UUID, a importer.Attempt) error {
	// A live worker also takes back an import the sweeper queued again
	// while this worker's heartbeat was late, unless another attempt
	// started meanwhile.
	tag, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET status = 'downloading', updated_at = now()
		WHERE id = $1 AND import_attempt = $2 AND status IN ('queued', 'downloading')`, id, a)
	if err != nil {
		return fmt.Errorf("touch import: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return importer.ErrNotCurrent
	}
	return nil
}

// FreeBytes implements importer.Store with the quota rules of uploads
// (stored and reserved bytes of the user's other videos).
func (s ImportStore) FreeBytes(ctx context.Context, userID, videoID uuid.UUID, quotaBytes int64) (int64, error) {
	var free int64
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		used, err := usedBytes(ctx, tx, userID, videoID)
		free = quotaBytes - used
		return err
	})
	return free, err
}

// Finish implements importer.Store. The video row is locked first, so a
// concurrent StartDownload, cancel or sweeper waits for the outcome; the
// user row is locked for the quota check, as uploads do.
func (s ImportStore) Finish(ctx context.Context, id uuid.UUID, a importer.Attempt, r importer.Result, quotaBytes int64) (bool, error) {
	var done bool
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var userID uuid.UUID
		var status string
		var current importer.Attempt
		err := tx.QueryRow(ctx, `SELECT user_id, status, import_attempt FROM videos WHERE id = $1 FOR UPDATE`, id).
			Scan(&userID, &status, &current)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted
		}
		if err != nil {
			return fmt.Errorf("finish import: %w", err)
		}
		switch {
		case current != a || status == "ready":
			return importer.ErrNotCurrent
		// 'queued' too: the sweeper may have queued the import again while
		// this worker, alive but late with its heartbeat, was finishing.
		case status != "queued" && status != "downloading":
			return nil // cancelled or failed
		}
		if quotaBytes > 0 {
			if err := lockUser(ctx, tx, userID); err != nil {
				return err
			}
			used, err := usedBytes(ctx, tx, userID, id)
			if err != nil {
				return err
			}
			if used+r.Size > quotaBytes {
				return importer.ErrQuota
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE videos SET status = 'ready', title = $2, content_type = $3, size_bytes = $4, error = NULL,
				processing_status = 'pending', processing_updated_at = now()
			WHERE id = $1`, id, r.Title, r.ContentType, r.Size); err != nil {
			return fmt.Errorf("finish import: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
			VALUES ($1, $2, 'source', $3, $4, $5, $6)
			ON CONFLICT (container, blob_name) DO UPDATE SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes`,
			userID, id, r.Container, r.BlobName, r.ContentType, r.Size); err != nil {
			return fmt.Errorf("record blob: %w", err)
		}
		done = true
		return nil
	})
	return done, err
}

// Fail implements importer.Store.
func (s ImportStore) Fail(ctx context.Context, id uuid.UUID, a importer.Attempt, message string) error {
	tag, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET status = 'failed', error = $3
		WHERE id = $1 AND import_attempt = $2 AND status IN ('queued', 'downloading')`, id, a, message)
	if err != nil {
		return fmt.Errorf("fail import: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return importer.ErrNotCurrent
	}
	return nil
}

// ImportService implements importer.ServiceStore.
type ImportService struct {
	DB *DB
}

var _ importer.ServiceStore = ImportService{}

const importRowColumns = `id, status, error, size_bytes, created_at, updated_at`

func scanImport(row pgx.Row) (importer.ImportRow, error) {
	var r importer.ImportRow
	err := row.Scan(&r.ID, &r.Status, &r.Error, &r.Size, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return importer.ImportRow{}, importer.ErrNotFound
	}
	return r, err
}

// CreateImport implements importer.ServiceStore. The user's row is locked
// so that concurrent requests cannot both pass the limit.
func (s ImportService) CreateImport(ctx context.Context, userID uuid.UUID, rawURL, title string, maxActive int) (importer.ImportRow, error) {
	var r importer.ImportRow
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		var active int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM videos WHERE user_id = $1 AND status IN ('queued', 'downloading')`, userID).Scan(&active); err != nil {
			return fmt.Errorf("count imports: %w", err)
		}
		if active >= maxActive {
			return importer.ErrTooManyImports
		}
		var err error
		r, err = scanImport(tx.QueryRow(ctx, `
			INSERT INTO videos (user_id, title, source, source_url, status)
			VALUES ($1, $2, 'url', $3, 'queued')
			RETURNING `+importRowColumns, userID, truncate(title, 500), rawURL))
		if err != nil {
			return fmt.Errorf("insert import: %w", err)
		}
		return nil
	})
	return r, err
}

// Import implements importer.ServiceStore.
func (s ImportService) Import(ctx context.Context, userID, id uuid.UUID) (importer.ImportRow, error) {
	r, err := scanImport(s.DB.pool.QueryRow(ctx, `
		SELECT `+importRowColumns+` FROM videos WHERE id = $1 AND user_id = $2 AND source = 'url'`, id, userID))
	if err != nil && !errors.Is(err, importer.ErrNotFound) {
		return r, fmt.Errorf("select import: %w", err)
	}
	return r, err
}

// CancelImport implements importer.ServiceStore.
func (s ImportService) CancelImport(ctx context.Context, userID, id uuid.UUID) (importer.ImportRow, error) {
	r, err := scanImport(s.DB.pool.QueryRow(ctx, `
		UPDATE videos SET status = 'cancelled'
		WHERE id = $1 AND user_id = $2 AND source = 'url' AND status IN ('queued', 'downloading')
		RETURNING `+importRowColumns, id, userID))
	if errors.Is(err, importer.ErrNotFound) {
		return s.Import(ctx, userID, id)
	}
	if err != nil {
		return r, fmt.Errorf("cancel import: %w", err)
	}
	return r, nil
}

// StaleImports implements importer.ServiceStore.
func (s ImportService) StaleImports(ctx context.Context, queuedBefore, downloadingBefore time.Time) ([]importer.ImportRow, error) {
	rows, err := s.DB.pool.Query(ctx, `
		SELECT `+importRowColumns+` FROM videos
		WHERE (status = 'queued' AND updated_at < $1) OR (status = 'downloading' AND updated_at < $2)
		ORDER BY updated_at LIMIT 500`, queuedBefore, downloadingBefore)
	if err != nil {
		return nil, fmt.Errorf("select stale imports: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (importer.ImportRow, error) { return scanImport(r) })
	if err != nil {
		return nil, fmt.Errorf("select stale imports: %w", err)
	}
	return out, nil
}

// Requeue implements importer.ServiceStore. It changes the row only if it
// is as the sweeper saw it (same status and updated_at).
func (s ImportService) Requeue(ctx context.Context, r importer.ImportRow) (importer.ImportRow, bool, error) {
	next, err := scanImport(s.DB.pool.QueryRow(ctx, `
		UPDATE videos SET status = 'queued', updated_at = clock_timestamp()
		WHERE id = $1 AND status = $2 AND updated_at = $3
		RETURNING `+importRowColumns, r.ID, r.Status, r.UpdatedAt))
	if errors.Is(err, importer.ErrNotFound) {
		return importer.ImportRow{}, false, nil
	}
	if err != nil {
		return importer.ImportRow{}, false, fmt.Errorf("requeue import: %w", err)
	}
	return next, true, nil
}

// FailStale implements importer.ServiceStore.
func (s ImportService) FailStale(ctx context.Context, id uuid.UUID, message string) error {
	if _, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET status = 'failed', error = $2
		WHERE id = $1 AND status IN ('queued', 'downloading')`, id, message); err != nil {
		return fmt.Errorf("fail stale import: %w", err)
	}
	return nil
}

// EndedImports implements importer.ServiceStore (served by
// videos_import_blob_cleanup_idx).
func (s ImportService) EndedImports(ctx context.Context, before time.Time, limit int) ([]importer.EndedImport, error) {
	rows, err := s.DB.pool.Query(ctx, `
		SELECT id, user_id FROM videos
		WHERE source = 'url' AND status IN ('cancelled', 'failed') AND blob_deleted_at IS NULL AND updated_at < $1
		ORDER BY updated_at LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("select ended imports: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (importer.EndedImport, error) {
		var e importer.EndedImport
		err := r.Scan(&e.ID, &e.UserID)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("select ended imports: %w", err)
	}
	return out, nil
}

// BlobDeleted implements importer.ServiceStore.
func (s ImportService) BlobDeleted(ctx context.Context, id uuid.UUID) error {
	if _, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET blob_deleted_at = now()
		WHERE id = $1 AND source = 'url' AND status IN ('cancelled', 'failed')`, id); err != nil {
		return fmt.Errorf("mark import blob deleted: %w", err)
	}
	return nil
}
