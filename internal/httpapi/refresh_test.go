package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// advance moves the clock forward by d.
func (c *shiftClock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// sharedJar is the one cookie jar every tab of a browser shares. A tab's
// refresh takes the jar's cookies when it is sent; the server answers it
// when the test serves it; its Set-Cookie reaches the jar only when the
// test applies it, in any order, or never (a lost response).
type sharedJar struct {
	h    *authHarness
	jar  http.CookieJar
	ip   string
	sent map[string]*http.Request
	got  map[string]response
}

// newSharedJar signs a user up in a fresh jar and returns it.
func newSharedJar(h *authHarness, ip, email string) *sharedJar {
	h.t.Helper()
	b := h.browser(ip)
	h.signUp(b, email, "a password for tabs")
	return &sharedJar{h: h, jar: b.client.Jar, ip: ip, sent: map[string]*http.Request{}, got: map[string]response{}}
}

func (j *sharedJar) refreshURL() string { return j.h.srv.URL + "/api/auth/refresh" }

func (j *sharedJar) cookie(name string) string {
	for _, c := range j.jar.Cookies(mustURL(j.refreshURL())) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// send builds tab's refresh request from what the jar holds now.
func (j *sharedJar) send(tab string) {
	j.h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, j.refreshURL(), nil)
	if err != nil {
		j.h.t.Fatal(err)
	}
	var pairs []string
	for _, c := range j.jar.Cookies(mustURL(j.refreshURL())) {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	req.Header.Set("Cookie", strings.Join(pairs, "; "))
	req.Header.Set("X-CSRF-Token", j.cookie("csrf_token"))
	req.Header.Set("X-Forwarded-For", j.ip)
	j.sent[tab] = req
}

// serve has the server answer tab's request, which must succeed.
func (j *sharedJar) serve(tab string) {
	j.h.t.Helper()
	req := j.sent[tab]
	if req == nil {
		j.h.t.Fatalf("serve %s: not sent", tab)
	}
	resp, body := j.h.spec.Do(j.h.t, http.DefaultClient, req)
	r := response{resp, body}
	if r.StatusCode != 200 {
		j.h.t.Fatalf("refresh of tab %s: %d %s", tab, r.StatusCode, r.body)
	}
	j.got[tab] = r
}

// apply lets tab's response reach the jar.
func (j *sharedJar) apply(tab string) {
	j.h.t.Helper()
	r, ok := j.got[tab]
	if !ok {
		j.h.t.Fatalf("apply %s: not served", tab)
	}
	j.jar.SetCookies(mustURL(j.refreshURL()), r.Cookies())
}

// run plays steps such as "send A", "serve A", "apply A"; "refresh A" is
// all three at once.
func (j *sharedJar) run(steps []string) {
	j.h.t.Helper()
	for _, step := range steps {
		op, tab, _ := strings.Cut(step, " ")
		switch op {
		case "send":
			j.send(tab)
		case "serve":
			j.serve(tab)
		case "apply":
			j.apply(tab)
		case "refresh":
			j.send(tab)
			j.serve(tab)
			j.apply(tab)
		default:
			j.h.t.Fatalf("unknown step %q", step)
		}
	}
}

// noReuse checks that no session was revoked and no reuse audited.
func (h *authHarness) noReuse(t *testing.T) {
	t.Helper()
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL`); n != 0 {
		t.Errorf("%d sessions revoked", n)
	}
	if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'refresh_token_reuse'`); n != 0 {
		t.Errorf("%d reuse events audited", n)
	}
}

const tabGrace = 10 * time.Second

// Tabs share one cookie jar and their refresh responses arrive in any
// order, or not at all. Whatever cookie the jar holds once the responses
// are in must keep working: later (past the grace window, at the next
// access-token expiry) and after that. No interleaving may revoke the
// session or audit a reuse.
func TestRefreshInterleavingsLeaveAWorkingCookie(t *testing.T) {
	tests := []struct {
		name  string
		steps []string
	}{
		{"two tabs, responses in order", []string{"send A", "send B", "serve A", "serve B", "apply A", "apply B"}},
		{"two tabs, responses in reverse order", []string{"send A", "send B", "serve A", "serve B", "apply B", "apply A"}},
		{"two tabs, the rotating response lost", []string{"send A", "send B", "serve A", "serve B", "apply B"}},
		{"two tabs, the second response lost", []string{"send A", "send B", "serve A", "serve B", "apply A"}},
		{"one tab, response lost, retried", []string{"send A", "serve A", "refresh A2"}},
		{"one tab, response lost, retried twice, first retry lost", []string{"send A", "serve A", "send A2", "serve A2", "refresh A3"}},
		// A third refresh (a reload) while the second tab's response is
		// still on its way: that response, arriving last, must not hold a
		// cookie the third refresh has rotated away.
		{"a reload before the other tab's response arrives", []string{"send A", "send B", "serve A", "serve B", "apply A", "refresh C", "apply B"}},
		// The second tab's request reaches the server after a reload has
		// been served: its cookie must still be honoured.
		{"a reload before the other tab's request is served", []string{"send A", "send B", "serve A", "apply A", "refresh C", "serve B", "apply B"}},
		{"a reload, then both late responses in reverse order", []string{"send A", "send B", "serve A", "serve B", "refresh C", "apply B", "apply A"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &shiftClock{}
			h := newAuthHarness(t, harnessOptions{grace: tabGrace, now: clock.Now})
			j := newSharedJar(h, "203.0.113.90", "tabs"+string(rune('a'+i))+"@example.com")
			clock.advance(15 * time.Minute) // the access token from login expired
			j.run(tt.steps)
			h.noReuse(t)
			for k := range 3 {
				clock.advance(15 * time.Minute) // past any grace window
				j.run([]string{"refresh later" + string(rune('0'+k))})
				if j.cookie("refresh_token") == "" {
					t.Fatal("the jar lost its refresh cookie")
				}
			}
			h.noReuse(t)
		})
	}
}

// Only a token presented after its grace window has passed is reuse: it
// revokes the session and is audited. That holds for a token a tab was
// given for an earlier one within the grace window, too.
func TestRefreshTokenPresentedAfterGraceIsReuse(t *testing.T) {
	tests := []struct {
		name  string
		steps []string
		old   string // the tab whose cookie is presented late
		sent  bool   // old names the token tab sent (else the one it got)
	}{
		{"a rotated token", []string{"refresh A"}, "A", true},
		{"the token a second tab got", []string{"send A", "send B", "serve A", "serve B", "apply A", "refresh C"}, "B", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &shiftClock{}
			h := newAuthHarness(t, harnessOptions{grace: tabGrace, now: clock.Now})
			j := newSharedJar(h, "203.0.113.91", "late@example.com")
			clock.advance(15 * time.Minute)
			j.run(tt.steps[:len(tt.steps)-1])
			clock.advance(15 * time.Minute)
			j.run(tt.steps[len(tt.steps)-1:])
			var stale string
			if tt.sent {
				stale = cookieValue(j.sent[tt.old].Header.Get("Cookie"), "refresh_token")
			} else {
				stale = responseCookie(j.got[tt.old], "refresh_token")
			}
			if stale == "" || stale == j.cookie("refresh_token") {
				t.Fatalf("no stale token to present (%q)", stale)
			}
			clock.advance(tabGrace + time.Second)
			if r := h.refreshWith(stale, j.cookie("csrf_token")); r.StatusCode != 401 || r.errorCode() != "invalid_session" {
				t.Fatalf("stale token after its grace: %d %s", r.StatusCode, r.body)
			}
			if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_reason = 'refresh_token_reuse'`); n != 1 {
				t.Errorf("sessions revoked for reuse: %d, want 1", n)
			}
			if n := h.count(`SELECT count(*) FROM auth_events WHERE event = 'refresh_token_reuse' AND outcome = 'failure'`); n != 1 {
				t.Errorf("reuse events: %d, want 1", n)
			}
			j.send("after")
			if r, _ := h.spec.Do(t, http.DefaultClient, j.sent["after"]); r.StatusCode != 401 {
				t.Errorf("the jar's token after reuse: %d", r.StatusCode)
			}
		})
	}
}

func cookieValue(header, name string) string {
	for _, pair := range strings.Split(header, "; ") {
		if k, v, _ := strings.Cut(pair, "="); k == name {
			return v
		}
	}
	return ""
}

func responseCookie(r response, name string) string {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// The reported failure: the refresh fails while reading the user (here the
// users table is briefly gone, so the request answers 500). The browser
// keeps its old cookie; retried at once or only at the next access-token
// expiry, that cookie must still work, and nothing is audited as reuse.
func TestRefreshFailingMidwayKeepsTheOldCookie(t *testing.T) {
	for _, retry := range []bool{true, false} {
		name := "next refresh 15 minutes later"
		if retry {
			name = "retried at once"
		}
		t.Run(name, func(t *testing.T) {
			clock := &shiftClock{}
			h := newAuthHarness(t, harnessOptions{grace: tabGrace, now: clock.Now})
			j := newSharedJar(h, "203.0.113.92", "midway@example.com")
			clock.advance(15 * time.Minute)
			if _, err := h.db.Exec(t.Context(), `ALTER TABLE users RENAME TO users_away`); err != nil {
				t.Fatal(err)
			}
			j.send("A")
			// Not checked against the spec: it leaves 500 undocumented.
			r, err := http.DefaultClient.Do(j.sent["A"])
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if _, err := h.db.Exec(t.Context(), `ALTER TABLE users_away RENAME TO users`); err != nil {
				t.Fatal(err)
			}
			if r.StatusCode != 500 {
				t.Fatalf("refresh without a users table: %d, want 500", r.StatusCode)
			}
			if retry {
				j.run([]string{"refresh A2"})
			}
			for k := range 2 {
				clock.advance(15 * time.Minute)
				j.run([]string{"refresh later" + string(rune('0'+k))})
			}
			h.noReuse(t)
		})
	}
}
