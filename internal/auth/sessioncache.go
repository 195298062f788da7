package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// SessionCache keeps a copy of which sessions are live, so that
// authenticating a request needs no PostgreSQL round trip (Redis; see
// redisstore.Sessions). PostgreSQL stays the truth:
//
//   - an entry that says live is written only after PostgreSQL said so, and
//     lasts at most as long as an access token (AccessTTL), so even a
//     revocation the cache never heard of ends within that time;
//   - every revocation is written to the cache after PostgreSQL commits it
//     and before the request that revoked it answers; a request whose
//     revocation the cache refused fails (ErrRevocationNotCached) instead
//     of claiming success;
//   - a revocation wins: once it is written, Remember cannot make the
//     session live again (a check that read PostgreSQL before the revocation
//     and writes after it changes nothing), and it lasts longer than any
//     access token of the session issued before it.
//
// A cache that cannot be read is no answer: PostgreSQL is asked instead.
type SessionCache interface {
	// Lookup returns what the cache knows of the session (Found false when
	// nothing).
	Lookup(ctx context.Context, sessionID uuid.UUID) (CachedSession, error)
	// Remember records that the session is live until c.Until, for ttl,
	// unless a revocation of it is recorded.
	Remember(ctx context.Context, c CachedSession, ttl time.Duration) error
	// Revoke records that the sessions are revoked, for ttl.
	Revoke(ctx context.Context, ttl time.Duration, sessionIDs ...uuid.UUID) error
}

// CachedSession is what a SessionCache knows of one session.
type CachedSession struct {
	Found     bool // the cache has an entry: live (Until) or Revoked
	Revoked   bool
	SessionID uuid.UUID
	UserID    uuid.UUID
	Until     time.Time // the session's expiry when last seen live
}

// EnableSessionCache makes Authenticate read sessions from c before
// PostgreSQL, and every revocation write to it. Without it, every
// authenticated request reads PostgreSQL.
func (s *Service) EnableSessionCache(c SessionCache) { s.sessions = c }

// revocationTTL is how long a revocation stays in the cache: longer than
// any access token of the session, all issued before it, can be used.
func (s *Service) revocationTTL() time.Duration { return s.tokens.TTL() + time.Minute }

// VerifyToken checks an access token's signature and expiry only; the
// session must then be checked with CheckSession. Authenticate does both.
func (s *Service) VerifyToken(token string) (Claims, error) { return s.tokens.Verify(token) }

// Authenticate verifies an access token and checks that its session is
// still live, so logout and password changes take effect at once, and is a
// session of the token's user: a token naming another user's session is
// ErrInvalidSession, whoever signed it.
func (s *Service) Authenticate(ctx context.Context, token string) (Claims, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return Claims{}, err
	}
	var cached CachedSession
	var lookupErr error
	if s.sessions != nil {
		cached, lookupErr = s.sessions.Lookup(ctx, claims.SessionID)
	}
	return s.CheckSession(ctx, claims, cached, lookupErr)
}

// CheckSession finishes Authenticate for claims from VerifyToken, given
// what the session cache answered (read by the caller, maybe together with
// other reads). A live entry of the claims' user answers; a revoked one or
// one of another user is ErrInvalidSession; no entry, an expired one or a
// failed read (lookupErr) asks PostgreSQL, and a live answer is remembered
// (unless the read failed: the cache is likely down).
func (s *Service) CheckSession(ctx context.Context, claims Claims, cached CachedSession, lookupErr error) (Claims, error) {
	now := s.now()
	if lookupErr == nil && cached.Found {
		switch {
		case cached.Revoked, cached.UserID != claims.UserID:
			return Claims{}, ErrInvalidSession
		case now.Before(cached.Until):
			return claims, nil
		}
	}
	if lookupErr != nil {
		s.logger.Warn("session cache not read; asking PostgreSQL", "err", lookupErr.Error())
	}
	until, ok, err := s.store.SessionActive(ctx, claims.UserID, claims.SessionID, now)
	if err != nil {
		return Claims{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return Claims{}, ErrInvalidSession
	}
	if lookupErr == nil {
		s.rememberSession(ctx, claims.UserID, claims.SessionID, until)
	}
	return claims, nil
}

// rememberSession records a session PostgreSQL has just called live until
// until. A failure only costs later requests a PostgreSQL read, so it is
// logged, not returned.
func (s *Service) rememberSession(ctx context.Context, userID, sessionID uuid.UUID, until time.Time) {
	if s.sessions == nil {
		return
	}
	ttl := min(until.Sub(s.now()), s.tokens.TTL())
	if ttl <= 0 {
		return
	}
	c := CachedSession{Found: true, SessionID: sessionID, UserID: userID, Until: until}
	if err := s.sessions.Remember(ctx, c, ttl); err != nil {
		s.logger.Warn("session not cached", "session_id", sessionID, "err", err.Error())
	}
}

// ErrRevocationNotCached is a revocation PostgreSQL committed and the
// session cache refused: the request that revoked must fail (the API
// answers 503, try again).
var ErrRevocationNotCached = errors.New("revocation not written to the session cache")

// revokeCached writes revocations PostgreSQL has committed to the cache.
// Its error (ErrRevocationNotCached) must fail the request: the sessions
// are revoked, but a cached copy may still call them live for up to
// AccessTTL. Retrying the logout (or logout everywhere) writes them again.
func (s *Service) revokeCached(ctx context.Context, sessionIDs ...uuid.UUID) error {
	if s.sessions == nil || len(sessionIDs) == 0 {
		return nil
	}
	if err := s.sessions.Revoke(ctx, s.revocationTTL(), sessionIDs...); err != nil {
		return fmt.Errorf("%w: %w", ErrRevocationNotCached, err)
	}
	return nil
}
