package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Token issuer and audience of access tokens.
const (
	Issuer   = "videofn"
	Audience = "videofn-api"
	// accessTokenType is the JWT "typ" header of access tokens (RFC 9068).
	// Verification requires it, so no other JWT signed with the same key
	// family can pass for an access token.
	accessTokenType = "at+jwt"
	// leeway tolerates clock skew between instances.
	leeway = 30 * time.Second
)

// deriveKey returns a key for one purpose from the configured secret, so
// that a value signed for one purpose (an access token, an OAuth state
// cookie) can never verify as another.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("videofn/" + purpose + "/v1"))
	return m.Sum(nil)
}

// Claims are what a verified access token says.
type Claims struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	ExpiresAt time.Time
	TokenID   string
}

type accessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// Tokens issues and verifies access tokens (HS256 JWTs with iss, aud, sub,
// sid, iat, exp and jti) and CSRF tokens (csrf.go), each under its own key
// derived from the secret.
//
// During a key rotation (NewRotatingTokens) everything is signed under the
// current secret and verified under the current or the previous one, so
// that access tokens, CSRF tokens and refresh-token successors issued before
// the rotation stay valid until they expire.
type Tokens struct {
	keys keySet   // the current secret's keys: everything is signed with them
	old  []keySet // the previous secret's, accepted for verification only
	ttl  time.Duration
	now  func() time.Time

	// verified remembers the claims of access tokens Verify accepted, so a
	// token presented again (a tab polls every second) costs a map lookup,
	// not a JSON parse and an HMAC. Only verified tokens enter it, and a
	// hit is still checked for expiry. The keys cannot change under it:
	// they are fixed for the life of a Tokens.
	verified *lru.Cache[string, Claims]
}

// verifiedTokens is how many verified access tokens a Tokens remembers
// (about 1.5 MB at most).
const verifiedTokens = 4096

// keySet is the keys derived from one secret.
type keySet struct {
	kid     string // the access tokens' "kid" header: names the secret without revealing it
	key     []byte // access tokens
	csrfKey []byte // CSRF tokens (csrf.go)
	nextKey []byte // refresh-token successors (Successor)
}

func newKeySet(secret []byte) keySet {
	return keySet{
		kid:     base64.RawURLEncoding.EncodeToString(deriveKey(secret, "key-id")[:9]),
		key:     deriveKey(secret, "access-token"),
		csrfKey: deriveKey(secret, "csrf-token"),
		nextKey: deriveKey(secret, "refresh-successor"),
	}
}

// all returns the current keys first, then the previous ones.
func (t *Tokens) all() []keySet { return append([]keySet{t.keys}, t.old...) }

// NewTokens returns Tokens keyed from secret (at least 32 bytes) whose
// access tokens live for ttl.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	return NewRotatingTokens(secret, nil, ttl, now)
}

// NewRotatingTokens is NewTokens that also accepts, for verification only,
// what was signed under previous (JWT_SECRET_PREVIOUS; nil or empty: none).
func NewRotatingTokens(secret, previous []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, errors.New("auth: the token secret must be at least 32 bytes")
	}
	if len(previous) > 0 && len(previous) < 32 {
		return nil, errors.New("auth: the previous token secret must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	verified, err := lru.New[string, Claims](verifiedTokens)
	if err != nil {
		return nil, fmt.Errorf("auth: token cache: %w", err)
	}
	t := &Tokens{keys: newKeySet(secret), ttl: ttl, now: now, verified: verified}
	if len(previous) > 0 && !hmac.Equal(previous, secret) {
		t.old = []keySet{newKeySet(previous)}
	}
	return t, nil
}

// KeyID returns the "kid" header of the access tokens Issue signs.
func (t *Tokens) KeyID() string { return t.keys.kid }

// TTL returns the lifetime of access tokens.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue returns a signed access token for the user's session.
func (t *Tokens) Issue(userID, sessionID uuid.UUID) (string, error) {
	now := t.now()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			Subject:   userID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		SessionID: sessionID.String(),
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = accessTokenType
	tok.Header["kid"] = t.keys.kid
	s, err := tok.SignedString(t.keys.key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// Verify checks an access token: algorithm pinned to HS256, signature, typ
// header, issuer, audience, exp required (with a 30 s leeway), iat not in
// the future, and well-formed sub and sid. Any failure is ErrInvalidToken.
func (t *Tokens) Verify(token string) (Claims, error) {
	if c, ok := t.verified.Get(token); ok {
		if t.now().Before(c.ExpiresAt.Add(leeway)) {
			return c, nil
		}
		t.verified.Remove(token)
		return Claims{}, ErrInvalidToken
	}
	var c accessClaims
	parsed, err := jwt.ParseWithClaims(token, &c,
		func(tok *jwt.Token) (any, error) {
			if typ, _ := tok.Header["typ"].(string); typ != accessTokenType {
				return nil, errors.New("not an access token")
			}
			// The kid picks the key; a token without one (issued before
			// key ids) is tried under every key.
			kid, hasKid := tok.Header["kid"].(string)
			var keys jwt.VerificationKeySet
			for _, k := range t.all() {
				if !hasKid || kid == k.kid {
					keys.Keys = append(keys.Keys, k.key)
				}
			}
			if len(keys.Keys) == 0 {
				return nil, errors.New("unknown key id")
			}
			return keys, nil
		},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || !parsed.Valid {
		return Claims{}, ErrInvalidToken
	}
	userID, err1 := uuid.Parse(c.Subject)
	sessionID, err2 := uuid.Parse(c.SessionID)
	if err1 != nil || err2 != nil || c.ID == "" {
		return Claims{}, ErrInvalidToken
	}
	claims := Claims{UserID: userID, SessionID: sessionID, ExpiresAt: c.ExpiresAt.Time, TokenID: c.ID}
	t.verified.Add(token, claims)
	return claims, nil
}

// opaqueToken returns a random token for a URL or cookie (256 bits,
// base64url) and the SHA-256 hash that is stored instead of it.
func opaqueToken() (plain string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
	}
	plain = base64.RawURLEncoding.EncodeToString(b)
	return plain, hashToken(plain)
}

// Successor returns the refresh token that replaces token when it
// rotates: HMAC-SHA256 under a key derived from the secret for this purpose
// only, in the same form as a random opaque token. Being a function of the
// token, it can be issued again to every request presenting token (another
// tab, a retry) while only hashes are stored; being keyed, it cannot be
// computed from a token without the secret.
func (t *Tokens) Successor(token string) string {
	return successor(t.keys.nextKey, token)
}

// previousSuccessors returns token's successors under the previous keys: a
// token rotated before a key rotation has one of them as its successor.
func (t *Tokens) previousSuccessors(token string) []string {
	var out []string
	for _, k := range t.old {
		out = append(out, successor(k.nextKey, token))
	}
	return out
}

func successor(key []byte, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// hashToken returns the stored form of an opaque token. Tokens carry 256
// bits of entropy, so a fast hash is enough (no salt or stretching needed).
func hashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// wellFormedToken reports whether s could be an opaque token (43
// characters of base64url holding 32 bytes), so garbage is refused before
// any storage lookup. The decoded length is checked too: the decoder skips
// CR and LF, so 43 characters can hold fewer bytes (found by
// FuzzRefreshToken).
func wellFormedToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}

// equalStrings compares two secrets in constant time.
func equalStrings(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
