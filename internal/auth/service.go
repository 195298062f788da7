package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	mailer "github.com/videofn/videofn/internal/mail"
	"github.com/videofn/videofn/internal/ratelimit"
)

// Limiter checks rate limits (see *ratelimit.Limiter): AllowAll consumes one
// request from every rule if every rule allows it; Peek reads how many
// requests each rule would allow without consuming any; Refund gives back a
// request AllowAll allowed moments ago.
type Limiter interface {
	AllowAll(ctx context.Context, rules ...ratelimit.Rule) (ratelimit.Decision, error)
	Peek(ctx context.Context, rules ...ratelimit.Rule) ([]int, error)
	Refund(ctx context.Context, rules ...ratelimit.Rule) error
}

// HandoffStore keeps one-time codes that turn a finished Google sign-in
// into a session. Take returns the user id once and then forgets the code.
type HandoffStore interface {
	Put(ctx context.Context, codeHash []byte, userID uuid.UUID, ttl time.Duration) error
	Take(ctx context.Context, codeHash []byte) (uuid.UUID, error) // ErrInvalidToken when absent
}

// Service implements every account and session operation.
type Service struct {
	opts    Options
	store   Store
	limiter Limiter
	mail    mailer.Sender
	handoff HandoffStore
	tokens  *Tokens
	logger  *slog.Logger
	now     func() time.Time

	dummyHash func() []byte
	google    *Google      // nil when not configured
	sessions  SessionCache // nil when not enabled
}

// NewService returns a Service. The dummy hash compared for unknown emails
// is computed in the background at the configured cost, so start-up stays
// fast and the first unknown-email login is as slow as any other.
func NewService(opts Options, store Store, limiter Limiter, sender mailer.Sender, handoff HandoffStore, tokens *Tokens, logger *slog.Logger, now func() time.Time) *Service {
	opts.defaults()
	if now == nil {
		now = time.Now
	}
	s := &Service{opts: opts, store: store, limiter: limiter, mail: sender, handoff: handoff, tokens: tokens, logger: logger, now: now}
	s.dummyHash = sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte("dummy password for timing equality"), opts.BcryptCost)
		if err != nil {
			panic(err)
		}
		return h
	})
	go s.dummyHash()
	return s
}

// Tokens returns the access-token issuer and verifier.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Limits applied per route. GCRA: Burst at once, refilled over Period.
var (
	// Login (see Login and README "Accounts and sessions"): every attempt
	// counts per address; only failures count per account.
	limitLoginIP        = ratelimit.PerMinute(20) // every attempt, per address
	limitLoginAccountIP = ratelimit.PerHour(5)    // failures per (account, address)
	// limitLoginAccount applies to addresses that failed on the account.
	limitLoginAccount = ratelimit.Limit{Rate: 10, Burst: 10, Period: 15 * time.Minute}
	// limitLoginAttack applies to every address: past it the account is
	// under a large distributed attack and refused to everyone.
	limitLoginAttack = ratelimit.PerHour(100)

	limitRegisterIP     = ratelimit.PerHour(10)
	limitEmailIP        = ratelimit.PerHour(10) // resend, forgot
	limitEmailAccount   = ratelimit.PerHour(3)
	limitResetIP        = ratelimit.PerHour(20)
	limitSetupIP        = ratelimit.PerMinute(20)
	limitRefreshIP      = ratelimit.PerMinute(120)
	limitPasswordChange = ratelimit.Limit{Rate: 10, Burst: 10, Period: 15 * time.Minute}
)

// limit returns a *ratelimit.LimitError when a rule denies.
func (s *Service) limit(ctx context.Context, rules ...ratelimit.Rule) error {
	return ratelimit.Enforce(ctx, s.limiter, rules...)
}

// NormalizeEmail trims and case-folds an address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validEmail(email string) bool {
	if len(email) > 254 || email == "" {
		return false
	}
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email && a.Name == "" && strings.Contains(email[strings.LastIndexByte(email, '@'):], ".")
}

// checkPassword applies the password rules: 8 to 72 bytes (bcrypt's limit;
// longer input is refused, never truncated), valid UTF-8.
func checkPassword(p string) string {
	switch {
	case len(p) < 8:
		return "must be at least 8 characters"
	case len(p) > 72:
		return "must be at most 72 bytes"
	case !utf8.ValidString(p):
		return "must be valid UTF-8"
	}
	return ""
}

func checkName(n string) string {
	if utf8.RuneCountInString(n) > 100 {
		return "must be at most 100 characters"
	}
	if strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "must not contain control characters"
	}
	return ""
}

func (s *Service) hash(password string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// link builds a frontend URL with a token query parameter.
func (s *Service) link(path string, token string) string {
	u := *s.opts.FrontendURL
	u.Path = path
	if token != "" {
		u.RawQuery = url.Values{"token": {token}}.Encode()
	}
	return u.String()
}

func (s *Service) audit(ctx context.Context, userID *uuid.UUID, event string, success bool, c Client, detail map[string]any) {
	e := Event{UserID: userID, Event: event, Success: success, IP: c.IP, UserAgent: c.UserAgent, Detail: detail}
	if err := s.store.RecordEvent(ctx, e); err != nil {
		// The audit log must not turn a working login into an outage; the
		// event is still in the application log.
		s.logger.Error("audit event not recorded", "event", event, "success", success, "err", err.Error())
	}
}

// notify records a notice for a known account; the request has done its
// work already, so a failure is logged, not returned.
func (s *Service) notify(ctx context.Context, c Client, kind MailKind, u User) {
	if err := s.recordMail(ctx, OutboxMail{Kind: kind, Email: u.Email, UserID: &u.ID, Client: c}); err != nil {
		s.logger.Error("mail not recorded", "kind", string(kind), "user_id", u.ID, "err", err.Error())
	}
}

// Register creates an unverified account and records a verification email,
// or, when the email is taken, an "already registered" email to the owner.
// It answers the same way in both cases; the mails go out through the
// outbox (DeliverMail), never within the request.
func (s *Service) Register(ctx context.Context, c Client, email, password, name string) error {
	email = NormalizeEmail(email)
	name = strings.TrimSpace(name)
	fields := map[string]string{}
	if !validEmail(email) {
		fields["email"] = "must be a valid email address"
	}
	if p := checkPassword(password); p != "" {
		fields["password"] = p
	}
	if p := checkName(name); p != "" {
		fields["name"] = p
	}
	if len(fields) > 0 {
		return &ValidationError{Fields: fields}
	}
	if err := s.limit(ctx, ratelimit.Rule{Name: "register:ip", Subject: c.IP, Limit: limitRegisterIP}); err != nil {
		return err
	}
	// Hash before looking anything up: both paths cost the same.
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(ctx, NewUser{Email: email, Name: name, PasswordHash: hash})
	if errors.Is(err, ErrEmailTaken) {
		existing, err := s.store.UserByEmail(ctx, email)
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
		s.audit(ctx, &existing.ID, "register_existing_email", false, c, nil)
		return s.recordMail(ctx, OutboxMail{Kind: MailAlreadyRegistered, Email: email, UserID: &existing.ID, Client: c})
	}
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	s.audit(ctx, &u.ID, "register", true, c, nil)
	return s.recordMail(ctx, OutboxMail{Kind: MailVerifyEmail, Email: u.Email, UserID: &u.ID, Client: c})
}

// VerifyEmail consumes a verification token and returns the verified user.
func (s *Service) VerifyEmail(ctx context.Context, c Client, token string) (User, error) {
	if !wellFormedToken(token) {
		return User{}, ErrInvalidToken
	}
	u, err := s.store.VerifyEmail(ctx, hashToken(token), s.now())
	if err != nil {
		return User{}, err
	}
	s.audit(ctx, &u.ID, "email_verified", true, c, nil)
	return u, nil
}

// ResendVerification records a verification email for the address,
// whatever it is: the mail sender sends it only if the address belongs to
// an unverified account. The request does the same work, and so takes the
// same time, whether or not the account exists.
func (s *Service) ResendVerification(ctx context.Context, c Client, email string) error {
	email = NormalizeEmail(email)
	if !validEmail(email) {
		return &ValidationError{Fields: map[string]string{"email": "must be a valid email address"}}
	}
	if err := s.limit(ctx,
		ratelimit.Rule{Name: "email:ip", Subject: c.IP, Limit: limitEmailIP},
		ratelimit.Rule{Name: "resend:account", Subject: email, Limit: limitEmailAccount},
	); err != nil {
		return err
	}
	return s.recordMail(ctx, OutboxMail{Kind: MailVerifyEmail, Email: email, Client: c})
}

// ForgotPassword records a reset email for the address, whatever it is: the
// mail sender mints the reset token and sends it only if the account
// exists. The request does the same work, and so takes the same time,
// whether or not the account exists.
func (s *Service) ForgotPassword(ctx context.Context, c Client, email string) error {
	email = NormalizeEmail(email)
	if !validEmail(email) {
		return &ValidationError{Fields: map[string]string{"email": "must be a valid email address"}}
	}
	if err := s.limit(ctx,
		ratelimit.Rule{Name: "email:ip", Subject: c.IP, Limit: limitEmailIP},
		ratelimit.Rule{Name: "forgot:account", Subject: email, Limit: limitEmailAccount},
	); err != nil {
		return err
	}
	return s.recordMail(ctx, OutboxMail{Kind: MailResetPassword, Email: email, Client: c})
}

// ResetPassword sets a new password with a reset token and revokes every
// session of the account.
func (s *Service) ResetPassword(ctx context.Context, c Client, token, password string) error {
	if p := checkPassword(password); p != "" {
		return &ValidationError{Fields: map[string]string{"password": p}}
	}
	if err := s.limit(ctx, ratelimit.Rule{Name: "reset:ip", Subject: c.IP, Limit: limitResetIP}); err != nil {
		return err
	}
	if !wellFormedToken(token) {
		return ErrInvalidToken
	}
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	u, revoked, err := s.store.ResetPassword(ctx, hashToken(token), hash, s.now())
	if err != nil {
		return err
	}
	if err := s.revokeCached(ctx, revoked...); err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	s.audit(ctx, &u.ID, "password_reset", true, c, nil)
	s.notify(ctx, c, MailPasswordChanged, u)
	return nil
}

// ChangePassword checks the current password, sets the new one and revokes
// every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, c Client, claims Claims, current, next string) error {
	if p := checkPassword(next); p != "" {
		return &ValidationError{Fields: map[string]string{"new_password": p}}
	}
	if err := s.limit(ctx, ratelimit.Rule{Name: "password_change:user", Subject: claims.UserID.String(), Limit: limitPasswordChange}); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, claims.UserID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if u.PasswordHash == nil || bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(current)) != nil {
		s.audit(ctx, &u.ID, "password_change", false, c, map[string]any{"reason": "wrong_current_password"})
		return &ValidationError{Fields: map[string]string{"current_password": "is not correct"}}
	}
	hash, err := s.hash(next)
	if err != nil {
		return err
	}
	revoked, err := s.store.ChangePassword(ctx, u.ID, hash, claims.SessionID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.revokeCached(ctx, revoked...); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	s.audit(ctx, &u.ID, "password_change", true, c, nil)
	s.notify(ctx, c, MailPasswordChanged, u)
	return nil
}

// Login checks the credentials and starts a session. Rate limits are
// checked before bcrypt runs (see loginLimits); an unknown email, a
// Google-only account and a wrong password all cost one bcrypt comparison
// and return ErrInvalidCredentials. An unverified email is reported only
// after the password matched.
func (s *Service) Login(ctx context.Context, c Client, email, password string) (SessionResult, error) {
	email = NormalizeEmail(email)
	if email == "" || password == "" {
		return SessionResult{}, &ValidationError{Fields: map[string]string{"email": "is required", "password": "is required"}}
	}
	charge, err := s.loginLimits(ctx, c, email)
	if err != nil {
		return SessionResult{}, err
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return SessionResult{}, fmt.Errorf("login: %w", err)
	}
	hash := u.PasswordHash
	if err != nil || hash == nil {
		hash = s.dummyHash()
	}
	match := len(password) <= 72 && bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if err != nil || u.PasswordHash == nil || !match {
		s.loginFailed(ctx, charge)
		var uid *uuid.UUID
		if err == nil {
			uid = &u.ID
		}
		s.audit(ctx, uid, "login", false, c, map[string]any{"reason": "invalid_credentials"})
		return SessionResult{}, ErrInvalidCredentials
	}
	s.loginMatched(ctx, charge)
	if !u.EmailVerified {
		s.audit(ctx, &u.ID, "login", false, c, map[string]any{"reason": "email_not_verified"})
		return SessionResult{}, ErrEmailNotVerified
	}
	if cost, _ := bcrypt.Cost(u.PasswordHash); cost != s.opts.BcryptCost {
		if h, err := s.hash(password); err == nil {
			if err := s.store.UpdatePasswordHash(ctx, u.ID, h); err != nil {
				s.logger.Warn("password rehash failed", "err", err.Error())
			}
		}
	}
	res, err := s.startSession(ctx, c, u)
	if err != nil {
		return SessionResult{}, err
	}
	s.audit(ctx, &u.ID, "login", true, c, map[string]any{"session_id": res.SessionID})
	return res, nil
}

// loginCharge is what loginLimits counted for one attempt: the failure rules
// charged before the password was checked, and those to charge only if it
// was wrong.
type loginCharge struct {
	charged, onFailure []ratelimit.Rule
}

// loginLimits applies the login limits before the password is checked:
//
//   - every attempt counts against its address (limitLoginIP);
//   - failures count per (account, address) (limitLoginAccountIP), per
//     account (limitLoginAccount) and per account again with a much larger
//     allowance (limitLoginAttack).
//
// An address with no failures on the account (a clean one) is refused only
// by its own per-address limit or by limitLoginAttack; an address that
// failed is also refused by limitLoginAccountIP and limitLoginAccount. So
// failures spread over many addresses do not lock the owner out of a clean
// address until they pass limitLoginAttack.
//
// The attempt is charged as a failure in advance, all or nothing with the
// per-address attempt, so attempts sent at once cannot pass the limits;
// loginMatched refunds it when the password matched, loginFailed adds what
// is only counted afterwards. It returns a *ratelimit.LimitError when a
// limit refuses the attempt.
func (s *Service) loginLimits(ctx context.Context, c Client, email string) (loginCharge, error) {
	accountIP := ratelimit.Rule{Name: "login:account-ip", Subject: c.IP + " " + email, Limit: limitLoginAccountIP} // an IP has no space
	account := ratelimit.Rule{Name: "login:account", Subject: email, Limit: limitLoginAccount}
	attack := ratelimit.Rule{Name: "login:account-all", Subject: email, Limit: limitLoginAttack}
	left, err := s.limiter.Peek(ctx, accountIP)
	if err != nil {
		return loginCharge{}, fmt.Errorf("login limits: %w", err)
	}
	lc := loginCharge{charged: []ratelimit.Rule{accountIP, attack}}
	if left[0] == limitLoginAccountIP.Burst {
		lc.onFailure = []ratelimit.Rule{account}
	} else {
		lc.charged = append(lc.charged, account)
	}
	rules := append([]ratelimit.Rule{{Name: "login:ip", Subject: c.IP, Limit: limitLoginIP}}, lc.charged...)
	if err := s.limit(ctx, rules...); err != nil {
		return loginCharge{}, err
	}
	return lc, nil
}

// loginFailed counts the failure against the rules that loginLimits left to
// afterwards. Such a rule may be full already (it did not apply to this
// address); it then stays full.
func (s *Service) loginFailed(ctx context.Context, lc loginCharge) {
	if len(lc.onFailure) == 0 {
		return
	}
	if _, err := s.limiter.AllowAll(ctx, lc.onFailure...); err != nil {
		s.logger.Warn("login failure not counted", "err", err.Error())
	}
}

// loginMatched gives back the failure loginLimits charged in advance.
func (s *Service) loginMatched(ctx context.Context, lc loginCharge) {
	if err := s.limiter.Refund(ctx, lc.charged...); err != nil {
		s.logger.Warn("login failure charge not refunded", "err", err.Error())
	}
}

func (s *Service) startSession(ctx context.Context, c Client, u User) (SessionResult, error) {
	now := s.now()
	plain, hash := opaqueToken()
	sid, err := s.store.CreateSession(ctx, NewSession{
		UserID: u.ID, CreatedAt: now, IP: c.IP, UserAgent: c.UserAgent,
		IdleExpiresAt:     now.Add(min(s.opts.SessionIdle, s.opts.SessionAbsolute)),
		AbsoluteExpiresAt: now.Add(s.opts.SessionAbsolute),
	}, hash)
	if err != nil {
		return SessionResult{}, fmt.Errorf("create session: %w", err)
	}
	access, err := s.tokens.Issue(u.ID, sid)
	if err != nil {
		return SessionResult{}, err
	}
	s.rememberSession(ctx, u.ID, sid, now.Add(min(s.opts.SessionIdle, s.opts.SessionAbsolute)))
	return SessionResult{
		AccessToken: access, ExpiresIn: s.tokens.TTL(), RefreshToken: plain,
		CSRFToken: s.tokens.CSRF(SessionBinding(sid)), SessionID: sid, User: u,
	}, nil
}

// checkSessionCSRF returns the session of a refresh token after checking
// that csrfToken was minted for that session: ErrNotFound for an unknown
// token, ErrCSRF for a CSRF token of another session or none.
func (s *Service) checkSessionCSRF(ctx context.Context, refreshToken, csrfToken string) (uuid.UUID, error) {
	sid, err := s.store.SessionOfRefreshToken(ctx, hashToken(refreshToken))
	if err != nil {
		return uuid.Nil, err
	}
	if !s.tokens.VerifyCSRF(SessionBinding(sid), csrfToken) {
		return uuid.Nil, ErrCSRF
	}
	return sid, nil
}

// Refresh rotates a refresh token and issues a new access token (see
// RotationOutcome for the rules). The response carries a refresh token
// whenever the browser may not hold the current one: after a rotation, and
// for the direct predecessor of the current token within the grace window
// (another tab that sent the same cookie, or a retry of a refresh whose
// response was lost), which gets the current token again. A current token
// younger than twice the grace window is not rotated (RefreshToken is
// empty): responses carrying it may still be on their way, and the cookie
// they set must stay current. Any other rotated token revokes the session
// and is audited.
//
// Everything that can fail (the user's row included) is done in the
// rotating transaction or before it; only signing the access token follows
// its commit. If the response is lost all the same, the browser's cookie is
// the direct predecessor, honoured for the grace window.
//
// csrfToken must have been minted for the token's session (ErrCSRF
// otherwise, before anything changes); an unknown token is
// ErrInvalidSession.
func (s *Service) Refresh(ctx context.Context, c Client, refreshToken, csrfToken string) (SessionResult, error) {
	if err := s.limit(ctx, ratelimit.Rule{Name: "refresh:ip", Subject: c.IP, Limit: limitRefreshIP}); err != nil {
		return SessionResult{}, err
	}
	if !wellFormedToken(refreshToken) {
		return SessionResult{}, ErrInvalidSession
	}
	_, err := s.checkSessionCSRF(ctx, refreshToken, csrfToken)
	if errors.Is(err, ErrNotFound) {
		return SessionResult{}, ErrInvalidSession
	}
	if err != nil {
		return SessionResult{}, fmt.Errorf("refresh: %w", err)
	}
	next := s.tokens.Successor(refreshToken)
	nextHash := hashToken(next)
	rot, err := s.store.RotateRefreshToken(ctx, hashToken(refreshToken), nextHash, s.now(), RotationRules{
		Idle: s.opts.SessionIdle, Grace: s.opts.RefreshGrace, Hold: 2 * s.opts.RefreshGrace,
	})
	if err != nil {
		return SessionResult{}, fmt.Errorf("refresh: %w", err)
	}
	switch rot.Outcome {
	case Reused:
		s.audit(ctx, &rot.UserID, "refresh_token_reuse", false, c, map[string]any{"session_id": rot.SessionID})
		s.logger.Warn("refresh token reuse: session revoked", "user_id", rot.UserID, "session_id", rot.SessionID, "ip", c.IP)
		if err := s.revokeCached(ctx, rot.SessionID); err != nil {
			return SessionResult{}, fmt.Errorf("refresh: %w", err)
		}
		return SessionResult{}, ErrInvalidSession
	case Invalid:
		// A revoked or expired session: write the revocation again, in
		// case the one that revoked it could not (a reused token's, whose
		// request failed). Best effort: the answer is the same either way.
		if rot.SessionID != uuid.Nil {
			if err := s.revokeCached(ctx, rot.SessionID); err != nil {
				s.logger.Warn("revocation of an ended session not cached", "session_id", rot.SessionID, "err", err.Error())
			}
		}
		return SessionResult{}, ErrInvalidSession
	case Kept:
		next = ""
	case WithinGrace:
		// The current token is this token's successor, unless it was
		// rotated by a version that drew successors at random: then the
		// browser keeps what another response gives it.
		// A token rotated before a key rotation has its successor under
		// the previous key: give the browser that one.
		if !bytes.Equal(rot.Successor, nextHash) {
			next = ""
			for _, prev := range s.tokens.previousSuccessors(refreshToken) {
				if bytes.Equal(rot.Successor, hashToken(prev)) {
					next = prev
				}
			}
		}
	}
	access, err := s.tokens.Issue(rot.User.ID, rot.SessionID)
	if err != nil {
		return SessionResult{}, err
	}
	s.rememberSession(ctx, rot.User.ID, rot.SessionID, rot.Until)
	return SessionResult{AccessToken: access, ExpiresIn: s.tokens.TTL(), RefreshToken: next, SessionID: rot.SessionID, User: rot.User}, nil
}

// Logout revokes the session of a refresh token, when csrfToken was minted
// for that session (ErrCSRF otherwise, and nothing changes). Unknown or
// missing tokens are not an error: logging out is idempotent.
func (s *Service) Logout(ctx context.Context, c Client, refreshToken, csrfToken string) error {
	if !wellFormedToken(refreshToken) {
		return nil
	}
	_, err := s.checkSessionCSRF(ctx, refreshToken, csrfToken)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	uid, sid, err := s.store.RevokeSessionByRefreshToken(ctx, hashToken(refreshToken), RevokedLogout)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if err := s.revokeCached(ctx, sid); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.audit(ctx, &uid, "logout", true, c, map[string]any{"session_id": sid})
	return nil
}

// LogoutAll revokes every session of the user.
func (s *Service) LogoutAll(ctx context.Context, c Client, claims Claims) error {
	ids, n, err := s.store.RevokeUserSessions(ctx, claims.UserID, RevokedLogoutAll)
	if err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	if err := s.revokeCached(ctx, ids...); err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	s.audit(ctx, &claims.UserID, "logout_all", true, c, map[string]any{"sessions": n})
	return nil
}

// Me returns the user of the claims.
func (s *Service) Me(ctx context.Context, claims Claims) (User, error) {
	return s.store.UserByID(ctx, claims.UserID)
}

// UpdateMe changes the user's profile.
func (s *Service) UpdateMe(ctx context.Context, claims Claims, name *string) (User, error) {
	if name == nil {
		return s.store.UserByID(ctx, claims.UserID)
	}
	n := strings.TrimSpace(*name)
	if p := checkName(n); p != "" {
		return User{}, &ValidationError{Fields: map[string]string{"name": p}}
	}
	return s.store.UpdateName(ctx, claims.UserID, n)
}

// SetupSession exchanges a one-time hand-off code from Google sign-in for a
// session. The code works once. No session exists yet, so the CSRF token
// must be the one minted with the pre-session nonce the callback gave this
// browser (see PreSession); ErrCSRF otherwise, and the code is not spent.
func (s *Service) SetupSession(ctx context.Context, c Client, code, nonce, csrfToken string) (SessionResult, error) {
	if err := s.limit(ctx, ratelimit.Rule{Name: "setup:ip", Subject: c.IP, Limit: limitSetupIP}); err != nil {
		return SessionResult{}, err
	}
	if !s.tokens.VerifyCSRF(PreSessionBinding(nonce), csrfToken) {
		return SessionResult{}, ErrCSRF
	}
	if !wellFormedToken(code) {
		return SessionResult{}, ErrInvalidToken
	}
	uid, err := s.handoff.Take(ctx, hashToken(code))
	if err != nil {
		return SessionResult{}, err
	}
	u, err := s.store.UserByID(ctx, uid)
	if err != nil {
		return SessionResult{}, fmt.Errorf("setup session: %w", err)
	}
	res, err := s.startSession(ctx, c, u)
	if err != nil {
		return SessionResult{}, err
	}
	s.audit(ctx, &u.ID, "login", true, c, map[string]any{"method": "google", "session_id": res.SessionID})
	return res, nil
}
