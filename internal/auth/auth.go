// Package auth owns accounts and sessions: registration with a verified
// email, password login, rotating refresh tokens, password change and reset,
// Google sign-in, and the audit log of all of it.
//
// Security properties the package guarantees (and its tests check):
//   - passwords are bcrypt hashes of 8 to 72 bytes (longer input is refused,
//     never truncated); an unknown email and a wrong password are answered
//     alike and take the same time (a dummy hash is compared);
//   - every rate limit is checked before bcrypt runs;
//   - verification, reset, refresh and hand-off tokens are 256-bit random
//     values stored only as SHA-256 hashes; verification and reset tokens are
//     single-use, purpose-bound and tied to the address they were sent to;
//   - refresh tokens rotate on use (a token younger than twice the grace
//     window is kept); presenting a rotated token revokes the whole session,
//     except for the direct predecessor of the current token within the
//     grace window (two tabs refreshing at once, a retry after a lost
//     response), which gets the current token again;
//   - access tokens are HS256 JWTs with a pinned algorithm, typ, issuer,
//     audience and expiry, and are honoured only while their session (sid)
//     is live and belongs to their user (sub);
//   - CSRF tokens are signed and bound to one session, or before a session
//     exists to one pre-session nonce (see CSRFBinding);
//   - no mail is sent within a request: requests record it in the outbox and
//     a worker sends it (DeliverMail); forgot-password and resend-verification
//     record one for every address, so they do the same work whether or not
//     the account exists, and an outbox row never holds a token.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/queue"
)

// Errors returned by the Service. Handlers map them to statuses.
var (
	ErrInvalidCredentials = errors.New("invalid email or password")
	ErrEmailNotVerified   = errors.New("email address not verified")
	// ErrInvalidToken covers unknown, expired, used and wrong-purpose tokens
	// alike, so that a caller learns nothing about which.
	ErrInvalidToken = errors.New("invalid or expired token")
	// ErrInvalidSession is returned for a refresh token or access token whose
	// session is unknown, expired or revoked.
	ErrInvalidSession = errors.New("session expired or revoked")
	ErrOAuthDisabled  = errors.New("google sign-in is not configured")
	// ErrCSRF is returned when a CSRF token was not minted for the session
	// (or pre-session nonce) of the request. Nothing has changed.
	ErrCSRF = errors.New("csrf token not bound to this session")

	// ErrNotFound and ErrEmailTaken are returned by a Store.
	ErrNotFound   = errors.New("not found")
	ErrEmailTaken = errors.New("email already registered")
)

// ValidationError lists invalid fields by JSON name.
type ValidationError struct{ Fields map[string]string }

func (e *ValidationError) Error() string { return fmt.Sprintf("invalid fields: %v", e.Fields) }

// User is an account. PasswordHash is nil for accounts that only sign in
// with Google; it never leaves this package's callers in a response.
type User struct {
	ID            uuid.UUID
	Email         string
	Name          string
	EmailVerified bool
	CreatedAt     time.Time
	PasswordHash  []byte
}

// Client identifies who sent a request, for rate limits and the audit log.
type Client struct {
	IP        string
	UserAgent string
}

// SessionResult is what a successful login, refresh or hand-off yields.
// RefreshToken is empty when the refresh cookie must be left as it is (a
// current token younger than the hold, see RotationOutcome). CSRFToken, bound to the
// session, is set only when a session starts: a session keeps one CSRF
// token for its whole life, so a refresh in one tab never invalidates the
// token another tab has read.
type SessionResult struct {
	AccessToken  string
	ExpiresIn    time.Duration
	RefreshToken string
	CSRFToken    string
	SessionID    uuid.UUID
	User         User
}

// Token purposes, as stored in auth_tokens.purpose.
const (
	PurposeEmailVerification = "email_verification"
	PurposePasswordReset     = "password_reset"
)

// Session revocation reasons, as stored in sessions.revoked_reason.
const (
	RevokedLogout         = "logout"
	RevokedLogoutAll      = "logout_all"
	RevokedPasswordChange = "password_change"
	RevokedPasswordReset  = "password_reset"
	RevokedReuse          = "refresh_token_reuse"
	// RevokedIdentityLinked: a Google identity was linked to an account
	// whose email had not been verified (see Store.LinkIdentity).
	RevokedIdentityLinked = "identity_linked"
)

// Event is one entry of the audit log.
type Event struct {
	UserID    *uuid.UUID
	Event     string // e.g. "login", "refresh_token_reuse", "oauth_link"
	Success   bool
	IP        string
	UserAgent string
	Detail    map[string]any
}

// NewUser is a user to create.
type NewUser struct {
	Email         string
	Name          string
	PasswordHash  []byte // nil for Google-only accounts
	EmailVerified bool
}

// AuthToken is a single-use token to create, stored by hash.
type AuthToken struct {
	UserID    uuid.UUID
	Purpose   string
	Hash      []byte
	Email     string
	ExpiresAt time.Time
}

// NewSession is a session to create with its first refresh token.
type NewSession struct {
	UserID            uuid.UUID
	CreatedAt         time.Time // also when its first refresh token was issued
	IP                string
	UserAgent         string
	IdleExpiresAt     time.Time
	AbsoluteExpiresAt time.Time
}

// RotationOutcome says what happened to a presented refresh token.
//
// A session's refresh tokens form a chain: each rotation stores the
// successor of the presented token (Tokens.Successor, so anyone presenting
// the same token gets the same successor) and marks the presented one
// rotated. The rules (README "Accounts and sessions" has the table of
// interleavings they are built for):
//   - the current token rotates, unless it is younger than
//     RotationRules.Hold: then it is Kept;
//   - the direct predecessor of the current token, presented within
//     RotationRules.Grace of its rotation, is WithinGrace: its successor, the
//     current token, is issued again;
//   - any other rotated token is Reused.
type RotationOutcome int

const (
	// Rotated: the token was current; it is now rotated and its successor
	// is current.
	Rotated RotationOutcome = iota + 1
	// WithinGrace: the token was rotated at most Grace ago and its direct
	// successor (Rotation.Successor) is the session's current token: a
	// concurrent refresh from another tab, or a retry of a refresh whose
	// response was lost. Nothing changed.
	WithinGrace
	// Kept: the token is current but younger than Hold, so it was not
	// rotated (responses carrying it may still be on their way to the
	// browser); the session's idle expiry moved forward.
	Kept
	// Reused: the token was rotated more than Grace ago, or its successor
	// has itself been rotated (the token is two or more rotations old); the
	// session has been revoked.
	Reused
	// Invalid: unknown token, or its session expired or was revoked.
	Invalid
)

// RotationRules are the durations Store.RotateRefreshToken applies.
type RotationRules struct {
	Idle  time.Duration // a session's idle lifetime, extended by each refresh
	Grace time.Duration // how long a rotated token's direct successor is issued again
	// Hold: how long a new token stays current before it may rotate. At
	// least Grace, so that every response issuing a token has reached the
	// browser (given a round trip shorter than Grace) before it rotates.
	Hold time.Duration
}

// Rotation is the result of Store.RotateRefreshToken.
type Rotation struct {
	Outcome   RotationOutcome
	UserID    uuid.UUID
	SessionID uuid.UUID
	// User is the session's user, read in the rotating transaction (for
	// Rotated, WithinGrace and Kept), so nothing that can fail is left to
	// do once the rotation has committed.
	User User
	// Successor is the hash of the presented token's successor, for
	// WithinGrace.
	Successor []byte
	// Until is the session's expiry after the rotation (its idle expiry,
	// extended, capped by the absolute one), for Rotated, WithinGrace and
	// Kept.
	Until time.Time
}

// Identity is an external sign-in identity.
type Identity struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
}

// Store is the persistence the Service needs. Methods that change several
// rows do so atomically.
type Store interface {
	CreateUser(ctx context.Context, u NewUser) (User, error) // ErrEmailTaken
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id uuid.UUID) (User, error)
	UpdateName(ctx context.Context, id uuid.UUID, name string) (User, error)
	UpdatePasswordHash(ctx context.Context, id uuid.UUID, hash []byte) error

	// CreateAuthToken stores a token and consumes the user's earlier
	// unconsumed tokens of the same purpose, so only the newest works, also
	// when several are created at once.
	CreateAuthToken(ctx context.Context, t AuthToken) error
	// VerifyEmail consumes an unexpired email-verification token and marks
	// the user's email verified if it is still the address the token was
	// sent to. ErrInvalidToken otherwise.
	VerifyEmail(ctx context.Context, tokenHash []byte, now time.Time) (User, error)
	// ResetPassword consumes an unexpired reset token sent to the user's
	// current address, sets the password, marks the email verified and
	// revokes every session. ErrInvalidToken otherwise.
	//
	// Methods that revoke sessions of a user return the ids of every
	// revoked session that has not expired (also those revoked before), for
	// the session cache.
	ResetPassword(ctx context.Context, tokenHash, passwordHash []byte, now time.Time) (User, []uuid.UUID, error)
	// ChangePassword sets the password and revokes every other session.
	ChangePassword(ctx context.Context, userID uuid.UUID, passwordHash []byte, keep uuid.UUID) ([]uuid.UUID, error)

	CreateSession(ctx context.Context, s NewSession, refreshHash []byte) (uuid.UUID, error)
	// RotateRefreshToken replaces the current token oldHash by newHash,
	// serialised per session, extending the idle expiry (capped by the
	// absolute one), and reads the session's user in the same transaction;
	// see RotationOutcome.
	RotateRefreshToken(ctx context.Context, oldHash, newHash []byte, now time.Time, rules RotationRules) (Rotation, error)
	// SessionActive reports whether a session of the user exists, is not
	// revoked and has not expired at now, and until when it lasts unless
	// used (its idle expiry, capped by the absolute one). Another user's
	// session is not active for userID.
	SessionActive(ctx context.Context, userID, sessionID uuid.UUID, now time.Time) (until time.Time, ok bool, err error)
	// SessionOfRefreshToken returns the session a refresh token (any of its
	// tokens, rotated or not, whatever the session's state) belongs to.
	// ErrNotFound when there is none.
	SessionOfRefreshToken(ctx context.Context, hash []byte) (uuid.UUID, error)
	// RevokeSessionByRefreshToken revokes the session a refresh token (any
	// of its tokens) belongs to. ErrNotFound when there is none.
	RevokeSessionByRefreshToken(ctx context.Context, hash []byte, reason string) (userID, sessionID uuid.UUID, err error)
	// RevokeUserSessions revokes every session of the user; n counts those
	// this call revoked.
	RevokeUserSessions(ctx context.Context, userID uuid.UUID, reason string) (ids []uuid.UUID, n int64, err error)

	UserByIdentity(ctx context.Context, provider, subject string) (User, error)
	// LinkIdentity attaches id to an existing user. When the user's email
	// was not verified, the password (set by someone who never proved they
	// own the address) is removed, every session revoked, and the email
	// marked verified: the provider has just verified it.
	LinkIdentity(ctx context.Context, userID uuid.UUID, id Identity) (User, []uuid.UUID, error)
	CreateUserWithIdentity(ctx context.Context, u NewUser, id Identity) (User, error) // ErrEmailTaken

	RecordEvent(ctx context.Context, e Event) error

	MailOutbox
}

// Options configure the Service. Zero durations take the defaults.
type Options struct {
	BcryptCost      int
	FrontendURL     *url.URL
	AccessTTL       time.Duration // default 15 min
	SessionIdle     time.Duration // default 7 days
	SessionAbsolute time.Duration // default 30 days
	RefreshGrace    time.Duration // default 10 s
	VerifyTTL       time.Duration // default 24 h
	ResetTTL        time.Duration // default 1 h
	HandoffTTL      time.Duration // default 60 s
	AppName         string

	// MailQueue wakes the mail sender (DeliverMail) for each recorded mail,
	// on the queue named MailQueueName (MAIL_QUEUE). Without it, recorded
	// mails wait for SweepMail.
	MailQueue     queue.Sender
	MailQueueName string                          // default "mail"
	MailAttempts  int                             // attempts per mail before it fails; default 10
	MailRetry     func(attempt int) time.Duration // wait after failed attempt n; default 30 s doubling up to 30 min
}

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&o.AccessTTL, 15*time.Minute)
	set(&o.SessionIdle, 7*24*time.Hour)
	set(&o.SessionAbsolute, 30*24*time.Hour)
	set(&o.RefreshGrace, 10*time.Second)
	set(&o.VerifyTTL, 24*time.Hour)
	set(&o.ResetTTL, time.Hour)
	set(&o.HandoffTTL, 60*time.Second)
	if o.AppName == "" {
		o.AppName = "videofn"
	}
	if o.MailQueueName == "" {
		o.MailQueueName = "mail"
	}
	if o.MailAttempts <= 0 {
		o.MailAttempts = 10
	}
	if o.MailRetry == nil {
		o.MailRetry = defaultMailRetry
	}
}
