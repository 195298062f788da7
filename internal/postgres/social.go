package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/social"
)

// SocialStore implements social.Store.
type SocialStore struct {
	DB *DB
}

var _ social.Store = SocialStore{}

const socialColumns = `a.id, a.user_id, a.platform, a.external_id, a.handle, a.display_name, a.avatar_url, a.scopes,
	a.status, a.created_at, a.updated_at`

const sealedColumns = `a.token_key_id, a.access_token_ciphertext, a.refresh_token_ciphertext, a.token_expires_at`

func scanSocial(row pgx.Row, extra ...any) (social.Account, error) {
	var a social.Account
	dest := append([]any{&a.ID, &a.UserID, &a.Platform, &a.ExternalID, &a.Handle, &a.DisplayName, &a.AvatarURL,
		&a.Scopes, &a.Status, &a.CreatedAt, &a.UpdatedAt}, extra...)
	err := row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return social.Account{}, social.ErrNotFound
	}
	if a.Scopes == nil {
		a.Scopes = []string{}
	}
	return a, err
}

// PutState implements social.Store; it also drops expired states.
func (s SocialStore) PutState(ctx context.Context, st social.OAuthState) error {
	return pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM social_oauth_states WHERE expires_at < now() - interval '1 hour'`); err != nil {
			return fmt.Errorf("delete expired oauth states: %w", err)
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO social_oauth_states (state_hash, user_id, platform, verifier_ciphertext, verifier_key_id, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, st.Hash, st.UserID, st.Platform, st.Verifier, st.KeyID, st.Expires)
		if err != nil {
			return fmt.Errorf("insert oauth state: %w", err)
		}
		return nil
	})
}

// TakeState implements social.Store.
func (s SocialStore) TakeState(ctx context.Context, hash []byte, now time.Time) (social.OAuthState, error) {
	st := social.OAuthState{Hash: hash}
	err := s.DB.pool.QueryRow(ctx, `
		DELETE FROM social_oauth_states WHERE state_hash = $1
		RETURNING user_id, platform, verifier_key_id, verifier_ciphertext, expires_at`, hash).
		Scan(&st.UserID, &st.Platform, &st.KeyID, &st.Verifier, &st.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return social.OAuthState{}, social.ErrStateInvalid
	}
	if err != nil {
		return social.OAuthState{}, fmt.Errorf("take oauth state: %w", err)
	}
	if !now.Before(st.Expires) {
		return social.OAuthState{}, social.ErrStateInvalid
	}
	return st, nil
}

// SaveAccount implements social.Store. The existing row of the same
// (user, platform, external id) is locked first so its id, which the
// sealed tokens are bound to, is known before sealing.
func (s SocialStore) SaveAccount(ctx context.Context, a social.Account, seal func(uuid.UUID) (social.Sealed, error)) (social.Account, error) {
	var out social.Account
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, a.UserID); err != nil {
			return err
		}
		id := uuid.New()
		err := tx.QueryRow(ctx, `
			SELECT id FROM social_accounts WHERE user_id = $1 AND platform = $2 AND external_id = $3 FOR UPDATE`,
			a.UserID, a.Platform, a.ExternalID).Scan(&id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("select social account: %w", err)
		}
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		scopes := a.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out, err = scanSocial(tx.QueryRow(ctx, `
			INSERT INTO social_accounts AS a (id, user_id, platform, external_id, handle, display_name, avatar_url, scopes,
				status, token_key_id, access_token_ciphertext, refresh_token_ciphertext, token_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $11, $12)
			ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, display_name = excluded.display_name,
				avatar_url = excluded.avatar_url, scopes = excluded.scopes, status = 'active',
				token_key_id = excluded.token_key_id, access_token_ciphertext = excluded.access_token_ciphertext,
				refresh_token_ciphertext = excluded.refresh_token_ciphertext, token_expires_at = excluded.token_expires_at
			RETURNING `+socialColumns,
			id, a.UserID, a.Platform, a.ExternalID, a.Handle, a.DisplayName, a.AvatarURL, scopes,
			sealed.KeyID, sealed.Access, sealed.Refresh, sealed.Expiry))
		if err != nil {
			return fmt.Errorf("upsert social account: %w", err)
		}
		return nil
	})
	return out, err
}

// ListAccounts implements social.Store.
func (s SocialStore) ListAccounts(ctx context.Context, userID uuid.UUID) ([]social.Account, error) {
	out, err := queryAll(ctx, s.DB.pool, "select social accounts", func(r pgx.Row) (social.Account, error) { return scanSocial(r) }, `
		SELECT `+socialColumns+` FROM social_accounts a WHERE a.user_id = $1 ORDER BY a.created_at, a.id`, userID)
	if out == nil && err == nil {
		out = []social.Account{} // a list, also when empty
	}
	return out, err
}

// Account implements social.Store.
func (s SocialStore) Account(ctx context.Context, userID, id uuid.UUID) (social.Account, social.Sealed, error) {
	var sealed social.Sealed
	a, err := scanSocial(s.DB.pool.QueryRow(ctx, `
		SELECT `+socialColumns+`, `+sealedColumns+` FROM social_accounts a WHERE a.id = $1 AND a.user_id = $2`, id, userID),
		&sealed.KeyID, &sealed.Access, &sealed.Refresh, &sealed.Expiry)
	if err != nil && !errors.Is(err, social.ErrNotFound) {
		return social.Account{}, social.Sealed{}, fmt.Errorf("select social account: %w", err)
	}
	return a, sealed, err
}

// UpdateAccount implements social.Store: the row stays locked (FOR UPDATE)
// while fn runs, so concurrent refreshes of one account do not both ask
// the platform.
func (s SocialStore) UpdateAccount(ctx context.Context, userID, id uuid.UUID, fn func(social.Account, social.Sealed) (*social.Update, error)) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		var sealed social.Sealed
		a, err := scanSocial(tx.QueryRow(ctx, `
			SELECT `+socialColumns+`, `+sealedColumns+` FROM social_accounts a WHERE a.id = $1 AND a.user_id = $2 FOR UPDATE`,
			id, userID), &sealed.KeyID, &sealed.Access, &sealed.Refresh, &sealed.Expiry)
		if errors.Is(err, social.ErrNotFound) {
			return err
		}
		if err != nil {
			return fmt.Errorf("select social account: %w", err)
		}
		var u *social.Update
		u, fnErr = fn(a, sealed)
		if u == nil {
			return nil
		}
		if u.Sealed != nil {
			if _, err := tx.Exec(ctx, `
				UPDATE social_accounts SET token_key_id = $2, access_token_ciphertext = $3, refresh_token_ciphertext = $4,
					token_expires_at = $5 WHERE id = $1`,
				id, u.Sealed.KeyID, u.Sealed.Access, u.Sealed.Refresh, u.Sealed.Expiry); err != nil {
				return fmt.Errorf("update social tokens: %w", err)
			}
		}
		if u.Status != "" {
			if _, err := tx.Exec(ctx, `UPDATE social_accounts SET status = $2 WHERE id = $1`, id, u.Status); err != nil {
				return fmt.Errorf("update social status: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return fnErr
}

// DeleteAccount implements social.Store.
func (s SocialStore) DeleteAccount(ctx context.Context, userID, id uuid.UUID) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM social_accounts WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete social account: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return social.ErrNotFound
	}
	return nil
}
