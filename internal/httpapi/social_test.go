package httpapi_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/videofn/videofn/internal/testenv"
)

type socialAccountJSON struct {
	ID          string   `json:"id"`
	Platform    string   `json:"platform"`
	ExternalID  string   `json:"external_id"`
	DisplayName string   `json:"display_name"`
	AvatarURL   string   `json:"avatar_url"`
	Scopes      []string `json:"scopes"`
	Status      string   `json:"status"`
}

// connectYouTube runs the whole flow from the user's browser: connect,
// the fake's consent (approves at once), the callback. It returns the
// callback's redirect to the frontend and the callback's request URI.
func connectYouTube(t *testing.T, h *authHarness, u videoUser) (frontend, callback string) {
	t.Helper()
	r := u.do(http.MethodPost, "/api/social-accounts/youtube/connect", nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("connect: %d %s", r.StatusCode, r.body)
	}
	var start struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	r.json(t, &start)
	if !strings.HasPrefix(start.AuthorizeURL, h.youtube.AuthURL()+"?") {
		t.Fatalf("authorize_url %s", start.AuthorizeURL)
	}
	resp, err := u.b.client.Get(start.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("consent: %d %v", resp.StatusCode, err)
	}
	cb := u.b.do(http.MethodGet, loc.RequestURI(), nil, nil)
	if cb.StatusCode != http.StatusFound {
		t.Fatalf("callback: %d %s", cb.StatusCode, cb.body)
	}
	return cb.Header.Get("Location"), loc.RequestURI()
}

func TestSocialAccountsThroughTheAPI(t *testing.T) {
	logs := &testenv.Logs{}
	h := newAuthHarness(t, harnessOptions{social: &socialOptions{logs: logs}})
	ann := h.newVideoUser("ann@example.com")
	bob := h.newVideoUser("bob@example.com")

	r := ann.do(http.MethodGet, "/api/social-accounts/platforms", nil)
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `{"id":"youtube","name":"YouTube","configured":true}`) {
		t.Fatalf("platforms: %d %s", r.StatusCode, r.body)
	}
	if r := ann.b.do(http.MethodGet, "/api/social-accounts", nil, nil); r.StatusCode != 401 {
		t.Errorf("list without a token: %d", r.StatusCode)
	}
	if r := ann.do(http.MethodPost, "/api/social-accounts/myspace/connect", nil); r.StatusCode != 404 {
		t.Errorf("unknown platform: %d", r.StatusCode)
	}

	front, callback := connectYouTube(t, h, ann)
	if front != testFrontend+"/settings/connections?connected=youtube" {
		t.Fatalf("callback redirected to %s", front)
	}
	// Used once: the same callback again is refused.
	if r := ann.b.do(http.MethodGet, callback, nil, nil); r.Header.Get("Location") != testFrontend+"/settings/connections?error=invalid_state" {
		t.Errorf("replayed callback: %s", r.Header.Get("Location"))
	}

	r = ann.do(http.MethodGet, "/api/social-accounts", nil)
	var list struct{ Items []socialAccountJSON }
	r.json(t, &list)
	if r.StatusCode != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %s", r.StatusCode, r.body)
	}
	acct := list.Items[0]
	if acct.Platform != "youtube" || acct.ExternalID == "" || acct.DisplayName != "Fake Channel" || acct.Status != "active" || len(acct.Scopes) == 0 {
		t.Errorf("account: %+v", acct)
	}
	tokens := h.youtube.IssuedTokens()
	for _, tok := range tokens {
		if bytes.Contains(r.body, []byte(tok)) {
			t.Error("the list holds a token")
		}
	}

	// Bob sees nothing of it and cannot delete it.
	r = bob.do(http.MethodGet, "/api/social-accounts", nil)
	if r.StatusCode != 200 || strings.Contains(string(r.body), acct.ID) {
		t.Errorf("bob's list: %d %s", r.StatusCode, r.body)
	}
	if r := bob.do(http.MethodDelete, "/api/social-accounts/"+acct.ID, nil); r.StatusCode != 404 {
		t.Errorf("bob's delete: %d", r.StatusCode)
	}
	if r := ann.do(http.MethodDelete, "/api/social-accounts/"+strings.ToUpper(acct.ID), nil); r.StatusCode != 404 {
		t.Errorf("non-canonical id: %d", r.StatusCode)
	}
	if len(h.youtube.Revoked()) != 0 {
		t.Fatal("revoked before the owner disconnected")
	}

	// A consent URL from Ann's flow, completed in Bob's browser (which has
	// no state cookie), connects nothing.
	r = ann.do(http.MethodPost, "/api/social-accounts/youtube/connect", nil)
	var start struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	r.json(t, &start)
	resp, err := bob.b.client.Get(start.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if r := bob.b.do(http.MethodGet, loc.RequestURI(), nil, nil); r.Header.Get("Location") != testFrontend+"/settings/connections?error=invalid_state" {
		t.Errorf("callback in another browser: %s", r.Header.Get("Location"))
	}

	if r := ann.do(http.MethodDelete, "/api/social-accounts/"+acct.ID, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if revoked := h.youtube.Revoked(); len(revoked) != 1 {
		t.Errorf("revoked %d tokens, want 1", len(revoked))
	}
	if r := ann.do(http.MethodGet, "/api/social-accounts", nil); strings.Contains(string(r.body), acct.ID) {
		t.Errorf("still listed: %s", r.body)
	}
	if r := ann.do(http.MethodDelete, "/api/social-accounts/"+acct.ID, nil); r.StatusCode != 404 {
		t.Errorf("second delete: %d", r.StatusCode)
	}

	out := logs.String()
	if !strings.Contains(out, "/api/social-accounts") {
		t.Fatal("nothing logged; is the log captured?")
	}
	for _, tok := range tokens {
		if strings.Contains(out, tok) {
			t.Error("the logs hold a token")
		}
	}
	if strings.Contains(out, h.youtube.ClientSecret) {
		t.Error("the logs hold the client secret")
	}
}
