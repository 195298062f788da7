package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	mailer "github.com/videofn/videofn/internal/mail"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/traceparent"
)

// Mails go through an outbox (table mail_outbox). A request that should
// mail someone records what to send (kind and address, no secret) and
// returns; DeliverMail, run by the mail-sender worker, looks the account up,
// mints the token the mail carries, renders and sends it. So a request does
// the same work whether or not the address has an account, and never waits
// for the SMTP server.

// MailKind names an outbox mail, as stored in mail_outbox.kind.
type MailKind string

// The outbox mails.
const (
	// MailVerifyEmail carries a new verification link, if the account is
	// still unverified at its address.
	MailVerifyEmail MailKind = "verify_email"
	// MailAlreadyRegistered tells the owner that someone tried to register
	// the address again.
	MailAlreadyRegistered MailKind = "already_registered"
	// MailResetPassword carries a new reset link, if the account exists.
	MailResetPassword MailKind = "reset_password"
	// MailPasswordChanged notifies that the password was changed or reset.
	MailPasswordChanged MailKind = "password_changed"
)

// OutboxMail is a mail a request asks for. UserID is set when the request
// knew the account; otherwise the account is looked up by Email when the
// mail is sent.
type OutboxMail struct {
	Kind   MailKind
	Email  string
	UserID *uuid.UUID
	Client Client // for the audit log of what the mail does
}

// ClaimedMail is an outbox mail claimed for one attempt (number Attempt,
// 1 for the first). User is the account the mail is for (by UserID, else
// by Email), nil when there is none.
type ClaimedMail struct {
	ID      uuid.UUID
	Attempt int
	OutboxMail
	User *User
}

// Mail states, as stored in mail_outbox.state.
const (
	MailPending = "pending"
	MailSent    = "sent"
	MailSkipped = "skipped"
	MailFailed  = "failed"
)

// MailOutcome settles an attempt: State is MailSent, MailSkipped, MailFailed,
// or MailPending to try again at NextAttemptAt. Error says why it was not
// sent (no secret in it).
type MailOutcome struct {
	State         string
	NextAttemptAt time.Time
	Error         string
}

// MailSweep is what SweepMail found and did.
type MailSweep struct {
	Overdue []uuid.UUID // pending mails whose wake-up message was lost
	GaveUp  int64       // pending mails too old to be worth sending, now failed
	Purged  int64       // settled mails deleted after the retention period
}

// MailOutbox is the persistence of the outbox.
type MailOutbox interface {
	// EnqueueMail records m as pending and due now, and returns its id.
	EnqueueMail(ctx context.Context, m OutboxMail) (uuid.UUID, error)
	// ClaimMail starts an attempt on a pending mail that is due at now and
	// not claimed by an attempt still running (its lease expires after
	// lease). ErrNotFound when there is nothing to do: the mail is settled,
	// not due, claimed, or gone.
	ClaimMail(ctx context.Context, id uuid.UUID, now time.Time, lease time.Duration) (ClaimedMail, error)
	// SettleMail records the outcome of attempt. It changes nothing (and
	// returns nil) when a later attempt has claimed the mail since.
	SettleMail(ctx context.Context, id uuid.UUID, attempt int, o MailOutcome, now time.Time) error
	// SweepMail returns up to limit pending, unclaimed mails due before
	// overdueBefore, fails the pending mails created before giveUpBefore and
	// deletes the settled mails finished before purgeBefore.
	SweepMail(ctx context.Context, overdueBefore, giveUpBefore, purgeBefore, now time.Time, limit int) (MailSweep, error)
}

// Outbox timing. An attempt's lease outlasts the SMTP sender's own timeout.
const (
	mailLease = 2 * time.Minute
	// mailOverdue: a pending mail due this long ago had its wake-up message
	// lost; the sweeper sends another.
	mailOverdue = 2 * time.Minute
	// mailGiveUp: a mail still pending after this long is failed: its link
	// would reach the user far too late to be expected.
	mailGiveUp = 24 * time.Hour
	// mailSweepBatch bounds the wake-ups one sweep sends.
	mailSweepBatch = 500
)

// defaultMailRetry waits 30 s after the first failed attempt, doubling up
// to 30 minutes: with 10 attempts a mail is tried for about 2 hours.
func defaultMailRetry(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return 30 * time.Minute
	}
	return min(30*time.Second<<(attempt-1), 30*time.Minute)
}

// mailMessage is the body of a message on the mail queue.
type mailMessage struct {
	MailID uuid.UUID `json:"mail_id"`
}

// DecodeMailMessage parses a mail queue message body. The error is
// permanent: such a body can never be processed.
func DecodeMailMessage(body []byte) (uuid.UUID, error) {
	var m mailMessage
	if err := json.Unmarshal(body, &m); err != nil || m.MailID == uuid.Nil {
		return uuid.Nil, errors.New(`the body must be a JSON object such as {"mail_id":"<uuid>"}`)
	}
	return m.MailID, nil
}

// recordMail puts m in the outbox and wakes the mail sender. A failed
// wake-up is logged only: the sweeper sends one later.
func (s *Service) recordMail(ctx context.Context, m OutboxMail) error {
	id, err := s.store.EnqueueMail(ctx, m)
	if err != nil {
		return fmt.Errorf("record %s mail: %w", m.Kind, err)
	}
	s.wakeMailSender(ctx, id, "mail:"+id.String(), time.Time{})
	return nil
}

// wakeMailSender sends the queue message that makes the worker deliver
// mail id, not before notBefore (zero: now).
func (s *Service) wakeMailSender(ctx context.Context, id uuid.UUID, messageID string, notBefore time.Time) {
	if s.opts.MailQueue == nil {
		return
	}
	body, _ := json.Marshal(mailMessage{MailID: id})
	err := s.opts.MailQueue.Send(ctx, s.opts.MailQueueName, queue.Message{ID: messageID, Body: body, NotBefore: notBefore})
	if err != nil {
		s.logger.Warn("mail sender not woken; the sweeper will", "mail_id", id, "err", err.Error())
	}
}

// DeliverMail makes one attempt at the outbox mail id. It is idempotent: a
// mail that is sent, skipped, failed, claimed by a running attempt or not
// due yet is left alone, so a redelivered message sends nothing twice. The
// attempt mints the token the mail carries (superseding earlier ones of
// the account), then sends. A permanent failure (recipient refused) is
// recorded as failed; a transient one schedules the next attempt after a
// backoff, by a delayed queue message, until the last attempt. DeliverMail
// returns an error only when the outbox itself could not be read or written
// (the queue delivers the message again).
func (s *Service) DeliverMail(ctx context.Context, id uuid.UUID) error {
	now := s.now()
	m, err := s.store.ClaimMail(ctx, id, now, mailLease)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver mail: %w", err)
	}
	log := traceparent.Logger(ctx, s.logger).With("mail_id", id, "kind", string(m.Kind), "attempt", m.Attempt)

	msg, skip, err := s.composeMail(ctx, m)
	var out MailOutcome
	switch {
	case err != nil:
		// The database failed (minting the token): give the mail back at
		// once, and let the queue deliver the message again.
		if serr := s.store.SettleMail(ctx, id, m.Attempt, MailOutcome{State: MailPending, NextAttemptAt: now, Error: "compose: " + err.Error()}, s.now()); serr != nil {
			log.Warn("mail not released after a failed attempt; its lease will expire", "err", serr.Error())
		}
		return fmt.Errorf("deliver mail: %w", err)
	case skip != "":
		out = MailOutcome{State: MailSkipped, Error: skip}
	default:
		out = s.sendMail(ctx, log, m, msg)
	}
	if err := s.store.SettleMail(ctx, id, m.Attempt, out, s.now()); err != nil {
		// Sent but not marked: the lease expires and the sweeper tries
		// again, so this mail may go out twice, which beats losing it.
		return fmt.Errorf("deliver mail: settle: %w", err)
	}
	if out.State == MailPending {
		s.wakeMailSender(ctx, id, fmt.Sprintf("mail:%s:%d", id, m.Attempt), out.NextAttemptAt)
	}
	return nil
}

// sendMail sends msg and says how the attempt ends.
func (s *Service) sendMail(ctx context.Context, log *slog.Logger, m ClaimedMail, msg mailer.Message) MailOutcome {
	err := s.mail.Send(ctx, msg)
	switch {
	case err == nil:
		log.Info("mail sent")
		return MailOutcome{State: MailSent}
	case mailer.Permanent(err):
		log.Error("mail refused for good", "err", err.Error())
		return MailOutcome{State: MailFailed, Error: err.Error()}
	case m.Attempt >= s.opts.MailAttempts:
		log.Error("mail not sent after the last attempt", "err", err.Error())
		return MailOutcome{State: MailFailed, Error: fmt.Sprintf("gave up after %d attempts: %s", m.Attempt, err)}
	}
	next := s.now().Add(s.opts.MailRetry(m.Attempt))
	log.Warn("mail not sent; trying again later", "err", err.Error(), "next_attempt_at", next)
	return MailOutcome{State: MailPending, NextAttemptAt: next, Error: err.Error()}
}

// composeMail decides whether m is still to be sent and renders it,
// minting its token. skip says why nothing is to be sent; err is a
// database failure.
func (s *Service) composeMail(ctx context.Context, m ClaimedMail) (msg mailer.Message, skip string, err error) {
	u := m.User
	switch {
	case u == nil:
		return msg, "no account", nil
	case u.Email != m.Email:
		return msg, "the account's address changed", nil
	}
	var kind mailer.Kind
	data := mailer.Data{Name: u.Name, AppName: s.opts.AppName}
	switch m.Kind {
	case MailVerifyEmail:
		if u.EmailVerified {
			return msg, "already verified", nil
		}
		plain, hash := opaqueToken()
		if err := s.store.CreateAuthToken(ctx, AuthToken{UserID: u.ID, Purpose: PurposeEmailVerification, Hash: hash, Email: u.Email, ExpiresAt: s.now().Add(s.opts.VerifyTTL)}); err != nil {
			return msg, "", fmt.Errorf("create verification token: %w", err)
		}
		// No name: it was typed by whoever registered, who may not own the address.
		kind, data.Name, data.Link, data.ExpiresIn = mailer.VerifyEmail, "", s.link("/auth/verify", plain), s.opts.VerifyTTL
	case MailResetPassword:
		plain, hash := opaqueToken()
		if err := s.store.CreateAuthToken(ctx, AuthToken{UserID: u.ID, Purpose: PurposePasswordReset, Hash: hash, Email: u.Email, ExpiresAt: s.now().Add(s.opts.ResetTTL)}); err != nil {
			return msg, "", fmt.Errorf("create reset token: %w", err)
		}
		s.audit(ctx, &u.ID, "password_reset_requested", true, m.Client, nil)
		kind, data.Link, data.ExpiresIn = mailer.ResetPassword, s.link("/auth/reset-password", plain), s.opts.ResetTTL
	case MailAlreadyRegistered:
		kind, data.Link = mailer.AlreadyRegistered, s.link("/auth/login", "")
	case MailPasswordChanged:
		kind, data.Link = mailer.PasswordChanged, s.link("/auth/forgot-password", "")
	default:
		return msg, fmt.Sprintf("unknown kind %q", m.Kind), nil
	}
	msg, err = mailer.Render(kind, u.Email, data)
	if err != nil {
		return msg, "render: " + err.Error(), nil
	}
	return msg, "", nil
}

// SweepMail heals the outbox: it wakes the mail sender again for pending
// mails whose message was lost (due more than 2 minutes ago and not being
// sent), fails mails still pending after 24 hours, and deletes settled
// mails (address, IP and user agent included) finished before now minus
// retention. It returns a summary for the invocation log.
func (s *Service) SweepMail(ctx context.Context, now time.Time, retention time.Duration) (string, error) {
	sw, err := s.store.SweepMail(ctx, now.Add(-mailOverdue), now.Add(-mailGiveUp), now.Add(-retention), now, mailSweepBatch)
	if err != nil {
		return "", fmt.Errorf("sweep mail: %w", err)
	}
	for _, id := range sw.Overdue {
		// A fresh message id: the lost message's id may still be taken
		// (dead-lettered, or within duplicate detection).
		s.wakeMailSender(ctx, id, fmt.Sprintf("mail:%s:sweep:%d", id, now.Unix()), time.Time{})
	}
	return fmt.Sprintf("woke the mail sender for %d overdue mails, gave up %d, deleted %d settled", len(sw.Overdue), sw.GaveUp, sw.Purged), nil
}
