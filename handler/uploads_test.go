package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
)

// postJSON sends a JSON request with an optional bearer token and decodes
// the JSON answer into out (when not nil).
func postJSON(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// verifiedUser inserts a user with a verified email and logs in.
func verifiedUser(t *testing.T, h *handlerProcess, dbURL, email string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse battery"), 4)
	if _, err := conn.Exec(ctx, `INSERT INTO users (email, password_hash, email_verified_at) VALUES ($1, $2, now())`, email, string(hash)); err != nil {
		t.Fatal(err)
	}
	var s struct {
		AccessToken string `json:"access_token"`
	}
	if status := postJSON(t, http.MethodPost, h.URL+"/api/auth/login", "", map[string]string{"email": email, "password": "correct horse battery"}, &s); status != 200 {
		t.Fatalf("login: %d", status)
	}
	return s.AccessToken
}

// preflight asks storage whether a page on origin may PUT a block to u.
func preflight(t *testing.T, u, origin string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, u, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-ms-blob-content-type,x-ms-blob-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin")
}

// TestBrowserUploadThroughTheHandler runs a direct upload against the
// handler as main wires it: storage by connection string (shared-key SAS)
// with CORS set up for the frontend's origins.
func TestBrowserUploadThroughTheHandler(t *testing.T) {
	env := testEnv(t)
	env["ALLOWED_ORIGINS"] = "http://localhost:3001"
	h := start(t, env)
	waitHealthy(t, h)
	token := verifiedUser(t, h, env["DATABASE_URL"], "u@example.com")
	mp4 := mediatest.Video(t, "mp4")

	var up struct {
		VideoID   string `json:"video_id"`
		UploadURL string `json:"upload_url"`
	}
	if status := postJSON(t, http.MethodPost, h.URL+"/api/uploads", token,
		map[string]any{"filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": len(mp4)}, &up); status != 201 {
		t.Fatalf("POST /api/uploads: %d", status)
	}

	// CORS is set in the background at start: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for _, origin := range []string{"http://localhost:3000", "http://localhost:3001"} {
		for {
			status, allowed := preflight(t, up.UploadURL+"&comp=block&blockid=YmxvY2stMDAwMDAw", origin)
			if status == 200 && allowed == origin {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("preflight from %s: %d, Access-Control-Allow-Origin %q\nlogs:\n%s", origin, status, allowed, h.logs.all())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if status, allowed := preflight(t, up.UploadURL, "http://evil.example"); status == 200 || allowed != "" {
		t.Errorf("preflight from another origin: %d %q", status, allowed)
	}

	if status, body, err := mediatest.Upload(http.DefaultClient, up.UploadURL, mp4, 4096, "video/mp4"); status != 201 {
		t.Fatalf("upload: %d %v %s", status, err, body)
	}
	var done struct{ Video struct{ Status string } }
	if status := postJSON(t, http.MethodPost, h.URL+"/api/uploads/"+up.VideoID+"/complete", token, nil, &done); status != 200 || done.Video.Status != "ready" {
		t.Fatalf("complete: %d %+v", status, done)
	}
	var got struct {
		Video struct {
			PlaybackURL string `json:"playback_url"`
		}
	}
	if status := postJSON(t, http.MethodGet, h.URL+"/api/videos/"+up.VideoID, token, nil, &got); status != 200 {
		t.Fatalf("GET video: %d", status)
	}
	status, ctype, body, err := mediatest.Get(http.DefaultClient, got.Video.PlaybackURL)
	if err != nil || status != 200 || ctype != "video/mp4" || !bytes.Equal(body, mp4) {
		t.Errorf("playback: %d %q %d bytes %v", status, ctype, len(body), err)
	}
}

func TestSweeperRemovesStaleUploads(t *testing.T) {
	env := testEnv(t)
	h := start(t, env)
	waitHealthy(t, h)
	ctx := context.Background()
	conn := connectDB(t, env)
	store, err := blob.New(blob.Options{ConnectionString: env["AZURE_STORAGE_CONNECTION_STRING"], Container: env["BLOB_CONTAINER"]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Container().Delete(context.Background(), nil) })

	var userID string
	if err := conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('s@example.com') RETURNING id`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	// Two pending uploads with their blobs: one abandoned an hour ago, one
	// whose upload URL is still valid.
	insert := func(age string) (videoID, name string) {
		t.Helper()
		err := conn.QueryRow(ctx, `INSERT INTO videos (user_id, title, source, status, content_type, size_bytes, created_at, updated_at)
			VALUES ($1, 'v.mp4', 'upload', 'pending_upload', 'video/mp4', 5, now() - $2::interval, now() - $2::interval) RETURNING id`,
			userID, age).Scan(&videoID)
		if err != nil {
			t.Fatal(err)
		}
		name = userID + "/" + videoID + "/source"
		if _, err := conn.Exec(ctx, `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
			VALUES ($1, $2, 'source', $3, $4, 'video/mp4', 5)`, userID, videoID, env["BLOB_CONTAINER"], name); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Container().NewBlockBlobClient(name).UploadBuffer(ctx, []byte("bytes"), nil); err != nil {
			t.Fatal(err)
		}
		return videoID, name
	}
	stale, staleBlob := insert("1 hour")
	fresh, freshBlob := insert("1 minute")

	envelope := `{"Data":{"timer":{"IsPastDue":true}},"Metadata":{"sys":{"MethodName":"import-sweeper","UtcNow":"\"2026-11-25T21:05:00\"","RandGuid":"\"1\""}}}`
	resp, err := http.Post(h.URL+"/import-sweeper", "application/json", strings.NewReader(envelope))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "removed 1 stale uploads") {
		t.Fatalf("sweep: %d %s", resp.StatusCode, b)
	}
	var videos []string
	rows, _ := conn.Query(ctx, `SELECT id::text FROM videos`)
	if videos, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(videos) != 1 || videos[0] != fresh {
		t.Errorf("videos left: %v %v; want only %s (not %s)", videos, err, fresh, stale)
	}
	exists := func(name string) bool {
		_, err := store.Container().NewBlobClient(name).GetProperties(ctx, nil)
		return err == nil
	}
	if exists(staleBlob) || !exists(freshBlob) {
		t.Errorf("blobs: stale kept %v, fresh kept %v; want false, true", exists(staleBlob), exists(freshBlob))
	}
}
