package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/jobs"
)

// Jobs implements the stores the queue workers and the sweeper need.
type Jobs struct {
	DB *DB
}

var (
	_ jobs.VideoStore = Jobs{}
	_ jobs.Purger     = Jobs{}
)

// VideoStatus returns the status of video id, or jobs.ErrNotFound.
func (j Jobs) VideoStatus(ctx context.Context, id uuid.UUID) (string, error) {
	return j.videoStatus(ctx, id, jobs.ErrNotFound)
}

func (j Jobs) videoStatus(ctx context.Context, id uuid.UUID, notFound error) (string, error) {
	var status string
	err := j.DB.pool.QueryRow(ctx, `SELECT status FROM videos WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound
	}
	if err != nil {
		return "", fmt.Errorf("select video status: %w", err)
	}
	return status, nil
}

// PurgeExpired deletes auth tokens that expired before cutoff and sessions
// that ended (expired or were revoked) before cutoff, with their refresh
// tokens (ON DELETE CASCADE). Both deletes run in one transaction.
func (j Jobs) PurgeExpired(ctx context.Context, cutoff time.Time) (tokens, sessions int64, err error) {
	err = pgx.BeginFunc(ctx, j.DB.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM auth_tokens WHERE expires_at < $1`, cutoff)
		if err != nil {
			return fmt.Errorf("delete expired auth tokens: %w", err)
		}
		tokens = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `
			DELETE FROM sessions
			WHERE absolute_expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1`, cutoff)
		if err != nil {
			return fmt.Errorf("delete ended sessions: %w", err)
		}
		sessions = tag.RowsAffected()
		return nil
	})
	return tokens, sessions, err
}
