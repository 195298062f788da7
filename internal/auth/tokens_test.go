package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func TestVerifyAcceptsOnlyProperAccessTokens(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tokens, err := NewTokens(secret, 15*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	uid, sid := uuid.New(), uuid.New()
	good := jwt.MapClaims{
		"iss": Issuer, "aud": Audience, "sub": uid.String(), "sid": sid.String(),
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "jti": "j1",
	}
	with := func(changes map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	key := deriveKey(secret, "access-token")
	sign := func(method jwt.SigningMethod, k any, c jwt.MapClaims, typ string) string {
		tok := jwt.NewWithClaims(method, c)
		if typ != "" {
			tok.Header["typ"] = typ
		} else {
			delete(tok.Header, "typ")
		}
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stateKey := deriveKey(secret, "oauth-state")
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"proper", sign(jwt.SigningMethodHS256, key, good, "at+jwt"), true},
		{"within leeway after exp", sign(jwt.SigningMethodHS256, key, with(map[string]any{"exp": now.Add(-20 * time.Second).Unix()}), "at+jwt"), true},
		{"no typ", sign(jwt.SigningMethodHS256, key, good, ""), false},
		{"typ JWT", sign(jwt.SigningMethodHS256, key, good, "JWT"), false},
		{"HS512 with the right key", sign(jwt.SigningMethodHS512, key, good, "at+jwt"), false},
		{"key of another purpose", sign(jwt.SigningMethodHS256, stateKey, good, "at+jwt"), false},
		{"raw secret", sign(jwt.SigningMethodHS256, secret, good, "at+jwt"), false},
		{"wrong issuer", sign(jwt.SigningMethodHS256, key, with(map[string]any{"iss": "other"}), "at+jwt"), false},
		{"wrong audience", sign(jwt.SigningMethodHS256, key, with(map[string]any{"aud": "other"}), "at+jwt"), false},
		{"no exp", sign(jwt.SigningMethodHS256, key, with(map[string]any{"exp": nil}), "at+jwt"), false},
		{"expired past leeway", sign(jwt.SigningMethodHS256, key, with(map[string]any{"exp": now.Add(-time.Minute).Unix()}), "at+jwt"), false},
		{"issued in the future", sign(jwt.SigningMethodHS256, key, with(map[string]any{"iat": now.Add(time.Hour).Unix()}), "at+jwt"), false},
		{"no sid", sign(jwt.SigningMethodHS256, key, with(map[string]any{"sid": nil}), "at+jwt"), false},
		{"sub not a uuid", sign(jwt.SigningMethodHS256, key, with(map[string]any{"sub": "admin"}), "at+jwt"), false},
		{"no jti", sign(jwt.SigningMethodHS256, key, with(map[string]any{"jti": nil}), "at+jwt"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tokens.Verify(tt.token)
			if tt.ok {
				if err != nil || c.UserID != uid || c.SessionID != sid {
					t.Fatalf("got %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("accepted: %+v %v", c, err)
			}
		})
	}
	issued, err := tokens.Issue(uid, sid)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tokens.Verify(issued); err != nil || !c.ExpiresAt.Equal(now.Add(15*time.Minute)) {
		t.Errorf("round trip: %+v %v", c, err)
	}
}

func TestOpaqueTokens(t *testing.T) {
	a, ha := opaqueToken()
	b, _ := opaqueToken()
	if a == b || len(ha) != 32 || !wellFormedToken(a) {
		t.Fatalf("tokens %q %q", a, b)
	}
	for _, bad := range []string{"", "short", a + "x", a[:42] + "*"} {
		if wellFormedToken(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestStateCookieIsBoundAndExpires(t *testing.T) {
	s := &Service{now: time.Now}
	s.EnableGoogle(GoogleOptions{AuthURL: "http://g/auth", TokenURL: "http://g/token"}, []byte("0123456789abcdef0123456789abcdef"))
	_, cookie, err := s.StartGoogle()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.google.open(cookie, time.Now()); !ok {
		t.Fatal("fresh cookie refused")
	}
	if _, ok := s.google.open(cookie, time.Now().Add(stateTTL+time.Minute)); ok {
		t.Error("expired cookie accepted")
	}
	tampered := []byte(cookie)
	tampered[3] ^= 1
	if _, ok := s.google.open(string(tampered), time.Now()); ok {
		t.Error("tampered cookie accepted")
	}
	other := &Service{now: time.Now}
	other.EnableGoogle(GoogleOptions{}, []byte("another secret another secret 123"))
	if _, ok := other.google.open(cookie, time.Now()); ok {
		t.Error("cookie accepted under another secret")
	}
}

// A refresh token's successor is the same for every request presenting the
// token, has the form of a random token, and depends on the secret.
func TestSuccessorIsStableKeyedAndWellFormed(t *testing.T) {
	a, err := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTokens([]byte("another secret of at least 32 bytes"), time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := opaqueToken()
	next := a.Successor(tok)
	if next != a.Successor(tok) {
		t.Error("two requests presenting one token got different successors")
	}
	if !wellFormedToken(next) || next == tok {
		t.Errorf("successor %q of %q is not a fresh well-formed token", next, tok)
	}
	if next == b.Successor(tok) {
		t.Error("the successor does not depend on the secret")
	}
	if a.Successor(next) == next {
		t.Error("a successor is its own successor")
	}
}

// TestVerifiedTokenStillExpires: a token Verify remembers is answered from
// memory only until it expires (with the leeway), like a parsed one.
func TestVerifiedTokenStillExpires(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tokens, err := NewTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	uid, sid := uuid.New(), uuid.New()
	tok, err := tokens.Issue(uid, sid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   time.Duration
		want error
	}{
		{0, nil},                               // parsed, then remembered
		{15*time.Minute + 29*time.Second, nil}, // remembered, within the leeway
		{15*time.Minute + 30*time.Second, ErrInvalidToken}, // remembered, expired
		{time.Minute, nil}, // parsed again (the expired entry was dropped)
	} {
		now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).Add(tt.at)
		c, err := tokens.Verify(tok)
		if !errors.Is(err, tt.want) || (err == nil && (c.UserID != uid || c.SessionID != sid)) {
			t.Errorf("at +%v: %+v %v, want %v", tt.at, c, err, tt.want)
		}
	}
	// A tampered copy is never answered from memory.
	if _, err := tokens.Verify(tok[:len(tok)-2] + "AA"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("tampered token: %v", err)
	}
}
