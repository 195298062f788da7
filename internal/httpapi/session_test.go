package httpapi_test

import (
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

// A refresh token two rotations old is reuse even inside the grace window:
// only the token whose direct successor is the session's current token is
// honoured there (a second tab that sent the same cookie at the same time).
func TestRefreshGraceCoversOnlyTheDirectPredecessor(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{grace: time.Hour}) // everything below is "within the grace window"
	b := h.browser("203.0.113.60")
	h.signUp(b, "grace@example.com", "grace's password")
	csrf := b.cookie("csrf_token")
	first := b.cookie("refresh_token")
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Fatalf("refresh 1: %d %s", r.StatusCode, r.body)
	}
	second := b.cookie("refresh_token")
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Fatalf("refresh 2: %d %s", r.StatusCode, r.body)
	}
	if third := b.cookie("refresh_token"); third == second || second == first {
		t.Fatal("refresh did not rotate")
	}

	// The direct predecessor of the current token: a concurrent tab.
	r := h.refreshWith(second, csrf)
	if r.StatusCode != 200 || setsCookie(r, "refresh_token") {
		t.Fatalf("direct predecessor within grace: %d %s (sets a refresh cookie: %v)", r.StatusCode, r.body, setsCookie(r, "refresh_token"))
	}
	// Two rotations old: reuse, whatever the time.
	r = h.refreshWith(first, csrf)
	if r.StatusCode != 401 || r.errorCode() != "invalid_session" {
		t.Fatalf("token two rotations old within grace: %d %s", r.StatusCode, r.body)
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

