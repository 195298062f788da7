package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
)

func TestRegisterVerifyLoginMe(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.10")

	r := b.post("/api/auth/register", map[string]string{"email": "  Alice@Example.COM ", "password": "correct horse", "name": "Alice"})
	if r.StatusCode != 202 {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	h.waitMailSettled()
	msg := h.mail.WaitFor(t, "alice@example.com", 5*time.Second)
	if !strings.Contains(msg.HTML, testFrontend+"/auth/verify?token=") {
		t.Errorf("HTML body lacks the link: %s", msg.HTML)
	}
	token := h.mailedToken("alice@example.com", "/auth/verify")

	r = b.post("/api/auth/login", map[string]string{"email": "alice@example.com", "password": "correct horse"})
	if r.StatusCode != 403 || r.errorCode() != "email_not_verified" {
		t.Fatalf("login before verification: %d %s", r.StatusCode, r.body)
	}

	r = b.post("/api/auth/verify-email", map[string]string{"token": token})
	var verified struct {
		User struct {
			Email         string
			EmailVerified bool `json:"email_verified"`
		}
	}
	r.json(t, &verified)
	if r.StatusCode != 200 || !verified.User.EmailVerified || verified.User.Email != "alice@example.com" {
		t.Fatalf("verify: %d %s", r.StatusCode, r.body)
	}
	if r := b.post("/api/auth/verify-email", map[string]string{"token": token}); r.StatusCode != 400 || r.errorCode() != "invalid_token" {
		t.Errorf("token used twice: %d %s", r.StatusCode, r.body)
	}

	r = b.post("/api/auth/login", map[string]string{"email": "ALICE@example.com", "password": "correct horse"})
	if r.StatusCode != 200 {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	var s session
	r.json(t, &s)
	if s.TokenType != "Bearer" || s.ExpiresIn != 900 || s.User.Name != "Alice" {
		t.Errorf("session: %+v", s)
	}
	checkAccessToken(t, s.AccessToken, s.User.ID)

	cookies := map[string]*http.Cookie{}
	for _, c := range r.Cookies() {
		cookies[c.Name] = c
	}
	rc, cc := cookies["refresh_token"], cookies["csrf_token"]
	if rc == nil || !rc.HttpOnly || rc.Path != "/api/auth" || rc.SameSite != http.SameSiteStrictMode || rc.MaxAge <= 0 {
		t.Errorf("refresh cookie: %+v", rc)
	}
	if cc == nil || cc.HttpOnly || cc.Path != "/" || cc.Value == "" {
		t.Errorf("csrf cookie: %+v", cc)
	}

	r = b.do(http.MethodGet, "/api/users/me", nil, bearer(s.AccessToken))
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `"email":"alice@example.com"`) {
		t.Fatalf("me: %d %s", r.StatusCode, r.body)
	}
	if strings.Contains(string(r.body), "password") {
		t.Errorf("user JSON mentions the password: %s", r.body)
	}
	r = b.do(http.MethodPatch, "/api/users/me", map[string]string{"name": "Alice B"}, bearer(s.AccessToken))
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `"name":"Alice B"`) {
		t.Fatalf("patch me: %d %s", r.StatusCode, r.body)
	}
	r = b.do(http.MethodPatch, "/api/users/me", map[string]string{"name": strings.Repeat("x", 101)}, bearer(s.AccessToken))
	if r.StatusCode != 422 {
		t.Errorf("long name: %d %s", r.StatusCode, r.body)
	}
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'login' AND outcome = 'success' AND ip = '203.0.113.10' AND user_agent = 'test-browser/1.0'`); n != 1 {
		t.Errorf("login success events: %d", n)
	}
}

// checkAccessToken decodes a JWT without trusting it and checks every claim
// the issue requires.
func checkAccessToken(t *testing.T, token, userID string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %s", token)
	}
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		raw, _ := base64.RawURLEncoding.DecodeString(parts[i])
		json.Unmarshal(raw, v)
	}
	if header["alg"] != "HS256" || header["typ"] != "at+jwt" {
		t.Errorf("header %v", header)
	}
	for _, k := range []string{"iss", "aud", "sub", "sid", "iat", "exp", "jti"} {
		if claims[k] == nil {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if claims["sub"] != userID {
		t.Errorf("sub %v, want %s", claims["sub"], userID)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 900 {
		t.Errorf("lifetime %v s, want 900", exp-iat)
	}
}

func TestRegisterIsEnumerationSafe(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.11")
	h.signUp(b, "bob@example.com", "first password")

	fresh := b.post("/api/auth/register", map[string]string{"email": "carol@example.com", "password": "some password"})
	taken := b.post("/api/auth/register", map[string]string{"email": "BOB@example.com", "password": "another password"})
	if fresh.StatusCode != 202 || taken.StatusCode != 202 || string(fresh.body) != string(taken.body) {
		t.Fatalf("responses differ:\n%d %s\n%d %s", fresh.StatusCode, fresh.body, taken.StatusCode, taken.body)
	}
	h.waitMailSettled()
	msg := h.mail.WaitFor(t, "bob@example.com", 5*time.Second)
	if !strings.Contains(strings.ToLower(msg.Subject+msg.Text), "already") {
		t.Errorf("existing owner did not get the already-registered mail: %q", msg.Subject)
	}
	if n := h.count(`SELECT count(*) FROM users WHERE email = 'bob@example.com'`); n != 1 {
		t.Errorf("%d users for bob", n)
	}
	// The original password still works; the attempt changed nothing.
	h.login(b, "bob@example.com", "first password")

	for _, path := range []string{"/api/auth/resend-verification", "/api/auth/password/forgot"} {
		known := b.post(path, map[string]string{"email": "bob@example.com"})
		unknown := b.post(path, map[string]string{"email": "nobody@example.com"})
		if known.StatusCode != 202 || string(known.body) != string(unknown.body) {
			t.Errorf("%s: known %d %s, unknown %d %s", path, known.StatusCode, known.body, unknown.StatusCode, unknown.body)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.12")
	tests := []struct {
		name     string
		password string
		want     int
	}{
		{"73 bytes refused, not truncated", strings.Repeat("a", 73), 422},
		{"72 multibyte bytes accepted", strings.Repeat("é", 36), 202},
		{"74 bytes of multibyte refused", strings.Repeat("é", 37), 422},
		{"7 bytes refused", "1234567", 422},
		{"8 bytes accepted", "12345678", 202},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/api/auth/register", map[string]string{"email": fmt.Sprintf("p%d@example.com", i), "password": tt.password})
			if r.StatusCode != tt.want {
				t.Fatalf("got %d %s, want %d", r.StatusCode, r.body, tt.want)
			}
			if tt.want == 422 && !strings.Contains(string(r.body), `"password"`) {
				t.Errorf("no password field problem: %s", r.body)
			}
		})
	}
	// A 72-byte password and the same with one more byte must not both log in.
	long := strings.Repeat("b", 72)
	h.signUp(b, "long@example.com", long)
	if r := b.post("/api/auth/login", map[string]string{"email": "long@example.com", "password": long + "X"}); r.StatusCode != 401 {
		t.Errorf("73-byte variant of a 72-byte password logged in: %d", r.StatusCode)
	}
	if r := b.post("/api/auth/register", map[string]string{"email": "not-an-email", "password": "12345678"}); r.StatusCode != 422 {
		t.Errorf("bad email: %d", r.StatusCode)
	}
	if r := b.post("/api/auth/register", map[string]any{"email": "x@example.com", "password": "12345678", "admin": true}); r.StatusCode != 400 {
		t.Errorf("unknown field: %d", r.StatusCode)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.13")
	h.signUp(b, "dave@example.com", "dave's password")
	wrong := b.post("/api/auth/login", map[string]string{"email": "dave@example.com", "password": "not it at all"})
	unknown := b.post("/api/auth/login", map[string]string{"email": "eve@example.com", "password": "not it at all"})
	if wrong.StatusCode != 401 || unknown.StatusCode != 401 || string(wrong.body) != string(unknown.body) || wrong.errorCode() != "invalid_credentials" {
		t.Fatalf("wrong password %d %s; unknown email %d %s", wrong.StatusCode, wrong.body, unknown.StatusCode, unknown.body)
	}
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'login' AND outcome = 'failure'`); n != 2 {
		t.Errorf("failure events: %d, want 2", n)
	}
}

func TestRateLimitCheckedBeforePassword(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.14")
	h.signUp(b, "frank@example.com", "frank's password")
	// Per-(account, address) failure limit (loginlimits_test.go has the rest).
	attacker := h.browser("198.51.100.1")
	var last response
	for range accountIPFailures + 1 {
		last = attacker.post("/api/auth/login", map[string]string{"email": "frank@example.com", "password": "guess"})
	}
	if last.StatusCode != 429 || last.errorCode() != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("per-(account, address) limit not reached: %d %s", last.StatusCode, last.body)
	}
	// The right password does not get past the limit: the limit comes first.
	r := attacker.post("/api/auth/login", map[string]string{"email": "frank@example.com", "password": "frank's password"})
	if r.StatusCode != 429 {
		t.Errorf("correct password while limited: %d %s", r.StatusCode, r.body)
	}
	// Per-IP limit on register.
	c := h.browser("203.0.113.99")
	var got int
	for i := range 12 {
		got = c.post("/api/auth/register", map[string]string{"email": fmt.Sprintf("r%d@example.com", i), "password": "12345678"}).StatusCode
	}
	if got != 429 {
		t.Errorf("register per-IP limit: last status %d", got)
	}
}

func TestAccessTokenForgeries(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.15")
	s := h.signUp(b, "gina@example.com", "gina's password")
	uid, sid := uuid.MustParse(s.User.ID), sessionIDOf(t, s.AccessToken)

	claims := jwt.MapClaims{
		"iss": auth.Issuer, "aud": auth.Audience, "sub": uid.String(), "sid": sid.String(),
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "jti": "x",
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none.Header["typ"] = "at+jwt"
	noneToken, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	sign := func(key string, c jwt.MapClaims, typ string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		if typ != "" {
			tok.Header["typ"] = typ
		}
		s, _ := tok.SignedString([]byte(key))
		return s
	}
	past, _ := auth.NewTokens([]byte(testSecret), time.Minute, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _ := past.Issue(uid, sid)
	otherAudience := jwt.MapClaims{}
	for k, v := range claims {
		otherAudience[k] = v
	}
	otherAudience["aud"] = "someone-else"
	verifyToken := h.mailedTokenFor(t, b, "gina@example.com")

	tests := []struct{ name, token string }{
		{"alg none", noneToken},
		{"signed with another key", sign("another-secret-another-secret-12345", claims, "at+jwt")},
		{"signed with the raw secret (no key separation)", sign(testSecret, claims, "at+jwt")},
		{"expired", expired},
		{"a reset/verification token", verifyToken},
		{"the refresh cookie", b.cookie("refresh_token")},
		{"garbage", "not.a.jwt"},
	}
	// A correctly keyed token without typ or with another audience: mint
	// them with the service's own key through a second Tokens and tamper.
	good, _ := h.tokens.Issue(uid, sid)
	tests = append(tests, struct{ name, token string }{"typ header removed", retype(t, good, "")})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(http.MethodGet, "/api/users/me", nil, bearer(tt.token))
			if r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("got %d %s", r.StatusCode, r.body)
			}
		})
	}
	if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(good)); r.StatusCode != 200 {
		t.Errorf("control: a good token was refused: %d", r.StatusCode)
	}
	if r := b.do(http.MethodGet, "/api/users/me", nil, nil); r.StatusCode != 401 || r.errorCode() != "unauthorized" {
		t.Errorf("no token: %d %s", r.StatusCode, r.body)
	}
	// Tokens of one purpose are refused for another.
	if r := b.post("/api/auth/verify-email", map[string]string{"token": s.AccessToken}); r.StatusCode != 400 {
		t.Errorf("access token as verification token: %d", r.StatusCode)
	}
	b.post("/api/auth/password/forgot", map[string]string{"email": "gina@example.com"})
	reset := h.mailedToken("gina@example.com", "/auth/reset-password")
	if r := b.post("/api/auth/verify-email", map[string]string{"token": reset}); r.StatusCode != 400 {
		t.Errorf("reset token accepted as verification token: %d", r.StatusCode)
	}
	// setup-session with this browser's own pre-session CSRF pair (from a
	// Google sign-in whose code is left unused), so that only the code decides.
	codeOf(t, googleSignIn(t, h, b, googleUser{Sub: "g-gina", Email: "gina.g@example.com", EmailVerified: true}, nil))
	if r := b.post("/api/auth/setup-session", map[string]string{"code": reset}); r.StatusCode != 400 || r.errorCode() != "invalid_token" {
		t.Errorf("reset token accepted as hand-off code: %d %s", r.StatusCode, r.body)
	}
	b.post("/api/auth/resend-verification", map[string]string{"email": "gina@example.com"}) // verified: nothing sent
	if r := b.post("/api/auth/password/reset", map[string]string{"token": verifyToken, "password": "new password 1"}); r.StatusCode != 400 {
		t.Errorf("verification token accepted as reset token: %d", r.StatusCode)
	}
	if r := b.post("/api/auth/password/reset", map[string]string{"token": reset, "password": "new password 1"}); r.StatusCode != 204 {
		t.Errorf("the reset token itself: %d %s", r.StatusCode, r.body)
	}
}

// mailedTokenFor returns the (already consumed) verification token mailed
// at sign-up.
func (h *authHarness) mailedTokenFor(t *testing.T, b *browser, email string) string {
	t.Helper()
	for _, m := range h.mail.Messages() {
		if strings.EqualFold(m.To[0], email) && strings.Contains(m.Text, "/auth/verify?token=") {
			i := strings.Index(m.Text, "token=")
			return strings.Fields(m.Text[i+len("token="):])[0]
		}
	}
	t.Fatal("no verification mail")
	return ""
}

func sessionIDOf(t *testing.T, token string) uuid.UUID {
	t.Helper()
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	var c struct{ SID string }
	json.Unmarshal(raw, &c)
	return uuid.MustParse(c.SID)
}

// retype rewrites the typ header of a token (invalidating nothing else but
// the signature, which covers the header: the result must be refused).
func retype(t *testing.T, token, typ string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	var header map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	json.Unmarshal(raw, &header)
	if typ == "" {
		delete(header, "typ")
	} else {
		header["typ"] = typ
	}
	enc, _ := json.Marshal(header)
	parts[0] = base64.RawURLEncoding.EncodeToString(enc)
	return strings.Join(parts, ".")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	clock := &shiftClock{}
	h := newAuthHarness(t, harnessOptions{grace: 10 * time.Second, now: clock.Now})
	b := h.browser("203.0.113.16")
	s := h.signUp(b, "hank@example.com", "hank's password")
	first := b.cookie("refresh_token")

	clock.set(time.Minute) // past the hold of a new token (twice the grace)
	r := b.post("/api/auth/refresh", nil)
	if r.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.body)
	}
	second := b.cookie("refresh_token")
	if second == first || second == "" {
		t.Fatal("refresh did not rotate the cookie")
	}
	var s2 session
	r.json(t, &s2)
	if sessionIDOf(t, s2.AccessToken) != sessionIDOf(t, s.AccessToken) {
		t.Error("refresh changed the session id")
	}

	clock.set(time.Minute + 11*time.Second) // past the grace window
	// The thief copied both cookies of the session before the refresh.
	thief := h.browser("192.0.2.66")
	thief.client.Jar.SetCookies(mustURL(h.srv.URL+"/api/auth"), []*http.Cookie{{Name: "refresh_token", Value: first, Path: "/api/auth"}, {Name: "csrf_token", Value: b.cookie("csrf_token"), Path: "/"}})
	r = thief.post("/api/auth/refresh", nil)
	if r.StatusCode != 401 || r.errorCode() != "invalid_session" {
		t.Fatalf("reused token: %d %s", r.StatusCode, r.body)
	}
	// The whole session is gone: the legitimate token and access token too.
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 401 {
		t.Errorf("current token after reuse: %d", r.StatusCode)
	}
	if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(s2.AccessToken)); r.StatusCode != 401 {
		t.Errorf("access token of the revoked session: %d", r.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'refresh_token_reuse' AND ip = '192.0.2.66'`); n != 1 {
		t.Errorf("reuse events: %d", n)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_reason = 'refresh_token_reuse'`); n != 1 {
		t.Errorf("revoked sessions: %d", n)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// Tabs sending the same cookie at the same moment serialise on the
// session row: one rotates, the others are its direct predecessor within
// the grace window and get the same new token, so the shared cookie jar
// ends up with it whichever response arrives last.
func TestConcurrentRefreshKeepsUserLoggedIn(t *testing.T) {
	clock := &shiftClock{}
	h := newAuthHarness(t, harnessOptions{grace: 5 * time.Second, now: clock.Now})
	b := h.browser("203.0.113.17")
	h.signUp(b, "ivy@example.com", "ivy's password")
	token, csrf := b.cookie("refresh_token"), b.cookie("csrf_token")
	clock.set(15 * time.Minute)

	const tabs = 4
	var wg sync.WaitGroup
	results := make([]*http.Response, tabs)
	for i := range tabs {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/auth/refresh", nil)
			req.Header.Set("Cookie", "refresh_token="+token+"; csrf_token="+csrf)
			req.Header.Set("X-CSRF-Token", csrf)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			results[i] = resp
		})
	}
	wg.Wait()
	rotated := map[string]int{}
	for i, resp := range results {
		if resp == nil || resp.StatusCode != 200 {
			t.Fatalf("tab %d: %v", i, resp)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "refresh_token" {
				rotated[c.Value]++
			}
		}
	}
	if len(rotated) != 1 {
		t.Fatalf("responses set %d different refresh tokens (%v), want one, set by every tab", len(rotated), rotated)
	}
	var next string
	for v, n := range rotated {
		if n != tabs || v == token {
			t.Fatalf("%d of %d responses set the new token (rotated: %v)", n, tabs, v != token)
		}
		next = v
	}
	// The browser keeps the one new token, and it works at the next expiry.
	b.client.Jar.SetCookies(mustURL(h.srv.URL+"/api/auth"), []*http.Cookie{{Name: "refresh_token", Value: next, Path: "/api/auth"}})
	clock.set(30 * time.Minute)
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Fatalf("refresh after the race: %d %s", r.StatusCode, r.body)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL`); n != 0 {
		t.Errorf("%d sessions revoked by a concurrent refresh", n)
	}
}

func TestCSRFAndCrossSite(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	b := h.browser("203.0.113.18")
	h.signUp(b, "jack@example.com", "jack's password")
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		want    string
	}{
		{"refresh without CSRF header", "/api/auth/refresh", map[string]string{"X-CSRF-Token": ""}, "csrf_failed"},
		{"refresh with a mismatched header", "/api/auth/refresh", map[string]string{"X-CSRF-Token": "forged"}, "csrf_failed"},
		{"logout without CSRF header", "/api/auth/logout", map[string]string{"X-CSRF-Token": ""}, "csrf_failed"},
		{"setup-session without CSRF header", "/api/auth/setup-session", map[string]string{"X-CSRF-Token": ""}, "csrf_failed"},
		{"refresh from another site", "/api/auth/refresh", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "cross_site_request"},
		{"login from another site", "/api/auth/login", map[string]string{"Origin": "https://evil.example"}, "cross_site_request"},
		{"login marked cross-site", "/api/auth/login", map[string]string{"Sec-Fetch-Site": "cross-site"}, "cross_site_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if strings.HasSuffix(tt.path, "login") {
				body = map[string]string{"email": "jack@example.com", "password": "jack's password"}
			}
			if strings.HasSuffix(tt.path, "setup-session") {
				body = map[string]string{"code": "x"}
			}
			r := b.do(http.MethodPost, tt.path, body, tt.headers)
			if r.StatusCode != 403 || r.errorCode() != tt.want {
				t.Errorf("got %d %s, want 403 %s", r.StatusCode, r.body, tt.want)
			}
		})
	}
	// The frontend's own origin passes.
	if r := b.do(http.MethodPost, "/api/auth/refresh", nil, map[string]string{"Origin": testFrontend, "Sec-Fetch-Site": "same-site"}); r.StatusCode != 200 {
		t.Errorf("frontend origin: %d %s", r.StatusCode, r.body)
	}
}

func TestLogoutAndLogoutAll(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	laptop, phone := h.browser("203.0.113.19"), h.browser("203.0.113.20")
	s1 := h.signUp(laptop, "kim@example.com", "kim's password")
	s2 := h.login(phone, "kim@example.com", "kim's password")

	r := laptop.post("/api/auth/logout", nil)
	if r.StatusCode != 204 || laptop.cookie("refresh_token") != "" {
		t.Fatalf("logout: %d, cookie %q", r.StatusCode, laptop.cookie("refresh_token"))
	}
	if r := laptop.do(http.MethodGet, "/api/users/me", nil, bearer(s1.AccessToken)); r.StatusCode != 401 {
		t.Errorf("access token after logout: %d", r.StatusCode)
	}
	if r := phone.do(http.MethodGet, "/api/users/me", nil, bearer(s2.AccessToken)); r.StatusCode != 200 {
		t.Errorf("other session after logout: %d", r.StatusCode)
	}
	if r := laptop.post("/api/auth/logout", nil); r.StatusCode != 204 {
		// No cookies any more: nothing to log out, nothing to protect.
		t.Errorf("second logout without cookies: %d", r.StatusCode)
	}

	s3 := h.login(laptop, "kim@example.com", "kim's password")
	if r := phone.do(http.MethodPost, "/api/auth/logout-all", nil, bearer(s2.AccessToken)); r.StatusCode != 204 {
		t.Fatalf("logout-all: %d %s", r.StatusCode, r.body)
	}
	for name, tok := range map[string]string{"phone": s2.AccessToken, "laptop": s3.AccessToken} {
		if r := phone.do(http.MethodGet, "/api/users/me", nil, bearer(tok)); r.StatusCode != 401 {
			t.Errorf("%s after logout-all: %d", name, r.StatusCode)
		}
	}
	if r := laptop.post("/api/auth/refresh", nil); r.StatusCode != 401 {
		t.Errorf("refresh after logout-all: %d", r.StatusCode)
	}
}

func TestPasswordChangeAndReset(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	laptop, phone := h.browser("203.0.113.21"), h.browser("203.0.113.22")
	s1 := h.signUp(laptop, "lee@example.com", "lee's password")
	s2 := h.login(phone, "lee@example.com", "lee's password")

	change := func(current, next string) response {
		return laptop.do(http.MethodPost, "/api/auth/password/change", map[string]string{"current_password": current, "new_password": next}, bearer(s1.AccessToken))
	}
	if r := change("wrong", "new password 2"); r.StatusCode != 422 || !strings.Contains(string(r.body), "current_password") {
		t.Errorf("wrong current password: %d %s", r.StatusCode, r.body)
	}
	if r := change("lee's password", strings.Repeat("x", 73)); r.StatusCode != 422 {
		t.Errorf("73-byte new password: %d", r.StatusCode)
	}
	if r := change("lee's password", "new password 2"); r.StatusCode != 204 {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	if r := laptop.do(http.MethodGet, "/api/users/me", nil, bearer(s1.AccessToken)); r.StatusCode != 200 {
		t.Errorf("current session after change: %d", r.StatusCode)
	}
	if r := phone.do(http.MethodGet, "/api/users/me", nil, bearer(s2.AccessToken)); r.StatusCode != 401 {
		t.Errorf("other session after change: %d", r.StatusCode)
	}
	h.login(phone, "lee@example.com", "new password 2")

	// Reset: every session ends, the token works once.
	laptop.post("/api/auth/password/forgot", map[string]string{"email": "lee@example.com"})
	token := h.mailedToken("lee@example.com", "/auth/reset-password")
	if r := laptop.post("/api/auth/password/reset", map[string]string{"token": token, "password": "short"}); r.StatusCode != 422 {
		t.Errorf("short password: %d", r.StatusCode)
	}
	if r := laptop.post("/api/auth/password/reset", map[string]string{"token": token, "password": "reset password 3"}); r.StatusCode != 204 {
		t.Fatalf("reset: %d %s", r.StatusCode, r.body)
	}
	if r := laptop.post("/api/auth/password/reset", map[string]string{"token": token, "password": "reset password 4"}); r.StatusCode != 400 {
		t.Errorf("reset token reused: %d", r.StatusCode)
	}
	if r := laptop.do(http.MethodGet, "/api/users/me", nil, bearer(s1.AccessToken)); r.StatusCode != 401 {
		t.Errorf("session after reset: %d", r.StatusCode)
	}
	if r := phone.post("/api/auth/login", map[string]string{"email": "lee@example.com", "password": "new password 2"}); r.StatusCode != 401 {
		t.Errorf("old password after reset: %d", r.StatusCode)
	}
	h.login(phone, "lee@example.com", "reset password 3")
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event IN ('password_change', 'password_reset') AND outcome = 'success'`); n != 2 {
		t.Errorf("password events: %d", n)
	}
	// Only the newest reset link works.
	laptop.post("/api/auth/password/forgot", map[string]string{"email": "lee@example.com"})
	older := h.mailedToken("lee@example.com", "/auth/reset-password")
	time.Sleep(10 * time.Millisecond)
	laptop.post("/api/auth/password/forgot", map[string]string{"email": "lee@example.com"})
	newer := h.mailedToken("lee@example.com", "/auth/reset-password")
	if older == newer {
		t.Fatal("no second reset mail")
	}
	if r := laptop.post("/api/auth/password/reset", map[string]string{"token": older, "password": "reset password 5"}); r.StatusCode != 400 {
		t.Errorf("superseded reset token: %d", r.StatusCode)
	}
}

// TestLoginStaysLimitedWhenRedisIsDown: with Redis unreachable, login keeps
// working and keeps its limits, enforced per instance by the in-process
// fallback (see internal/ratelimit).
func TestLoginStaysLimitedWhenRedisIsDown(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{redisURL: "redis://127.0.0.1:1/0"})
	b := h.browser("203.0.113.40")
	h.signUp(b, "uma@example.com", "uma's password")
	attacker := h.browser("198.51.100.100")
	for i := range accountIPFailures {
		if r := attacker.post("/api/auth/login", map[string]string{"email": "uma@example.com", "password": "wrong guess"}); r.StatusCode != 401 {
			t.Fatalf("failure %d with Redis down: %d %s, want 401", i+1, r.StatusCode, r.body)
		}
	}
	if r := attacker.post("/api/auth/login", map[string]string{"email": "uma@example.com", "password": "wrong guess"}); r.StatusCode != 429 {
		t.Fatalf("no limit with Redis down: %d %s", r.StatusCode, r.body)
	}
	h.login(b, "uma@example.com", "uma's password")
}

func TestSessionLifetimes(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	tests := []struct{ name, expire string }{
		{"idle lifetime over", `UPDATE sessions SET created_at = now() - interval '8 days', idle_expires_at = now() - interval '1 second'`},
		{"absolute lifetime over", `UPDATE sessions SET created_at = now() - interval '31 days', absolute_expires_at = now() - interval '1 second'`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := h.browser(fmt.Sprintf("203.0.113.5%d", i))
			s := h.signUp(b, fmt.Sprintf("life%d@example.com", i), "lifetime password")
			if _, err := h.db.Exec(t.Context(), tt.expire+` WHERE id = $1`, sessionIDOf(t, s.AccessToken)); err != nil {
				t.Fatal(err)
			}
			if r := b.post("/api/auth/refresh", nil); r.StatusCode != 401 || b.cookie("refresh_token") != "" {
				t.Errorf("refresh of an ended session: %d, cookie kept: %v", r.StatusCode, b.cookie("refresh_token") != "")
			}
			if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(s.AccessToken)); r.StatusCode != 401 {
				t.Errorf("access token of an ended session: %d", r.StatusCode)
			}
		})
	}
	// A refresh moves the idle expiry forward but never past the absolute one.
	b := h.browser("203.0.113.59")
	s := h.signUp(b, "life9@example.com", "lifetime password")
	sid := sessionIDOf(t, s.AccessToken)
	h.db.Exec(t.Context(), `UPDATE sessions SET idle_expires_at = now() + interval '1 hour', absolute_expires_at = now() + interval '2 hours' WHERE id = $1`, sid)
	if r := b.post("/api/auth/refresh", nil); r.StatusCode != 200 {
		t.Fatalf("refresh: %d", r.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE id = $1 AND idle_expires_at = absolute_expires_at`, sid); n != 1 {
		t.Error("idle expiry not capped at the absolute expiry")
	}
}
