package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/social/youtubetest"
)

// connectYouTube connects the fake's channel for api's user through the
// API and returns the account id.
func connectYouTube(t *testing.T, h *handlerProcess, api *apiClient) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(target string) *http.Response {
		t.Helper()
		resp, err := browser.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	var start struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/social-accounts/youtube/connect", nil)
	req.Header.Set("Authorization", "Bearer "+api.token)
	resp, raw := api.spec.Do(t, browser, req)
	if resp.StatusCode != 200 {
		t.Fatalf("connect: %d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &start); err != nil {
		t.Fatal(err)
	}
	callback, _ := url.Parse(get(start.AuthorizeURL).Header.Get("Location"))
	if loc := get(h.URL + callback.RequestURI()).Header.Get("Location"); !strings.HasSuffix(loc, "connected=youtube") {
		t.Fatalf("callback redirected to %s", loc)
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if status := api.call(http.MethodGet, "/api/social-accounts", nil, &list); status != 200 || len(list.Items) != 1 {
		t.Fatalf("accounts: %d %+v", status, list)
	}
	return list.Items[0].ID
}

type postBody struct {
	Post struct {
		ID          string     `json:"id"`
		Status      string     `json:"status"`
		Error       *string    `json:"error"`
		ScheduledAt time.Time  `json:"scheduled_at"`
		ExternalID  *string    `json:"external_id"`
		ExternalURL *string    `json:"external_url"`
		PublishedAt *time.Time `json:"published_at"`
	} `json:"post"`
}

// waitPost polls GET /api/posts/{id} until the post is published, failed
// or cancelled.
func (c *apiClient) waitPost(id string, timeout time.Duration) postBody {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var p postBody
		if status := c.call(http.MethodGet, "/api/posts/"+id, nil, &p); status != 200 {
			c.t.Fatalf("get post: %d", status)
		}
		if p.Post.Status != "scheduled" && p.Post.Status != "publishing" {
			return p
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("post still %s after %v", p.Post.Status, timeout)
		}
		<-tick.C
	}
}

// TestPostsThroughRunAndTheLocalQueue: a post scheduled through the API is
// published by the local publish queue within 5 s of its time, with the
// blob's exact bytes; another user gets 404; a cancelled post sends
// nothing; a revoked grant ends a post failed with a reason.
func TestPostsThroughRunAndTheLocalQueue(t *testing.T) {
	fake := youtubetest.New(t)
	uploads := fake.MountUploads(t)
	env := testEnv(t)
	env["YOUTUBE_CLIENT_ID"] = fake.ClientID
	env["YOUTUBE_CLIENT_SECRET"] = fake.ClientSecret
	env["YOUTUBE_AUTH_URL"] = fake.AuthURL()
	env["YOUTUBE_TOKEN_URL"] = fake.TokenURL()
	env["YOUTUBE_REVOKE_URL"] = fake.RevokeURL()
	env["YOUTUBE_API_URL"] = fake.APIURL()
	env["YOUTUBE_UPLOAD_URL"] = uploads.URL
	env["PUBLISH_CHUNK_BYTES"] = strconv.Itoa(1 << 20)
	h := start(t, env)
	waitHealthy(t, h)
	owner := loginAs(t, h, env, "poster@example.com")
	other := loginAs(t, h, env, "other@example.com")
	account := connectYouTube(t, h, owner)
	conn := connectDB(t, env)
	store, err := blob.New(blob.Options{ConnectionString: env["AZURE_STORAGE_CONNECTION_STRING"], Container: env["BLOB_CONTAINER"]})
	if err != nil {
		t.Fatal(err)
	}
	var ownerID string
	conn.QueryRow(context.Background(), `SELECT id FROM users WHERE email = 'poster@example.com'`).Scan(&ownerID)
	data := mediatest.MP4Like(3<<20 + 777)
	videoID := storedVideo(t, conn, store, ownerID, data, nil)
	sum := sha256.Sum256(data)

	at := time.Now().Add(2 * time.Second).UTC()
	var created postBody
	if status := owner.call(http.MethodPost, "/api/posts", map[string]any{"video_id": videoID, "social_account_id": account,
		"title": "Launch", "caption": "Hello", "privacy": "unlisted", "scheduled_at": at.Format(time.RFC3339Nano)}, &created); status != 201 || created.Post.Status != "scheduled" {
		t.Fatalf("create post: %d %+v", status, created)
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/posts/" + created.Post.ID},
		{http.MethodPost, "/api/posts/" + created.Post.ID + "/cancel"},
	} {
		if status := other.call(req.method, req.path, nil, nil); status != 404 {
			t.Errorf("another user's %s %s: %d, want 404", req.method, req.path, status)
		}
	}
	var got youtubetest.Upload
	select {
	case got = <-uploads.Finished():
	case <-time.After(60 * time.Second):
		t.Fatal("nothing uploaded within 60 s")
	}
	p := owner.waitPost(created.Post.ID, 30*time.Second).Post
	if p.Status != "published" || p.ExternalID == nil || *p.ExternalID != got.VideoID || p.ExternalURL == nil || p.PublishedAt == nil {
		t.Fatalf("post %+v, want published as %s", p, got.VideoID)
	}
	if lag := p.PublishedAt.Sub(p.ScheduledAt); lag < 0 || lag > 5*time.Second {
		t.Errorf("published %v after its time, want within 5 s", lag)
	}
	if got.SHA256 != hex.EncodeToString(sum[:]) || got.Bytes != int64(len(data)) || got.Title != "Launch" || got.Privacy != "unlisted" {
		t.Errorf("the fake received %+v", got)
	}

	// Invalid: both a video and a clip, a privacy YouTube does not have.
	var invalid struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	if status := owner.call(http.MethodPost, "/api/posts", map[string]any{"video_id": videoID, "clip_id": videoID,
		"social_account_id": account, "title": "x", "privacy": "friends"}, &invalid); status != 422 ||
		invalid.Error.Fields["video_id"] == "" || invalid.Error.Fields["privacy"] == "" {
		t.Errorf("invalid post: %d %+v", status, invalid)
	}
	if status := other.call(http.MethodPost, "/api/posts", map[string]any{"video_id": videoID, "social_account_id": account,
		"title": "x"}, nil); status != 404 {
		t.Errorf("posting another user's video to another user's account: %d, want 404", status)
	}

	// Cancelled before its time: nothing is sent.
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var cancelled postBody
	owner.call(http.MethodPost, "/api/posts", map[string]any{"video_id": videoID, "social_account_id": account, "title": "Later",
		"scheduled_at": later}, &cancelled)
	if status := owner.call(http.MethodPost, "/api/posts/"+cancelled.Post.ID+"/cancel", nil, &cancelled); status != 200 || cancelled.Post.Status != "cancelled" {
		t.Fatalf("cancel: %d %+v", status, cancelled)
	}
	if status := owner.call(http.MethodPost, "/api/posts/"+cancelled.Post.ID+"/cancel", nil, nil); status != 409 {
		t.Errorf("second cancel: %d, want 409", status)
	}

	// The user revoked the grant at Google: the upload is refused.
	fake.RevokeAll()
	var revoked postBody
	owner.call(http.MethodPost, "/api/posts", map[string]any{"video_id": videoID, "social_account_id": account, "title": "Revoked"}, &revoked)
	r := owner.waitPost(revoked.Post.ID, 30*time.Second).Post
	if r.Status != "failed" || r.Error == nil || !strings.Contains(*r.Error, "reconnect") {
		t.Errorf("post after revocation: %+v", r)
	}
	if n := uploads.Sessions(); n != 1 {
		t.Errorf("%d upload sessions, want 1 (the published post only)", n)
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if status := owner.call(http.MethodGet, "/api/posts?status=cancelled", nil, &page); status != 200 || len(page.Items) != 1 || page.Items[0].ID != cancelled.Post.ID {
		t.Errorf("cancelled posts: %d %+v", status, page)
	}
}
