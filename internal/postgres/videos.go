package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/media"
)

// VideoStore implements media.Store.
type VideoStore struct {
	DB *DB
}

var _ media.Store = VideoStore{}

// videoColumns are read from videos v LEFT JOIN file_storage f (the source row).
const videoColumns = `v.id, v.user_id, v.title, v.source, coalesce(v.source_url, ''), v.status, coalesce(v.error, ''),
	coalesce(v.content_type, ''), v.size_bytes, v.duration_seconds, v.width, v.height, v.created_at, v.updated_at,
	coalesce(f.blob_name, ''), coalesce(f.snapshot, ''),
	coalesce(v.processing_status, ''), coalesce(v.processing_error, ''), v.frame_rate, coalesce(v.video_codec, ''),
	coalesce(v.audio_codec, ''), v.bit_rate,
	coalesce((SELECT t.blob_name FROM file_storage t WHERE t.video_id = v.id AND t.kind = 'thumbnail'), ''),
	v.upload_expires_at`

// sourceJoin joins each video to its source file_storage row (at most one:
// file_storage_video_kind_key); the poster's row is read by a subquery on
// the same index.
const sourceJoin = `LEFT JOIN file_storage f ON f.video_id = v.id AND f.kind = 'source'`

// visible leaves out uploads hidden by HideUpload (deleted by their owner,
// awaiting the sweeper).
const visible = `NOT (v.source = 'upload' AND v.status = 'cancelled')`

func scanVideo(row pgx.Row) (media.Video, error) {
	var v media.Video
	var width, height *int32
	var uploadExpires *time.Time
	err := row.Scan(&v.ID, &v.UserID, &v.Title, &v.Source, &v.SourceURL, &v.Status, &v.Error,
		&v.ContentType, &v.SizeBytes, &v.DurationSeconds, &width, &height, &v.CreatedAt, &v.UpdatedAt,
		&v.SourceBlob, &v.SourceSnapshot,
		&v.ProcessingStatus, &v.ProcessingError, &v.FrameRate, &v.VideoCodec, &v.AudioCodec, &v.BitRate, &v.PosterBlob,
		&uploadExpires)
	if errors.Is(err, pgx.ErrNoRows) {
		return media.Video{}, media.ErrNotFound
	}
	if err != nil {
		return media.Video{}, err
	}
	if width != nil {
		w := int(*width)
		v.Width = &w
	}
	if height != nil {
		h := int(*height)
		v.Height = &h
	}
	if uploadExpires != nil {
		v.UploadExpiresAt = *uploadExpires
	}
	return v, nil
}

// videoByID reads a video by id inside tx, whoever owns it.
func videoByID(ctx context.Context, q pgx.Tx, id uuid.UUID) (media.Video, error) {
	return scanVideo(q.QueryRow(ctx, `SELECT `+videoColumns+` FROM videos v `+sourceJoin+` WHERE v.id = $1`, id))
}

// lockUser serialises the quota checks of one user: the row lock conflicts
// with itself but not with the key-share locks of foreign key checks.
func lockUser(ctx context.Context, tx pgx.Tx, userID uuid.UUID) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("user %s does not exist", userID)
	}
	if err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	return nil
}

// usedBytes sums the sizes the user stores or reserves, leaving out the
// source row of video except (uuid.Nil leaves out nothing).
func usedBytes(ctx context.Context, tx pgx.Tx, userID, except uuid.UUID) (int64, error) {
	var used int64
	err := tx.QueryRow(ctx, `
		SELECT coalesce(sum(size_bytes), 0)::bigint FROM file_storage
		WHERE user_id = $1 AND (video_id IS NULL OR video_id <> $2 OR kind <> 'source')`, userID, except).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("sum stored bytes: %w", err)
	}
	return used, nil
}

// CreateUpload inserts a pending upload and its source row in one
// transaction, after the quota check; *media.QuotaError when it does not fit.
func (s VideoStore) CreateUpload(ctx context.Context, u media.NewUpload, quotaBytes int64) (media.Video, error) {
	var v media.Video
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, u.UserID); err != nil {
			return err
		}
		used, err := usedBytes(ctx, tx, u.UserID, uuid.Nil)
		if err != nil {
			return err
		}
		if used+u.SizeBytes > quotaBytes {
			return &media.QuotaError{QuotaBytes: quotaBytes, UsedBytes: used, RequestedBytes: u.SizeBytes}
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO videos (id, user_id, title, source, status, content_type, size_bytes, upload_expires_at)
			VALUES ($1, $2, $3, 'upload', 'pending_upload', $4, $5, $6)`,
			u.ID, u.UserID, u.Title, u.ContentType, u.SizeBytes, u.URLExpiresAt); err != nil {
			return fmt.Errorf("insert video: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
			VALUES ($1, $2, 'source', $3, $4, $5, $6)`,
			u.UserID, u.ID, u.Container, u.BlobName, u.ContentType, u.SizeBytes); err != nil {
			return fmt.Errorf("insert file_storage: %w", err)
		}
		v, err = videoByID(ctx, tx, u.ID)
		return err
	})
	return v, err
}

// RenewUpload moves a pending upload's updated_at to now and records when
// its new URL expires; media.ErrNotPending when it is not pending.
func (s VideoStore) RenewUpload(ctx context.Context, id uuid.UUID, urlExpiresAt time.Time) (media.Video, error) {
	v, err := scanVideo(s.DB.pool.QueryRow(ctx, `
		WITH v AS (
			UPDATE videos SET updated_at = now(), upload_expires_at = $2
			WHERE id = $1 AND source = 'upload' AND status = 'pending_upload'
			RETURNING *
		)
		SELECT `+videoColumns+` FROM v `+sourceJoin, id, urlExpiresAt))
	if errors.Is(err, media.ErrNotFound) {
		return media.Video{}, media.ErrNotPending
	}
	if err != nil {
		return media.Video{}, fmt.Errorf("renew upload: %w", err)
	}
	return v, nil
}

// CompleteUpload marks a pending upload ready, read from snapshot, after the
// quota check.
func (s VideoStore) CompleteUpload(ctx context.Context, id uuid.UUID, snapshot string, sizeBytes int64, contentType string, quotaBytes int64) (media.Video, error) {
	var v media.Video
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		// Lock the user before the video, in the order CreateUpload does.
		var userID uuid.UUID
		err := tx.QueryRow(ctx, `SELECT user_id FROM videos WHERE id = $1`, id).Scan(&userID)
		if errors.Is(err, pgx.ErrNoRows) {
			return media.ErrNotPending
		}
		if err != nil {
			return fmt.Errorf("select video owner: %w", err)
		}
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var status string
		err = tx.QueryRow(ctx, `SELECT status FROM videos WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("lock video: %w", err)
		}
		if status != media.StatusPendingUpload {
			return media.ErrNotPending
		}
		used, err := usedBytes(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if used+sizeBytes > quotaBytes {
			return &media.QuotaError{QuotaBytes: quotaBytes, UsedBytes: used, RequestedBytes: sizeBytes}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE videos SET status = 'ready', size_bytes = $2, content_type = $3, error = NULL,
				processing_status = 'pending', processing_updated_at = now()
			WHERE id = $1`,
			id, sizeBytes, contentType); err != nil {
			return fmt.Errorf("update video: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE file_storage SET size_bytes = $2, content_type = $3, snapshot = $4, settle_pending = true
			WHERE video_id = $1 AND kind = 'source'`,
			id, sizeBytes, contentType, snapshot); err != nil {
			return fmt.Errorf("update file_storage: %w", err)
		}
		v, err = videoByID(ctx, tx, id)
		return err
	})
	return v, err
}

// FailUpload marks a pending upload failed and releases its reservation.
func (s VideoStore) FailUpload(ctx context.Context, id uuid.UUID, reason string) (media.Video, error) {
	var v media.Video
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE videos SET status = 'failed', error = $2, size_bytes = NULL
			WHERE id = $1 AND status = 'pending_upload'`, id, reason)
		if err != nil {
			return fmt.Errorf("update video: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return media.ErrNotPending
		}
		if _, err := tx.Exec(ctx, `UPDATE file_storage SET size_bytes = 0 WHERE video_id = $1 AND kind = 'source'`, id); err != nil {
			return fmt.Errorf("update file_storage: %w", err)
		}
		v, err = videoByID(ctx, tx, id)
		return err
	})
	return v, err
}

// Video returns the user's visible video, or media.ErrNotFound.
func (s VideoStore) Video(ctx context.Context, userID, id uuid.UUID) (media.Video, error) {
	v, err := scanVideo(s.DB.pool.QueryRow(ctx, `
		SELECT `+videoColumns+` FROM videos v `+sourceJoin+`
		WHERE v.id = $1 AND v.user_id = $2 AND `+visible, id, userID))
	if err != nil && !errors.Is(err, media.ErrNotFound) {
		return media.Video{}, fmt.Errorf("select video: %w", err)
	}
	return v, err
}

// Videos returns up to limit of the user's visible videos after pos,
// newest first (served by videos_user_created_idx).
func (s VideoStore) Videos(ctx context.Context, userID uuid.UUID, after media.Position, limit int) ([]media.Video, error) {
	query := `SELECT ` + videoColumns + ` FROM videos v ` + sourceJoin + ` WHERE v.user_id = $1 AND ` + visible
	args := []any{userID, limit}
	if !after.IsZero() {
		query += ` AND (v.created_at, v.id) < ($3, $4)`
		args = append(args, after.CreatedAt, after.ID)
	}
	query += ` ORDER BY v.created_at DESC, v.id DESC LIMIT $2`
	return queryAll(ctx, s.DB.pool, "select videos", scanVideo, query, args...)
}

// BlobNames returns the blob of every file_storage row of the video and of
// its clips.
func (s VideoStore) BlobNames(ctx context.Context, id uuid.UUID) ([]string, error) {
	rows, err := s.DB.pool.Query(ctx, `
		SELECT blob_name FROM file_storage
		WHERE video_id = $1 OR clip_id IN (SELECT id FROM clips WHERE video_id = $1)
		UNION
		-- A clip's blob may exist before its row does (rendered, not yet
		-- recorded): its name is fixed at creation.
		SELECT blob_name FROM clips WHERE video_id = $1 AND blob_name IS NOT NULL
		ORDER BY blob_name`, id)
	if err != nil {
		return nil, fmt.Errorf("select blob names: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("select blob names: %w", err)
	}
	return names, nil
}

// StopImport marks a queued or downloading import cancelled, in a statement
// of its own, so that no worker can record it as ready any more.
func (s VideoStore) StopImport(ctx context.Context, id uuid.UUID) error {
	if _, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET status = 'cancelled', error = NULL
		WHERE id = $1 AND source = 'url' AND status IN ('queued', 'downloading')`, id); err != nil {
		return fmt.Errorf("stop import: %w", err)
	}
	return nil
}

// HideUpload marks an upload cancelled and releases the sizes of its rows.
func (s VideoStore) HideUpload(ctx context.Context, id uuid.UUID) error {
	return pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE videos SET status = 'cancelled', error = NULL WHERE id = $1 AND source = 'upload'`, id); err != nil {
			return fmt.Errorf("hide video: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE file_storage SET size_bytes = 0
			WHERE video_id = $1 OR clip_id IN (SELECT id FROM clips WHERE video_id = $1)`, id); err != nil {
			return fmt.Errorf("release stored bytes: %w", err)
		}
		return nil
	})
}

// DeleteVideo deletes the video; clips and file_storage rows go with it
// (ON DELETE CASCADE).
func (s VideoStore) DeleteVideo(ctx context.Context, id uuid.UUID) error {
	if _, err := s.DB.pool.Exec(ctx, `DELETE FROM videos WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete video: %w", err)
	}
	return nil
}

// StaleUploads lists upload videos not updated since cutoff that the
// sweeper has to clean up, oldest first.
func (s VideoStore) StaleUploads(ctx context.Context, cutoff time.Time, limit int) ([]media.StaleUpload, error) {
	rows, err := s.DB.pool.Query(ctx, `
		SELECT v.id, v.status FROM videos v
		WHERE v.source = 'upload' AND v.updated_at < $1
		  AND (v.status IN ('pending_upload', 'cancelled')
		       OR (v.status = 'failed' AND EXISTS (SELECT 1 FROM file_storage f WHERE f.video_id = v.id)))
		ORDER BY v.updated_at
		LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("select stale uploads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (media.StaleUpload, error) {
		var u media.StaleUpload
		err := row.Scan(&u.ID, &u.Status)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("select stale uploads: %w", err)
	}
	return out, nil
}

// CancelStaleUpload moves a pending upload not updated since cutoff to
// cancelled; false when it is no longer such an upload.
func (s VideoStore) CancelStaleUpload(ctx context.Context, id uuid.UUID, cutoff time.Time) (bool, error) {
	tag, err := s.DB.pool.Exec(ctx, `
		UPDATE videos SET status = 'cancelled'
		WHERE id = $1 AND source = 'upload' AND status = 'pending_upload' AND updated_at < $2`, id, cutoff)
	if err != nil {
		return false, fmt.Errorf("cancel stale upload: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ForgetBlobs deletes the video's file_storage rows.
func (s VideoStore) ForgetBlobs(ctx context.Context, id uuid.UUID) error {
	if _, err := s.DB.pool.Exec(ctx, `DELETE FROM file_storage WHERE video_id = $1`, id); err != nil {
		return fmt.Errorf("delete file_storage rows: %w", err)
	}
	return nil
}

// UnsettledUploads lists the source rows of completed uploads whose base
// blob is still to be settled, completed before cutoff, oldest first
// (served by file_storage_settle_idx). Videos hidden for deletion are left
// to StaleUploads.
func (s VideoStore) UnsettledUploads(ctx context.Context, cutoff time.Time, limit int) ([]media.UnsettledUpload, error) {
	rows, err := s.DB.pool.Query(ctx, `
		SELECT f.video_id, f.blob_name, f.snapshot FROM file_storage f
		JOIN videos v ON v.id = f.video_id
		WHERE f.settle_pending AND f.updated_at < $1 AND v.status <> 'cancelled'
		ORDER BY f.updated_at
		LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("select unsettled uploads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (media.UnsettledUpload, error) {
		var u media.UnsettledUpload
		err := row.Scan(&u.ID, &u.Blob, &u.Snapshot)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("select unsettled uploads: %w", err)
	}
	return out, nil
}

// UploadSettled clears the settle flag of the video's source row, if it
// still names snapshot.
func (s VideoStore) UploadSettled(ctx context.Context, id uuid.UUID, snapshot string) error {
	if _, err := s.DB.pool.Exec(ctx, `
		UPDATE file_storage SET settle_pending = false
		WHERE video_id = $1 AND kind = 'source' AND snapshot = $2`, id, snapshot); err != nil {
		return fmt.Errorf("mark upload settled: %w", err)
	}
	return nil
}
