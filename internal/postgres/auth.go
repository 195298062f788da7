package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/auth"
)

// AuthStore implements auth.Store.
type AuthStore struct {
	DB *DB
}

var _ auth.Store = AuthStore{}

const (
	userColumns  = `id, email, name, email_verified_at IS NOT NULL, created_at, password_hash`
	userColumnsU = `u.id, u.email, u.name, u.email_verified_at IS NOT NULL, u.created_at, u.password_hash`
)

func scanUser(row pgx.Row) (auth.User, error) {
	var u auth.User
	var hash *string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.EmailVerified, &u.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.User{}, err
	}
	if hash != nil {
		u.PasswordHash = []byte(*hash)
	}
	return u, nil
}

// nullableHash stores a nil hash as NULL.
func nullableHash(h []byte) *string {
	if h == nil {
		return nil
	}
	s := string(h)
	return &s
}

func verifiedAt(v bool) any {
	if v {
		return time.Now()
	}
	return nil
}

// CreateUser inserts a user; auth.ErrEmailTaken when the email exists.
func (s AuthStore) CreateUser(ctx context.Context, u auth.NewUser) (auth.User, error) {
	row := s.DB.pool.QueryRow(ctx, `
		INSERT INTO users (email, name, password_hash, email_verified_at)
		VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, u.Email, u.Name, nullableHash(u.PasswordHash), verifiedAt(u.EmailVerified))
	user, err := scanUser(row)
	if c, ok := IsUniqueViolation(err); ok && c == "users_email_key" {
		return auth.User{}, auth.ErrEmailTaken
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("insert user: %w", err)
	}
	return user, nil
}

// UserByEmail returns the user with a normalised email, or auth.ErrNotFound.
func (s AuthStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	u, err := scanUser(s.DB.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.User{}, fmt.Errorf("select user by email: %w", err)
	}
	return u, err
}

// UserByID returns the user, or auth.ErrNotFound.
func (s AuthStore) UserByID(ctx context.Context, id uuid.UUID) (auth.User, error) {
	u, err := scanUser(s.DB.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.User{}, fmt.Errorf("select user: %w", err)
	}
	return u, err
}

// UpdateName sets the user's display name.
func (s AuthStore) UpdateName(ctx context.Context, id uuid.UUID, name string) (auth.User, error) {
	u, err := scanUser(s.DB.pool.QueryRow(ctx, `UPDATE users SET name = $2 WHERE id = $1 RETURNING `+userColumns, id, name))
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.User{}, fmt.Errorf("update user name: %w", err)
	}
	return u, err
}

// UpdatePasswordHash replaces the hash of the same password (a cost change).
func (s AuthStore) UpdatePasswordHash(ctx context.Context, id uuid.UUID, hash []byte) error {
	if _, err := s.DB.pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, string(hash)); err != nil {
		return fmt.Errorf("update password hash: %w", err)
	}
	return nil
}

// CreateAuthToken stores a token and consumes the user's outstanding tokens
// of the same purpose, in one transaction. The user's row is locked first,
// so that two tokens minted at once (two mail-sender workers) are ordered:
// the second supersedes the first, and exactly one stays valid. Without the
// lock each transaction supersedes only the tokens committed before its
// UPDATE, and both new ones stayed valid. FOR NO KEY UPDATE conflicts with
// itself but not with the key-share locks of foreign keys, so sessions,
// videos and other rows of the user are not held up. auth.ErrNotFound when
// the user does not exist.
func (s AuthStore) CreateAuthToken(ctx context.Context, t auth.AuthToken) error {
	return pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, t.UserID)
		if err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("lock user: %w", auth.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE auth_tokens SET consumed_at = now()
			WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL`, t.UserID, t.Purpose); err != nil {
			return fmt.Errorf("consume earlier tokens: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO auth_tokens (token_hash, purpose, user_id, email, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, t.Hash, t.Purpose, t.UserID, t.Email, t.ExpiresAt); err != nil {
			return fmt.Errorf("insert auth token: %w", err)
		}
		return nil
	})
}

// consumeToken marks an unexpired, unused token of purpose as used and
// returns its user id and address. auth.ErrInvalidToken otherwise.
func consumeToken(ctx context.Context, tx pgx.Tx, hash []byte, purpose string, now time.Time) (uuid.UUID, string, error) {
	var userID uuid.UUID
	var email string
	err := tx.QueryRow(ctx, `
		UPDATE auth_tokens SET consumed_at = $3
		WHERE token_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3
		RETURNING user_id, email`, hash, purpose, now).Scan(&userID, &email)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, "", auth.ErrInvalidToken
	}
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("consume token: %w", err)
	}
	return userID, email, nil
}

// VerifyEmail implements auth.Store.
func (s AuthStore) VerifyEmail(ctx context.Context, hash []byte, now time.Time) (auth.User, error) {
	var u auth.User
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		userID, email, err := consumeToken(ctx, tx, hash, auth.PurposeEmailVerification, now)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET email_verified_at = coalesce(email_verified_at, $3)
			WHERE id = $1 AND email = $2
			RETURNING `+userColumns, userID, email, now))
		if errors.Is(err, auth.ErrNotFound) {
			return auth.ErrInvalidToken // the address changed since the token was sent
		}
		return err
	})
	return u, err
}

// ResetPassword implements auth.Store.
func (s AuthStore) ResetPassword(ctx context.Context, hash, passwordHash []byte, now time.Time) (auth.User, []uuid.UUID, error) {
	var u auth.User
	var revoked []uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		userID, email, err := consumeToken(ctx, tx, hash, auth.PurposePasswordReset, now)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET password_hash = $3, password_changed_at = $4,
			                 email_verified_at = coalesce(email_verified_at, $4)
			WHERE id = $1 AND email = $2
			RETURNING `+userColumns, userID, email, string(passwordHash), now))
		if errors.Is(err, auth.ErrNotFound) {
			return auth.ErrInvalidToken
		}
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		revoked, err = revokeSessions(ctx, tx, userID, auth.RevokedPasswordReset, uuid.Nil)
		return err
	})
	return u, revoked, err
}

// ChangePassword implements auth.Store.
func (s AuthStore) ChangePassword(ctx context.Context, userID uuid.UUID, passwordHash []byte, keep uuid.UUID) ([]uuid.UUID, error) {
	var revoked []uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1`, userID, string(passwordHash)); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		var err error
		revoked, err = revokeSessions(ctx, tx, userID, auth.RevokedPasswordChange, keep)
		return err
	})
	return revoked, err
}

// revokeSessions revokes every session of the user but keep, and returns
// the ids of those that have not expired: the ones it revoked and the ones
// revoked before (whose earlier revocation keeps its time and reason), so
// a retry after the session cache refused a revocation writes it again.
func revokeSessions(ctx context.Context, tx pgx.Tx, userID uuid.UUID, reason string, keep uuid.UUID) ([]uuid.UUID, error) {
	ids, _, err := revokeUserSessions(ctx, tx, userID, reason, keep)
	return ids, err
}

// revokeUserSessions is revokeSessions that also counts the sessions this
// call revoked (live until now). now() is the transaction's start, which no
// earlier revocation can have recorded.
func revokeUserSessions(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, userID uuid.UUID, reason string, keep uuid.UUID) ([]uuid.UUID, int64, error) {
	rows, err := q.Query(ctx, `
		UPDATE sessions SET revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, $2)
		WHERE user_id = $1 AND id <> $3 AND idle_expires_at > now() AND absolute_expires_at > now()
		RETURNING id, revoked_at = now()`, userID, reason, keep)
	if err != nil {
		return nil, 0, fmt.Errorf("revoke sessions: %w", err)
	}
	var ids []uuid.UUID
	var n int64
	var id uuid.UUID
	var fresh bool
	_, err = pgx.ForEachRow(rows, []any{&id, &fresh}, func() error {
		ids = append(ids, id)
		if fresh {
			n++
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return ids, n, nil
}

func inet(ip string) *netip.Addr {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	return &a
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// CreateSession inserts a session and its first refresh token.
func (s AuthStore) CreateSession(ctx context.Context, ns auth.NewSession, refreshHash []byte) (uuid.UUID, error) {
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		created := ns.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO sessions (user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, ip, user_agent)
			VALUES ($1, $2, $2, $3, $4, $5, $6) RETURNING id`,
			ns.UserID, created, ns.IdleExpiresAt, ns.AbsoluteExpiresAt, inet(ns.IP), truncate(ns.UserAgent, 512)).Scan(&id); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)`, refreshHash, id, created); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
	return id, err
}

// RotateRefreshToken implements auth.Store. The session row is locked
// (FOR UPDATE), so concurrent refreshes of one session run one after the
// other: the first rotates, the others see a token rotated moments ago
// whose successor is the current token (WithinGrace). The user is read in
// the same transaction: if that fails, nothing is rotated.
func (s AuthStore) RotateRefreshToken(ctx context.Context, oldHash, newHash []byte, now time.Time, rules auth.RotationRules) (auth.Rotation, error) {
	var rot auth.Rotation
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var revoked bool
		var idleExp, absExp time.Time
		err := tx.QueryRow(ctx, `
			SELECT s.id, s.user_id, s.revoked_at IS NOT NULL, s.idle_expires_at, s.absolute_expires_at
			FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
			WHERE rt.token_hash = $1
			FOR UPDATE OF s`, oldHash).Scan(&rot.SessionID, &rot.UserID, &revoked, &idleExp, &absExp)
		if errors.Is(err, pgx.ErrNoRows) {
			rot.Outcome = auth.Invalid
			return nil
		}
		if err != nil {
			return fmt.Errorf("select refresh token: %w", err)
		}
		if revoked || !now.Before(idleExp) || !now.Before(absExp) {
			rot.Outcome = auth.Invalid
			return nil
		}
		// FOR UPDATE waited for any concurrent rotation: read the token's
		// state now that this transaction holds the session lock, with
		// whether its successor is still the session's current token.
		var createdAt time.Time
		var rotatedAt *time.Time
		var successorCurrent bool
		if err := tx.QueryRow(ctx, `
			SELECT rt.created_at, rt.rotated_at, rt.replaced_by,
			       coalesce((SELECT n.rotated_at IS NULL FROM refresh_tokens n WHERE n.token_hash = rt.replaced_by), false)
			FROM refresh_tokens rt WHERE rt.token_hash = $1`, oldHash).Scan(&createdAt, &rotatedAt, &rot.Successor, &successorCurrent); err != nil {
			return fmt.Errorf("reselect refresh token: %w", err)
		}
		switch {
		case rotatedAt == nil && now.Sub(createdAt) < rules.Hold:
			rot.Outcome = auth.Kept
		case rotatedAt == nil:
			rot.Outcome = auth.Rotated
		case successorCurrent && now.Sub(*rotatedAt) <= rules.Grace:
			// Only the direct predecessor of the current token: a tab that
			// sent the same cookie as the one that rotated it, or a retry.
			// A token two rotations old is reuse however recent.
			rot.Outcome = auth.WithinGrace
		default:
			rot.Outcome = auth.Reused
			_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1`, rot.SessionID, auth.RevokedReuse)
			if err != nil {
				return fmt.Errorf("revoke reused session: %w", err)
			}
			return nil
		}
		rot.User, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, rot.UserID))
		if err != nil {
			return fmt.Errorf("select session user: %w", err)
		}
		if rot.Outcome == auth.WithinGrace {
			rot.Until = idleExp // never after absExp
			return nil
		}
		if rot.Outcome == auth.Rotated {
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = $2, replaced_by = $3 WHERE token_hash = $1`, oldHash, now, newHash); err != nil {
				return fmt.Errorf("rotate refresh token: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)`, newHash, rot.SessionID, now); err != nil {
				return fmt.Errorf("insert refresh token: %w", err)
			}
		}
		idle := now.Add(rules.Idle)
		if idle.After(absExp) {
			idle = absExp
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET last_used_at = $2, idle_expires_at = $3 WHERE id = $1`, rot.SessionID, now, idle); err != nil {
			return fmt.Errorf("extend session: %w", err)
		}
		rot.Until = idle
		return nil
	})
	return rot, err
}

// SessionActive implements auth.Store.
func (s AuthStore) SessionActive(ctx context.Context, userID, id uuid.UUID, now time.Time) (time.Time, bool, error) {
	var until time.Time
	err := s.DB.pool.QueryRow(ctx, `
		SELECT least(idle_expires_at, absolute_expires_at) FROM sessions
		WHERE id = $1 AND user_id = $2
		  AND revoked_at IS NULL AND idle_expires_at > $3 AND absolute_expires_at > $3`,
		id, userID, now).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("select session: %w", err)
	}
	return until, true, nil
}

// SessionOfRefreshToken implements auth.Store.
func (s AuthStore) SessionOfRefreshToken(ctx context.Context, hash []byte) (uuid.UUID, error) {
	var sessionID uuid.UUID
	err := s.DB.pool.QueryRow(ctx, `SELECT session_id FROM refresh_tokens WHERE token_hash = $1`, hash).Scan(&sessionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, auth.ErrNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("select refresh token session: %w", err)
	}
	return sessionID, nil
}

// RevokeSessionByRefreshToken implements auth.Store.
func (s AuthStore) RevokeSessionByRefreshToken(ctx context.Context, hash []byte, reason string) (uuid.UUID, uuid.UUID, error) {
	var userID, sessionID uuid.UUID
	err := s.DB.pool.QueryRow(ctx, `
		UPDATE sessions s SET revoked_at = coalesce(s.revoked_at, now()), revoked_reason = coalesce(s.revoked_reason, $2)
		FROM refresh_tokens rt
		WHERE rt.token_hash = $1 AND s.id = rt.session_id
		RETURNING s.user_id, s.id`, hash, reason).Scan(&userID, &sessionID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, uuid.Nil, auth.ErrNotFound
	}
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("revoke session: %w", err)
	}
	return userID, sessionID, nil
}

// RevokeUserSessions implements auth.Store.
func (s AuthStore) RevokeUserSessions(ctx context.Context, userID uuid.UUID, reason string) ([]uuid.UUID, int64, error) {
	return revokeUserSessions(ctx, s.DB.pool, userID, reason, uuid.Nil)
}

// UserByIdentity implements auth.Store.
func (s AuthStore) UserByIdentity(ctx context.Context, provider, subject string) (auth.User, error) {
	u, err := scanUser(s.DB.pool.QueryRow(ctx, `
		SELECT `+userColumnsU+` FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = $1 AND i.subject = $2`, provider, subject))
	if err != nil && !errors.Is(err, auth.ErrNotFound) {
		return auth.User{}, fmt.Errorf("select user by identity: %w", err)
	}
	return u, err
}

// LinkIdentity implements auth.Store.
func (s AuthStore) LinkIdentity(ctx context.Context, userID uuid.UUID, id auth.Identity) (auth.User, []uuid.UUID, error) {
	var u auth.User
	var revoked []uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var wasVerified bool
		if err := tx.QueryRow(ctx, `SELECT email_verified_at IS NOT NULL FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&wasVerified); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO user_identities (user_id, provider, subject, email, email_verified)
			VALUES ($1, $2, $3, $4, $5)`, userID, id.Provider, id.Subject, id.Email, id.EmailVerified); err != nil {
			return fmt.Errorf("insert identity: %w", err)
		}
		if !wasVerified {
			// Whoever set this password never proved they own the address;
			// the provider just did. Drop the password and its sessions.
			if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = NULL, email_verified_at = now() WHERE id = $1`, userID); err != nil {
				return fmt.Errorf("verify user: %w", err)
			}
			var err error
			if revoked, err = revokeSessions(ctx, tx, userID, auth.RevokedIdentityLinked, uuid.Nil); err != nil {
				return err
			}
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, userID))
		return err
	})
	return u, revoked, err
}

// CreateUserWithIdentity implements auth.Store.
func (s AuthStore) CreateUserWithIdentity(ctx context.Context, nu auth.NewUser, id auth.Identity) (auth.User, error) {
	var u auth.User
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			INSERT INTO users (email, name, password_hash, email_verified_at) VALUES ($1, $2, $3, $4)
			RETURNING `+userColumns, nu.Email, nu.Name, nullableHash(nu.PasswordHash), verifiedAt(nu.EmailVerified)))
		if c, ok := IsUniqueViolation(err); ok && c == "users_email_key" {
			return auth.ErrEmailTaken
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO user_identities (user_id, provider, subject, email, email_verified)
			VALUES ($1, $2, $3, $4, $5)`, u.ID, id.Provider, id.Subject, id.Email, id.EmailVerified); err != nil {
			return fmt.Errorf("insert identity: %w", err)
		}
		return nil
	})
	return u, err
}

// RecordEvent implements auth.Store.
func (s AuthStore) RecordEvent(ctx context.Context, e auth.Event) error {
	outcome := "failure"
	if e.Success {
		outcome = "success"
	}
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	_, err := s.DB.pool.Exec(ctx, `
		INSERT INTO auth_events (user_id, event, outcome, ip, user_agent, detail)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.UserID, e.Event, outcome, inet(e.IP), truncate(e.UserAgent, 512), detail)
	if err != nil {
		return fmt.Errorf("insert auth event: %w", err)
	}
	return nil
}
