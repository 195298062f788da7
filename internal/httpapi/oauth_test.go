package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// googleSignIn runs the browser side of Google sign-in: start, consent at
// the fake provider, callback. It returns the fragment of the redirect to
// the frontend (code=... or error=...).
func googleSignIn(t *testing.T, h *authHarness, b *browser, user googleUser, tamper func(q url.Values)) string {
	t.Helper()
	r := b.do(http.MethodGet, "/api/auth/oauth/google/start", nil, nil)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("start: %d %s", r.StatusCode, r.body)
	}
	var state *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "oauth_state" {
			state = c
		}
	}
	if state == nil || !state.HttpOnly || state.SameSite != http.SameSiteLaxMode || state.MaxAge <= 0 || state.MaxAge > 900 {
		t.Fatalf("state cookie: %+v", state)
	}
	code, st := h.google.authorize(r.Header.Get("Location"), user)
	q := url.Values{"code": {code}, "state": {st}}
	if tamper != nil {
		tamper(q)
	}
	r = b.do(http.MethodGet, "/api/auth/oauth/callback?"+q.Encode(), nil, nil)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("callback: %d %s", r.StatusCode, r.body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host != testFrontend || loc.Path != "/auth/oauth/success" || loc.RawQuery != "" {
		t.Fatalf("callback redirect %q", r.Header.Get("Location"))
	}
	return loc.Fragment
}

func codeOf(t *testing.T, fragment string) string {
	t.Helper()
	code, ok := strings.CutPrefix(fragment, "code=")
	if !ok {
		t.Fatalf("no code in fragment %q", fragment)
	}
	return code
}

func TestGoogleSignInCreatesUserAndHandsOffOnce(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.30")
	code := codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-1", Email: "Nina@Gmail.com", EmailVerified: true, Name: "Nina"}, nil))

	r := b.post("/api/auth/setup-session", map[string]string{"code": code})
	if r.StatusCode != 200 {
		t.Fatalf("setup-session: %d %s", r.StatusCode, r.body)
	}
	var s session
	r.json(t, &s)
	if s.User.Email != "nina@gmail.com" || !s.User.EmailVerified || s.User.Name != "Nina" {
		t.Errorf("user %+v", s.User)
	}
	if b.cookie("refresh_token") == "" {
		t.Error("no refresh cookie")
	}
	// Reused, even with a fresh pre-session CSRF pair (from a sign-in whose
	// own code is left unused), the code is refused.
	codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-1", Email: "Nina@Gmail.com", EmailVerified: true, Name: "Nina"}, nil))
	if r := b.post("/api/auth/setup-session", map[string]string{"code": code}); r.StatusCode != 400 || r.errorCode() != "invalid_token" {
		t.Errorf("code reused: %d %s", r.StatusCode, r.body)
	}
	// The account has no password: password login is refused like any other.
	if r := b.post("/api/auth/login", map[string]string{"email": "nina@gmail.com", "password": "anything at all"}); r.StatusCode != 401 {
		t.Errorf("password login to a Google-only account: %d", r.StatusCode)
	}
	// Signing in again finds the user by subject, even with a new address.
	code = codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-1", Email: "nina.new@gmail.com", EmailVerified: true}, nil))
	r = b.post("/api/auth/setup-session", map[string]string{"code": code})
	r.json(t, &s)
	if s.User.Email != "nina@gmail.com" {
		t.Errorf("second sign-in: %s", r.body)
	}
	if n := h.count(`SELECT count(*) FROM users`); n != 1 {
		t.Errorf("%d users", n)
	}
}

func TestGoogleSignInLinking(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.31")

	t.Run("verified Google email links a verified account", func(t *testing.T) {
		h.signUp(b, "olga@example.com", "olga's password")
		code := codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-olga", Email: "olga@example.com", EmailVerified: true}, nil))
		r := b.post("/api/auth/setup-session", map[string]string{"code": code})
		if r.StatusCode != 200 {
			t.Fatalf("setup: %d %s", r.StatusCode, r.body)
		}
		h.login(b, "olga@example.com", "olga's password") // the password still works
		if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'oauth_link' AND outcome = 'success'`); n != 1 {
			t.Errorf("oauth_link events: %d", n)
		}
	})

	t.Run("verified Google email takes over an unverified account from its squatter", func(t *testing.T) {
		// Someone registered this address without owning it.
		b.post("/api/auth/register", map[string]string{"email": "pat@example.com", "password": "squatter password"})
		code := codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-pat", Email: "pat@example.com", EmailVerified: true}, nil))
		if r := b.post("/api/auth/setup-session", map[string]string{"code": code}); r.StatusCode != 200 {
			t.Fatalf("setup: %d %s", r.StatusCode, r.body)
		}
		if r := b.post("/api/auth/login", map[string]string{"email": "pat@example.com", "password": "squatter password"}); r.StatusCode != 401 {
			t.Errorf("the squatter's password still works: %d", r.StatusCode)
		}
	})

	t.Run("unverified Google email never links", func(t *testing.T) {
		h.signUp(b, "quinn@example.com", "quinn's password")
		frag := googleSignIn(t, h, b, googleUser{Sub: "g-attacker", Email: "quinn@example.com", EmailVerified: false}, nil)
		if frag != "error=email_not_verified" {
			t.Errorf("fragment %q", frag)
		}
		if n := h.count(`SELECT count(*) FROM user_identities WHERE subject = 'g-attacker'`); n != 0 {
			t.Errorf("identity linked")
		}
	})

	t.Run("unverified Google email without an account creates an unverified user", func(t *testing.T) {
		code := codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-ray", Email: "ray@example.com", EmailVerified: false}, nil))
		r := b.post("/api/auth/setup-session", map[string]string{"code": code})
		var s session
		r.json(t, &s)
		if r.StatusCode != 200 || s.User.EmailVerified {
			t.Errorf("got %d %s", r.StatusCode, r.body)
		}
	})
}

func TestGoogleSignInRefusals(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	user := googleUser{Sub: "g-sam", Email: "sam@example.com", EmailVerified: true}
	tests := []struct {
		name   string
		tamper func(url.Values)
		setup  func(b *browser)
		want   string
	}{
		{"state mismatch", func(q url.Values) { q.Set("state", "attacker-state") }, nil, "error=invalid_state"},
		{"state missing", func(q url.Values) { q.Del("state") }, nil, "error=invalid_state"},
		{"code from another flow (PKCE)", func(q url.Values) { q.Set("code", "code-forged") }, nil, "error=exchange_failed"},
		{"user cancelled", func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, nil, "error=access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := h.browser("203.0.113.32")
			if got := googleSignIn(t, h, b, user, tt.tamper); got != tt.want {
				t.Errorf("fragment %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("callback in a browser that did not start the flow", func(t *testing.T) {
		victim, attacker := h.browser("203.0.113.33"), h.browser("203.0.113.34")
		r := attacker.do(http.MethodGet, "/api/auth/oauth/google/start", nil, nil)
		code, state := h.google.authorize(r.Header.Get("Location"), user)
		r = victim.do(http.MethodGet, "/api/auth/oauth/callback?"+url.Values{"code": {code}, "state": {state}}.Encode(), nil, nil)
		if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "#error=invalid_state") {
			t.Errorf("login CSRF: redirect %q", loc)
		}
	})
	if n := h.count(`SELECT count(*) FROM users`); n != 0 {
		t.Errorf("%d users created by refused sign-ins", n)
	}
}
