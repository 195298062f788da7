package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/posts"
)

// PostStore implements posts.Store, posts.WorkStore and posts.SweepStore.
type PostStore struct {
	DB *DB
}

var (
	_ posts.Store      = PostStore{}
	_ posts.WorkStore  = PostStore{}
	_ posts.SweepStore = PostStore{}
)

const postColumns = `p.id, p.user_id, p.video_id, p.clip_id, p.social_account_id, p.title, p.caption, p.privacy,
	p.scheduled_at, p.status, coalesce(p.error, ''), coalesce(p.external_id, ''), coalesce(p.external_url, ''),
	p.published_at, p.created_at, p.updated_at`

func scanPost(row pgx.Row) (posts.Post, error) {
	var p posts.Post
	err := row.Scan(&p.ID, &p.UserID, &p.VideoID, &p.ClipID, &p.AccountID, &p.Title, &p.Caption, &p.Privacy,
		&p.ScheduledAt, &p.Status, &p.Error, &p.ExternalID, &p.ExternalURL, &p.PublishedAt, &p.CreatedAt, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return posts.Post{}, posts.ErrNotFound
	}
	return p, err
}

// CreatePost implements posts.Store: the video or clip must be the user's
// and ready, and the account the user's (the composite foreign keys hold
// the ownership in the schema too).
func (s PostStore) CreatePost(ctx context.Context, p posts.Post) (posts.Post, error) {
	var out posts.Post
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var status string
		var err error
		if p.VideoID != nil {
			err = tx.QueryRow(ctx, `SELECT v.status FROM videos v WHERE v.id = $1 AND v.user_id = $2 AND `+visible+` FOR SHARE`,
				*p.VideoID, p.UserID).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) {
				return posts.ErrVideoNotFound
			}
		} else {
			err = tx.QueryRow(ctx, `
				SELECT c.status FROM clips c JOIN videos v ON v.id = c.video_id
				WHERE c.id = $1 AND c.user_id = $2 AND `+visible+` FOR SHARE OF c`, *p.ClipID, p.UserID).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) {
				return posts.ErrClipNotFound
			}
		}
		if err != nil {
			return fmt.Errorf("select post target: %w", err)
		}
		if status != "ready" {
			return posts.ErrNotReady
		}
		var one int
		err = tx.QueryRow(ctx, `SELECT 1 FROM social_accounts WHERE id = $1 AND user_id = $2 FOR SHARE`, p.AccountID, p.UserID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return posts.ErrAccountNotFound
		}
		if err != nil {
			return fmt.Errorf("select social account: %w", err)
		}
		out, err = scanPost(tx.QueryRow(ctx, `
			INSERT INTO posts AS p (id, user_id, video_id, clip_id, social_account_id, title, caption, privacy, scheduled_at, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'scheduled')
			RETURNING `+postColumns,
			p.ID, p.UserID, p.VideoID, p.ClipID, p.AccountID, p.Title, p.Caption, p.Privacy, p.ScheduledAt))
		if err != nil {
			return fmt.Errorf("insert post: %w", err)
		}
		return nil
	})
	return out, err
}

// Post implements posts.Store.
func (s PostStore) Post(ctx context.Context, userID, id uuid.UUID) (posts.Post, error) {
	p, err := scanPost(s.DB.pool.QueryRow(ctx, `SELECT `+postColumns+` FROM posts p WHERE p.id = $1 AND p.user_id = $2`, id, userID))
	if err != nil && !errors.Is(err, posts.ErrNotFound) {
		return posts.Post{}, fmt.Errorf("select post: %w", err)
	}
	return p, err
}

// Posts implements posts.Store (posts_user_created_idx).
func (s PostStore) Posts(ctx context.Context, userID uuid.UUID, f posts.Filter) ([]posts.Post, error) {
	var afterAt *time.Time
	var afterID *uuid.UUID
	if f.After != nil {
		afterAt, afterID = &f.After.CreatedAt, &f.After.ID
	}
	return queryAll(ctx, s.DB.pool, "select posts", scanPost, `
		SELECT `+postColumns+` FROM posts p
		WHERE p.user_id = $1 AND ($2 = '' OR p.status = $2)
		  AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3, $4::uuid))
		ORDER BY p.created_at DESC, p.id DESC
		LIMIT $5`, userID, f.Status, afterAt, afterID, f.Limit+1)
}

// CancelPost implements posts.Store.
func (s PostStore) CancelPost(ctx context.Context, userID, id uuid.UUID) (posts.Post, error) {
	p, err := scanPost(s.DB.pool.QueryRow(ctx, `
		UPDATE posts p SET status = 'cancelled'
		WHERE p.id = $1 AND p.user_id = $2 AND p.status = 'scheduled'
		RETURNING `+postColumns, id, userID))
	if errors.Is(err, posts.ErrNotFound) {
		if _, err := s.Post(ctx, userID, id); err != nil {
			return posts.Post{}, err
		}
		return posts.Post{}, posts.ErrNotCancellable
	}
	if err != nil {
		return posts.Post{}, fmt.Errorf("cancel post: %w", err)
	}
	return p, nil
}

// claimSkew is how early a claim takes a scheduled post: Service Bus
// delivers a scheduled message by its own clock, which may run ahead of
// the database's, and a message refused as early would leave the post to
// the sweeper, minutes late. The local queue uses the database's clock,
// so its messages are never early.
const claimSkew = "5 seconds"

// ClaimPost implements posts.WorkStore: one UPDATE takes the post
// (scheduled and due within claimSkew, or publishing under an expired
// lease) for a new attempt, so two workers can never both hold it.
func (s PostStore) ClaimPost(ctx context.Context, id uuid.UUID, lease time.Duration) (posts.Job, bool, error) {
	var j posts.Job
	var a int64
	err := s.DB.pool.QueryRow(ctx, `
		WITH c AS (
			UPDATE posts p SET status = 'publishing', attempt = p.attempt + 1,
				lease_until = now() + make_interval(secs => $2)
			WHERE p.id = $1
			  AND ((p.status = 'scheduled' AND p.scheduled_at <= now() + interval '`+claimSkew+`')
			    OR (p.status = 'publishing' AND p.lease_until <= now()))
			RETURNING p.*
		)
		SELECT c.id, c.user_id, c.social_account_id, a.platform, c.title, c.caption, c.privacy,
			coalesce(cl.aspect = '9:16', false) OR coalesce(coalesce(cl.height, v.height) > coalesce(cl.width, v.width), false),
			coalesce(f.blob_name, ''), coalesce(f.snapshot, ''), coalesce(f.content_type, ''), coalesce(f.size_bytes, 0),
			coalesce(c.upload_url_key_id, ''), c.upload_url_ciphertext, c.attempt
		FROM c
		JOIN social_accounts a ON a.id = c.social_account_id
		LEFT JOIN clips cl ON cl.id = c.clip_id
		LEFT JOIN videos v ON v.id = c.video_id
		LEFT JOIN file_storage f ON (f.video_id = c.video_id AND f.kind = 'source')
		                         OR (f.clip_id = c.clip_id AND f.kind = 'clip')`,
		id, lease.Seconds()).Scan(&j.PostID, &j.UserID, &j.AccountID, &j.Platform, &j.Title, &j.Caption, &j.Privacy,
		&j.Vertical, &j.Blob, &j.Snapshot, &j.ContentType, &j.Size, &j.Session.KeyID, &j.Session.Ciphertext, &a)
	if errors.Is(err, pgx.ErrNoRows) {
		return posts.Job{}, false, nil
	}
	if err != nil {
		return posts.Job{}, false, fmt.Errorf("claim post: %w", err)
	}
	j.Attempt = posts.Attempt(a)
	return j, true, nil
}

// fenced runs an UPDATE of the post's current attempt and returns
// posts.ErrNotCurrent when it matched nothing.
func (s PostStore) fenced(ctx context.Context, op, sql string, args ...any) error {
	tag, err := s.DB.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return posts.ErrNotCurrent
	}
	return nil
}

// SaveUpload implements posts.WorkStore: the session is stored as sealed
// by the worker (00012).
func (s PostStore) SaveUpload(ctx context.Context, id uuid.UUID, a posts.Attempt, session posts.SealedSession, offset int64, lease time.Duration) error {
	return s.fenced(ctx, "save upload", `
		UPDATE posts SET upload_url_key_id = $3, upload_url_ciphertext = $4, upload_offset = $5,
			lease_until = now() + make_interval(secs => $6)
		WHERE id = $1 AND attempt = $2 AND status = 'publishing'`,
		id, int64(a), session.KeyID, session.Ciphertext, offset, lease.Seconds())
}

// FinishPost implements posts.WorkStore.
func (s PostStore) FinishPost(ctx context.Context, id uuid.UUID, a posts.Attempt, externalID, externalURL string) error {
	return s.fenced(ctx, "finish post", `
		UPDATE posts SET status = 'published', external_id = $3, external_url = $4, published_at = now(),
			lease_until = NULL, upload_url_key_id = NULL, upload_url_ciphertext = NULL, error = NULL
		WHERE id = $1 AND attempt = $2 AND status = 'publishing'`, id, int64(a), externalID, externalURL)
}

// FailPost implements posts.WorkStore.
func (s PostStore) FailPost(ctx context.Context, id uuid.UUID, a posts.Attempt, reason string) error {
	return s.fenced(ctx, "fail post", `
		UPDATE posts SET status = 'failed', error = $3, lease_until = NULL, upload_url_key_id = NULL, upload_url_ciphertext = NULL
		WHERE id = $1 AND attempt = $2 AND status = 'publishing'`, id, int64(a), reason)
}

// ReleasePost implements posts.WorkStore.
func (s PostStore) ReleasePost(ctx context.Context, id uuid.UUID, a posts.Attempt) error {
	return s.fenced(ctx, "release post", `
		UPDATE posts SET lease_until = now()
		WHERE id = $1 AND attempt = $2 AND status = 'publishing'`, id, int64(a))
}

// StalePosts implements posts.SweepStore (posts_due_idx,
// posts_publishing_lease_idx).
func (s PostStore) StalePosts(ctx context.Context, dueBefore, now time.Time, limit int) ([]posts.Stale, error) {
	rows, err := s.DB.pool.Query(ctx, `
		(SELECT id, status, attempt FROM posts WHERE status = 'scheduled' AND scheduled_at < $1 ORDER BY scheduled_at LIMIT $3)
		UNION ALL
		(SELECT id, status, attempt FROM posts WHERE status = 'publishing' AND lease_until < $2 ORDER BY lease_until LIMIT $3)`,
		dueBefore, now, limit)
	if err != nil {
		return nil, fmt.Errorf("select stale posts: %w", err)
	}
	var out []posts.Stale
	var st posts.Stale
	var a int64
	_, err = pgx.ForEachRow(rows, []any{&st.ID, &st.Status, &a}, func() error {
		st.Attempt = posts.Attempt(a)
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("select stale posts: %w", err)
	}
	return out, nil
}

// GiveUpPost implements posts.SweepStore.
func (s PostStore) GiveUpPost(ctx context.Context, st posts.Stale, reason string) error {
	err := s.fenced(ctx, "give up post", `
		UPDATE posts SET status = 'failed', error = $3, lease_until = NULL, upload_url_key_id = NULL, upload_url_ciphertext = NULL
		WHERE id = $1 AND attempt = $2 AND status = 'publishing' AND lease_until < now()`, st.ID, int64(st.Attempt), reason)
	if errors.Is(err, posts.ErrNotCurrent) {
		return nil
	}
	return err
}
