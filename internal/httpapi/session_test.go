package httpapi_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// refreshWith sends POST /api/auth/refresh with exactly these cookies and
// CSRF header (empty values are left out), as a client that copied them.
func (h *authHarness) refreshWith(refresh, csrf string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/api/auth/refresh", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	var cookies []string
	if refresh != "" {
		cookies = append(cookies, "refresh_token="+refresh)
	}
	if csrf != "" {
		cookies = append(cookies, "csrf_token="+csrf)
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	req.Header.Set("X-Forwarded-For", "192.0.2.77")
	resp, body := h.spec.Do(h.t, http.DefaultClient, req)
	return response{resp, body}
}

func setsCookie(r response, name string) bool {
	for _, c := range r.Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

// Only the direct predecessor of the session's current token is honoured
// in the grace window, and it gets the current token again (its response
// may be the one whose cookie the browser keeps). A token two rotations old
// is reuse. (That it is reuse however recent is checked in
// internal/postgres: the service holds a new token for twice the grace
// window, so through the API two rotations never fit in one.)
func TestRefreshGraceCoversOnlyTheDirectPredecessor(t *testing.T) {
	clock := &shiftClock{}
	h := newAuthHarness(t, harnessOptions{grace: 10 * time.Second, now: clock.Now})
	b := h.browser("203.0.113.60")
	h.signUp(b, "grace@example.com", "grace's password")
	csrf := b.cookie("csrf_token")
	first := b.cookie("refresh_token")
	clock.set(time.Minute)
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Fatalf("refresh 1: %d %s", r.StatusCode, r.body)
	}
	second := b.cookie("refresh_token")
	clock.set(2 * time.Minute)
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Fatalf("refresh 2: %d %s", r.StatusCode, r.body)
	}
	third := b.cookie("refresh_token")
	if third == second || second == first {
		t.Fatal("refresh did not rotate")
	}

	// The direct predecessor of the current token: a concurrent tab.
	r := h.refreshWith(second, csrf)
	if r.StatusCode != 200 || responseCookie(r, "refresh_token") != third {
		t.Fatalf("direct predecessor within grace: %d %s (sets the current token: %v)", r.StatusCode, r.body, responseCookie(r, "refresh_token") == third)
	}
	// Two rotations old: reuse.
	r = h.refreshWith(first, csrf)
	if r.StatusCode != 401 || r.errorCode() != "invalid_session" {
		t.Fatalf("token two rotations old: %d %s", r.StatusCode, r.body)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_reason = 'refresh_token_reuse'`); n != 1 {
		t.Errorf("sessions revoked for reuse: %d, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'refresh_token_reuse' AND outcome = 'failure'`); n != 1 {
		t.Errorf("reuse events: %d, want 1", n)
	}
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 401 {
		t.Errorf("current token after reuse: %d", r.StatusCode)
	}
}

// A visitor without cookies (a frontend restoring a session on page load)
// gets 401 invalid_session from refresh, 204 from logout (nothing to
// revoke), and 403 from setup-session, which creates a session and so
// always needs its pre-session CSRF pair.
func TestAuthRoutesWithoutCookies(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.61")
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 401 || r.errorCode() != "invalid_session" {
		t.Errorf("refresh without cookies: %d %s", r.StatusCode, r.body)
	}
	if r := b.post("/api/auth/logout", nil); r.StatusCode != 204 {
		t.Errorf("logout without cookies: %d %s", r.StatusCode, r.body)
	}
	if r := b.post("/api/auth/setup-session", map[string]string{"code": "x"}); r.StatusCode != 403 || r.errorCode() != "csrf_failed" {
		t.Errorf("setup-session without cookies: %d %s", r.StatusCode, r.body)
	}
	// Cross-site stays refused before anything else.
	if r := b.do(http.MethodPost, "/api/auth/refresh", nil, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); r.StatusCode != 403 || r.errorCode() != "cross_site_request" {
		t.Errorf("cross-site refresh without cookies: %d %s", r.StatusCode, r.body)
	}
}

// An access token whose sid is a live session of another user is refused,
// even when it is signed with the real key.
func TestAccessTokenSessionMustBelongToItsSubject(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	alice := h.signUp(h.browser("203.0.113.62"), "alice.sid@example.com", "alice's password")
	bob := h.signUp(h.browser("203.0.113.63"), "bob.sid@example.com", "bob's password")
	aliceID := uuid.MustParse(alice.User.ID)

	forged, err := h.tokens.Issue(aliceID, sessionIDOf(t, bob.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	b := h.browser("203.0.113.64")
	if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(forged)); r.StatusCode != 401 {
		t.Errorf("alice's sub with bob's live session: %d %s", r.StatusCode, r.body)
	}
	own, err := h.tokens.Issue(aliceID, sessionIDOf(t, alice.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(own)); r.StatusCode != 200 {
		t.Errorf("control, alice's own session: %d %s", r.StatusCode, r.body)
	}
}

// An Origin that is present and not allowed is refused, whatever
// Sec-Fetch-Site claims.
func TestDisallowedOriginIsRefusedWhateverSecFetchSite(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.65")
	h.signUp(b, "origin@example.com", "origin's password")
	for _, site := range []string{"same-origin", "none", "same-site", ""} {
		for _, origin := range []string{"https://evil.example", "null"} {
			headers := map[string]string{"Origin": origin, "Sec-Fetch-Site": site}
			login := b.do(http.MethodPost, "/api/auth/login", map[string]string{"email": "origin@example.com", "password": "origin's password"}, headers)
			refresh := b.do(http.MethodPost, "/api/auth/refresh", nil, headers)
			for name, r := range map[string]response{"login": login, "refresh": refresh} {
				if r.StatusCode != 403 || r.errorCode() != "cross_site_request" {
					t.Errorf("%s, Origin %q, Sec-Fetch-Site %q: %d %s", name, origin, site, r.StatusCode, r.body)
				}
			}
		}
	}
	// The frontend's origin and clients that send neither header pass.
	if r := b.do(http.MethodPost, "/api/auth/refresh", nil, map[string]string{"Origin": testFrontend, "Sec-Fetch-Site": "same-origin"}); r.StatusCode != 200 {
		t.Errorf("frontend origin: %d %s", r.StatusCode, r.body)
	}
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Errorf("no Origin, no Sec-Fetch-Site: %d %s", r.StatusCode, r.body)
	}
}

// setCSRF replaces the browser's CSRF cookie (the header follows it).
func (b *browser) setCSRF(value string) {
	b.client.Jar.SetCookies(mustURL(b.h.srv.URL+"/"), []*http.Cookie{{Name: "csrf_token", Value: value, Path: "/"}})
}

func randomB64(n int) string {
	p := make([]byte, n)
	rand.Read(p)
	return base64.RawURLEncoding.EncodeToString(p)
}

// randomPart and macPart split a CSRF token "<random>.<mac>".
func randomPart(tok string) string { r, _, _ := strings.Cut(tok, "."); return r }
func macPart(tok string) string    { _, m, _ := strings.Cut(tok, "."); return m }

// The CSRF token is bound to its session (signed double submit): a matching
// cookie and header minted for session A, or made up, do not pass on
// session B, and change nothing there.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	a, b := h.browser("203.0.113.66"), h.browser("203.0.113.67")
	h.signUp(a, "csrf.a@example.com", "a's password")
	h.signUp(b, "csrf.b@example.com", "b's password")
	own := b.cookie("csrf_token")
	refreshB := b.cookie("refresh_token")

	tests := []struct{ name, value string }{
		{"pair minted for another session", a.cookie("csrf_token")},
		{"random value in the old format", randomB64(32)},
		{"well-formed but unsigned", randomB64(32) + "." + randomB64(32)},
		{"own random part with another session's signature", randomPart(own) + "." + macPart(a.cookie("csrf_token"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.setCSRF(tt.value)
			for _, path := range []string{"/api/auth/refresh", "/api/auth/logout"} {
				if r := b.post(path, nil); r.StatusCode != 403 || r.errorCode() != "csrf_failed" {
					t.Errorf("%s: %d %s", path, r.StatusCode, r.body)
				}
			}
			if b.cookie("refresh_token") != refreshB {
				t.Error("a refused request changed the refresh cookie")
			}
		})
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL`); n != 0 {
		t.Errorf("%d sessions revoked by refused requests", n)
	}

	// The normal flow: login -> refresh -> refresh -> logout, with the
	// session's one CSRF token throughout.
	b.setCSRF(own)
	for i := range 2 {
		r := b.post("/api/auth/refresh", nil)
		if r.StatusCode != 200 {
			t.Fatalf("refresh %d: %d %s", i, r.StatusCode, r.body)
		}
		if setsCookie(r, "csrf_token") {
			t.Errorf("refresh %d replaced the CSRF cookie: a second tab holding the old one would fail", i)
		}
	}
	if r := b.post("/api/auth/logout", nil); r.StatusCode != 204 || b.cookie("refresh_token") != "" || b.cookie("csrf_token") != "" {
		t.Fatalf("logout: %d, cookies left: %q %q", r.StatusCode, b.cookie("refresh_token"), b.cookie("csrf_token"))
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_reason = 'logout'`); n != 1 {
		t.Errorf("logged-out sessions: %d", n)
	}
}

// setup-session (Google sign-in, before any session exists) takes a CSRF
// token bound to the pre-session nonce the callback set in this browser.
func TestSetupSessionCSRFIsBoundToThePreSessionNonce(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	victim, attacker := h.browser("203.0.113.68"), h.browser("203.0.113.69")
	user := googleUser{Sub: "g-nonce", Email: "nonce@example.com", EmailVerified: true}

	// The attacker's own, valid pre-session pair does not work in another
	// browser (another nonce).
	codeOf(t, googleSignIn(t, h, attacker, user, nil))
	code := codeOf(t, googleSignIn(t, h, victim, user, nil))
	pre := victim.cookie("csrf_token")
	victim.setCSRF(attacker.cookie("csrf_token"))
	if r := victim.post("/api/auth/setup-session", map[string]string{"code": code}); r.StatusCode != 403 || r.errorCode() != "csrf_failed" {
		t.Errorf("another browser's pre-session pair: %d %s", r.StatusCode, r.body)
	}
	// A session's CSRF token is not a pre-session one.
	other := h.browser("203.0.113.70")
	h.signUp(other, "someone@example.com", "someone's password")
	victim.setCSRF(other.cookie("csrf_token"))
	if r := victim.post("/api/auth/setup-session", map[string]string{"code": code}); r.StatusCode != 403 || r.errorCode() != "csrf_failed" {
		t.Errorf("a session's CSRF token: %d %s", r.StatusCode, r.body)
	}

	// The refused requests did not spend the code: with the browser's own
	// pair it works, and the session gets a CSRF token of its own.
	victim.setCSRF(pre)
	r := victim.post("/api/auth/setup-session", map[string]string{"code": code})
	if r.StatusCode != 200 {
		t.Fatalf("setup-session: %d %s", r.StatusCode, r.body)
	}
	if post := victim.cookie("csrf_token"); post == "" || post == pre {
		t.Errorf("the session did not get its own CSRF token")
	}
	if r := victim.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Errorf("refresh after Google sign-in: %d %s", r.StatusCode, r.body)
	}
}
