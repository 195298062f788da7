package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/google/uuid"
)

// CSRF tokens are signed double-submit tokens: the browser sends the same
// value in a cookie it can read and in the X-CSRF-Token header, and the
// value is "<random>.<mac>", where mac is HMAC-SHA256 over what the token
// is bound to and the random part, under a key derived from the token
// secret for this purpose only. So a value is accepted only if this server
// minted it for that very session (or pre-session nonce): a pair copied from
// another session, planted by a sibling subdomain or made up does not pass,
// even when cookie and header agree.

// CSRFBinding is what a CSRF token is bound to: one session, or, before a
// session exists (the setup-session call that ends Google sign-in), one
// pre-session nonce kept in an HttpOnly cookie. The zero value binds to
// nothing and verifies no token.
type CSRFBinding struct {
	kind, value string
}

// SessionBinding binds a CSRF token to a session: refresh and logout of
// that session accept it, nothing else does.
func SessionBinding(sessionID uuid.UUID) CSRFBinding {
	return CSRFBinding{kind: "session", value: sessionID.String()}
}

// PreSessionBinding binds a CSRF token to a pre-session nonce (an opaque
// token); setup-session accepts it only from the browser holding the nonce.
// A nonce that is not a well-formed opaque token binds to nothing.
func PreSessionBinding(nonce string) CSRFBinding {
	if !wellFormedToken(nonce) {
		return CSRFBinding{}
	}
	return CSRFBinding{kind: "pre-session", value: nonce}
}

// PreSessionTTL is how long the pre-session nonce and its CSRF token set by
// the Google callback stay usable: longer than the hand-off code they go
// with (60 s by default), short enough not to linger.
const PreSessionTTL = 5 * time.Minute

// PreSession is what the Google callback hands the browser besides the
// one-time code: a nonce for an HttpOnly cookie and the CSRF token bound to
// it, for setup-session.
type PreSession struct {
	Nonce     string
	CSRFToken string
}

func csrfMAC(key []byte, b CSRFBinding, random string) []byte {
	m := hmac.New(sha256.New, key)
	// kind and value never contain NUL, so the encoding is unambiguous.
	m.Write([]byte(b.kind + "\x00" + b.value + "\x00" + random))
	return m.Sum(nil)
}

// CSRF mints a CSRF token bound to b (256 random bits and a MAC). It
// panics on the zero binding, which is a programming error.
func (t *Tokens) CSRF(b CSRFBinding) string {
	if b.kind == "" {
		panic("auth: CSRF token for an empty binding")
	}
	random, _ := opaqueToken()
	return random + "." + base64.RawURLEncoding.EncodeToString(csrfMAC(t.keys.csrfKey, b, random))
}

// VerifyCSRF reports whether token was minted by CSRF for exactly b (under
// the current or the previous secret). The MAC is compared in constant time.
func (t *Tokens) VerifyCSRF(b CSRFBinding, token string) bool {
	if b.kind == "" {
		return false
	}
	random, sig, ok := strings.Cut(token, ".")
	if !ok || !wellFormedToken(random) {
		return false
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	// Under the current key, or the previous one during a key rotation.
	ok = false
	for _, k := range t.all() {
		ok = hmac.Equal(mac, csrfMAC(k.csrfKey, b, random)) || ok
	}
	return ok
}

// NewPreSession mints a pre-session nonce and its CSRF token.
func (t *Tokens) NewPreSession() PreSession {
	nonce, _ := opaqueToken()
	return PreSession{Nonce: nonce, CSRFToken: t.CSRF(PreSessionBinding(nonce))}
}
