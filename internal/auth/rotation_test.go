package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// A JWT_SECRET rotation: what the old secret signed verifies while it is
// JWT_SECRET_PREVIOUS, and no longer once it is removed; nothing is signed
// with it.
func TestKeyRotationAcceptsThePreviousSecretForVerificationOnly(t *testing.T) {
	oldSecret := []byte(strings.Repeat("old-secret-", 4))
	newSecret := []byte(strings.Repeat("new-secret-", 4))
	before, err := NewTokens(oldSecret, 15*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	during, err := NewRotatingTokens(newSecret, oldSecret, 15*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewTokens(newSecret, 15*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	uid, sid := uuid.New(), uuid.New()

	oldAccess, err := before.Issue(uid, sid)
	if err != nil {
		t.Fatal(err)
	}
	newAccess, err := during.Issue(uid, sid)
	if err != nil {
		t.Fatal(err)
	}
	kid := func(tok string) string {
		p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		k, _ := p.Header["kid"].(string)
		return k
	}
	if kid(oldAccess) != before.KeyID() || kid(newAccess) != after.KeyID() || before.KeyID() == after.KeyID() || before.KeyID() == "" {
		t.Errorf("kids: old token %q (key %q), new token %q (key %q)", kid(oldAccess), before.KeyID(), kid(newAccess), after.KeyID())
	}
	if strings.Contains(before.KeyID(), string(oldSecret[:8])) {
		t.Error("the key id reveals the secret")
	}
	if c, err := during.Verify(oldAccess); err != nil || c.UserID != uid {
		t.Errorf("during the rotation, a token signed with the previous secret: %v", err)
	}
	if _, err := during.Verify(newAccess); err != nil {
		t.Errorf("during the rotation, a new token: %v", err)
	}
	if _, err := after.Verify(oldAccess); err == nil {
		t.Error("after the rotation, a token signed with the removed secret verifies")
	}
	if _, err := before.Verify(newAccess); err == nil {
		t.Error("a new token verifies under the old secret alone: not signed with the new one")
	}
	// A token claiming the new kid but signed with the old key is refused.
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": Issuer, "aud": Audience, "sub": uid.String(), "sid": sid.String(), "jti": "x",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
	})
	forged.Header["typ"] = accessTokenType
	forged.Header["kid"] = after.KeyID()
	s, _ := forged.SignedString(newKeySet(oldSecret).key)
	if _, err := during.Verify(s); err == nil {
		t.Error("a token whose kid names the current key but signed with the previous one verifies")
	}
	// Tokens issued before key ids (no kid) still verify under either key.
	delete(forged.Header, "kid")
	s, _ = forged.SignedString(newKeySet(oldSecret).key)
	if _, err := during.Verify(s); err != nil {
		t.Errorf("a kid-less token under the previous secret: %v", err)
	}

	// CSRF tokens minted before the rotation still pass (no one fails a
	// refresh or a logout because the secret changed).
	b := SessionBinding(sid)
	oldCSRF := before.CSRF(b)
	if !during.VerifyCSRF(b, oldCSRF) || !during.VerifyCSRF(b, during.CSRF(b)) {
		t.Error("during the rotation, a CSRF token is refused")
	}
	if after.VerifyCSRF(b, oldCSRF) || before.VerifyCSRF(b, during.CSRF(b)) {
		t.Error("a CSRF token verifies under a key it was not minted with")
	}
	// Successors: signed under the current key, the previous one known.
	refresh, _ := opaqueToken()
	if during.Successor(refresh) != after.Successor(refresh) {
		t.Error("the successor is not computed under the current secret")
	}
	if p := during.previousSuccessors(refresh); len(p) != 1 || p[0] != before.Successor(refresh) {
		t.Errorf("previous successors %v", p)
	}

	// OAuth state cookies set before the rotation still open.
	s1 := &Service{now: time.Now}
	s1.EnableGoogle(GoogleOptions{AuthURL: "http://g/auth"}, oldSecret)
	_, cookie, err := s1.StartGoogle()
	if err != nil {
		t.Fatal(err)
	}
	s2 := &Service{now: time.Now}
	s2.EnableGoogle(GoogleOptions{AuthURL: "http://g/auth"}, newSecret, oldSecret)
	if _, ok := s2.google.open(cookie, time.Now()); !ok {
		t.Error("during the rotation, a state cookie set before it is refused")
	}
	s3 := &Service{now: time.Now}
	s3.EnableGoogle(GoogleOptions{AuthURL: "http://g/auth"}, newSecret)
	if _, ok := s3.google.open(cookie, time.Now()); ok {
		t.Error("after the rotation, the old state cookie opens")
	}

	if _, err := NewRotatingTokens(newSecret, []byte("short"), time.Minute, nil); err == nil {
		t.Error("a short previous secret is accepted")
	}
}
