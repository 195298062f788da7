package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/auth"
)

// The mail outbox (table mail_outbox, migration 00003) of auth.MailOutbox.

var _ auth.MailOutbox = AuthStore{}

// EnqueueMail implements auth.MailOutbox.
func (s AuthStore) EnqueueMail(ctx context.Context, m auth.OutboxMail) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.DB.pool.QueryRow(ctx, `
		INSERT INTO mail_outbox (kind, email, user_id, request_ip, request_user_agent)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		string(m.Kind), m.Email, m.UserID, inet(m.Client.IP), truncate(m.Client.UserAgent, 512)).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("insert outbox mail: %w", err)
	}
	return id, nil
}

// ClaimMail implements auth.MailOutbox. The claim and the account lookup are
// one statement: the account by user_id when the request knew it, else by
// address. A mail due within 5 seconds counts as due, so a scheduled queue
// message that arrives a little early (clocks differ) is not wasted.
func (s AuthStore) ClaimMail(ctx context.Context, id uuid.UUID, now time.Time, lease time.Duration) (auth.ClaimedMail, error) {
	var m auth.ClaimedMail
	var kind string
	var ip *netip.Addr
	var ua *string
	var uid *uuid.UUID
	var u auth.User
	var hash *string
	var verified *bool
	var uEmail, uName *string
	var created *time.Time
	err := s.DB.pool.QueryRow(ctx, `
		WITH claimed AS (
			UPDATE mail_outbox SET attempts = attempts + 1, leased_until = $2::timestamptz + make_interval(secs => $3)
			WHERE id = $1 AND state = 'pending' AND next_attempt_at <= $2::timestamptz + interval '5 seconds'
			  AND (leased_until IS NULL OR leased_until <= $2)
			RETURNING id, attempts, kind, email, user_id, request_ip, request_user_agent
		)
		SELECT c.id, c.attempts, c.kind, c.email, c.user_id, c.request_ip, c.request_user_agent,
		       u.id, u.email, u.name, u.email_verified_at IS NOT NULL, u.created_at, u.password_hash
		FROM claimed c
		LEFT JOIN users u ON u.id = coalesce(c.user_id, (SELECT id FROM users WHERE email = c.email))`,
		id, now, lease.Seconds()).Scan(&m.ID, &m.Attempt, &kind, &m.Email, &m.UserID, &ip, &ua,
		&uid, &uEmail, &uName, &verified, &created, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.ClaimedMail{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.ClaimedMail{}, fmt.Errorf("claim outbox mail: %w", err)
	}
	m.Kind = auth.MailKind(kind)
	if ip != nil {
		m.Client.IP = ip.String()
	}
	if ua != nil {
		m.Client.UserAgent = *ua
	}
	if uid != nil {
		u.ID, u.Email, u.Name, u.EmailVerified, u.CreatedAt = *uid, *uEmail, *uName, *verified, *created
		if hash != nil {
			u.PasswordHash = []byte(*hash)
		}
		m.User = &u
	}
	return m, nil
}

// SettleMail implements auth.MailOutbox.
func (s AuthStore) SettleMail(ctx context.Context, id uuid.UUID, attempt int, o auth.MailOutcome, now time.Time) error {
	var lastError *string
	if o.Error != "" {
		e := truncate(o.Error, 2000)
		lastError = &e
	}
	var err error
	if o.State == auth.MailPending {
		_, err = s.DB.pool.Exec(ctx, `
			UPDATE mail_outbox SET leased_until = NULL, next_attempt_at = $3, last_error = $4
			WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
			id, attempt, o.NextAttemptAt, lastError)
	} else {
		_, err = s.DB.pool.Exec(ctx, `
			UPDATE mail_outbox SET state = $3, leased_until = NULL, finished_at = $4, last_error = $5
			WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
			id, attempt, o.State, now, lastError)
	}
	if err != nil {
		return fmt.Errorf("settle outbox mail: %w", err)
	}
	return nil
}

// SweepMail implements auth.MailOutbox, in one transaction.
func (s AuthStore) SweepMail(ctx context.Context, overdueBefore, giveUpBefore, purgeBefore, now time.Time, limit int) (auth.MailSweep, error) {
	var sw auth.MailSweep
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE mail_outbox SET state = 'failed', leased_until = NULL, finished_at = $2,
			       last_error = left('not sent within a day' || coalesce(': ' || last_error, ''), 2000)
			WHERE state = 'pending' AND created_at < $1`, giveUpBefore, now)
		if err != nil {
			return fmt.Errorf("give up old mails: %w", err)
		}
		sw.GaveUp = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM mail_outbox WHERE finished_at < $1`, purgeBefore)
		if err != nil {
			return fmt.Errorf("delete settled mails: %w", err)
		}
		sw.Purged = tag.RowsAffected()
		rows, err := tx.Query(ctx, `
			SELECT id FROM mail_outbox
			WHERE state = 'pending' AND next_attempt_at < $1 AND (leased_until IS NULL OR leased_until <= $2)
			ORDER BY next_attempt_at LIMIT $3`, overdueBefore, now, limit)
		if err != nil {
			return fmt.Errorf("select overdue mails: %w", err)
		}
		sw.Overdue, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("select overdue mails: %w", err)
		}
		return nil
	})
	return sw, err
}
