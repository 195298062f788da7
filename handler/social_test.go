package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social/youtubetest"
)

// TestSocialAccountsThroughRun: with YOUTUBE_* set, run offers YouTube,
// connects a channel of the fake through the API and seals its tokens
// under DATA_ENCRYPTION_KEY while DATA_ENCRYPTION_KEY_PREVIOUS is set.
func TestSocialAccountsThroughRun(t *testing.T) {
	fake := youtubetest.New(t)
	env := testEnv(t)
	env["DATA_ENCRYPTION_KEY_PREVIOUS"] = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32)))
	env["YOUTUBE_CLIENT_ID"] = fake.ClientID
	env["YOUTUBE_CLIENT_SECRET"] = fake.ClientSecret
	env["YOUTUBE_AUTH_URL"] = fake.AuthURL()
	env["YOUTUBE_TOKEN_URL"] = fake.TokenURL()
	env["YOUTUBE_REVOKE_URL"] = fake.RevokeURL()
	env["YOUTUBE_API_URL"] = fake.APIURL()
	h := start(t, env)
	api := loginAs(t, h, env, "social@example.com")

	var platforms struct {
		Platforms []struct {
			ID         string `json:"id"`
			Configured bool   `json:"configured"`
		} `json:"platforms"`
	}
	if status := api.call(http.MethodGet, "/api/social-accounts/platforms", nil, &platforms); status != 200 ||
		len(platforms.Platforms) != 1 || !platforms.Platforms[0].Configured {
		t.Fatalf("platforms: %d %+v", status, platforms)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, target string, bearer bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, target, nil)
		if bearer {
			req.Header.Set("Authorization", "Bearer "+api.token)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := send(http.MethodPost, h.URL+"/api/social-accounts/youtube/connect", true)
	var start struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	json.NewDecoder(resp.Body).Decode(&start)
	authz, _ := url.Parse(start.AuthorizeURL)
	if got, want := authz.Query().Get("redirect_uri"), "http://localhost:3000/api/social-accounts/youtube/callback"; got != want {
		t.Errorf("redirect_uri %s, want the default %s", got, want)
	}
	consent := send(http.MethodGet, start.AuthorizeURL, false)
	callback, _ := url.Parse(consent.Header.Get("Location"))
	// The frontend's origin forwards /api to the handler.
	done := send(http.MethodGet, h.URL+callback.RequestURI(), false)
	io.Copy(io.Discard, done.Body)
	if got, want := done.Header.Get("Location"), "http://localhost:3000/settings/connections?connected=youtube"; got != want {
		t.Fatalf("callback: %d to %s, want %s", done.StatusCode, got, want)
	}

	var list struct {
		Items []struct {
			ExternalID string `json:"external_id"`
		} `json:"items"`
	}
	if status := api.call(http.MethodGet, "/api/social-accounts", nil, &list); status != 200 || len(list.Items) != 1 {
		t.Fatalf("list: %d %+v", status, list)
	}
	var keyID string
	if err := connectDB(t, env).QueryRow(context.Background(), `SELECT token_key_id FROM social_accounts`).Scan(&keyID); err != nil {
		t.Fatal(err)
	}
	if want := secretbox.KeyID([]byte(strings.Repeat("k", 32))); keyID != want {
		t.Errorf("sealed under %s, want DATA_ENCRYPTION_KEY's id %s", keyID, want)
	}
}
