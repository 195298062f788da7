package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/ratelimit"
	"github.com/videofn/videofn/internal/testenv"
)

// mediaOptions configure the media part of the auth harness.
type mediaOptions struct {
	uploadMaxBytes int64 // default 1 MiB
	quotaBytes     int64 // default 4 MiB
	uploadLimit    ratelimit.Limit
	limiter        ratelimit.Checker // set by the harness (its Redis)
}

// mediaHarness is the media service wired as the handler wires it, on a
// fresh Azurite container, with a clock tests can move.
type mediaHarness struct {
	svc   *media.Service
	store *blob.Store
	clock *shiftClock
}

func newMediaHarness(t testing.TB, db *postgres.DB, o mediaOptions) *mediaHarness {
	t.Helper()
	if o.uploadMaxBytes == 0 {
		o.uploadMaxBytes = 1 << 20
	}
	if o.quotaBytes == 0 {
		o.quotaBytes = 4 << 20
	}
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureContainer(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Container().Delete(context.Background(), nil) })
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &shiftClock{}
	svc := media.NewService(media.Options{
		Container: store.ContainerName(), UploadMaxBytes: o.uploadMaxBytes, QuotaBytes: o.quotaBytes, Now: clock.Now,
		Limiter: o.limiter, UploadLimit: o.uploadLimit,
	}, postgres.VideoStore{DB: db}, signer, store)
	return &mediaHarness{svc: svc, store: store, clock: clock}
}

func (m *mediaHarness) service() *media.Service {
	if m == nil {
		return nil
	}
	return m.svc
}

// blobExists reports whether a blob is stored under name.
func (m *mediaHarness) blobExists(t *testing.T, name string) bool {
	t.Helper()
	_, _, err := m.store.Inspect(context.Background(), name, "", 0)
	if errors.Is(err, media.ErrBlobNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// shiftClock is time.Now moved by an offset the test sets.
type shiftClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *shiftClock) set(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

func newVideoHarness(t *testing.T, o mediaOptions) *authHarness {
	t.Helper()
	return newAuthHarness(t, harnessOptions{media: &o})
}

// videoUser is a signed-up user with a browser.
type videoUser struct {
	b     *browser
	id    string
	token string
}

func (h *authHarness) newVideoUser(email string) videoUser {
	h.t.Helper()
	b := h.browser("203.0.113.50")
	s := h.signUp(b, email, "correct horse battery")
	return videoUser{b: b, id: s.User.ID, token: s.AccessToken}
}

func (u videoUser) do(method, path string, body any) response {
	u.b.h.t.Helper()
	return u.b.do(method, path, body, bearer(u.token))
}

type uploadJSON struct {
	VideoID   string    `json:"video_id"`
	UploadURL string    `json:"upload_url"`
	ExpiresAt time.Time `json:"expires_at"`
	BlockSize int       `json:"block_size_bytes"`
}

type videoJSON struct {
	ID                string     `json:"id"`
	Title             string     `json:"title"`
	Source            string     `json:"source"`
	Status            string     `json:"status"`
	Error             *string    `json:"error"`
	ContentType       *string    `json:"content_type"`
	SizeBytes         *int64     `json:"size_bytes"`
	CreatedAt         time.Time  `json:"created_at"`
	PlaybackURL       string     `json:"playback_url"`
	PlaybackExpiresAt *time.Time `json:"playback_expires_at"`
}

type listJSON struct {
	Items      []videoJSON `json:"items"`
	NextCursor *string     `json:"next_cursor"`
}

func (u videoUser) startUpload(filename, contentType string, size int) uploadJSON {
	u.b.h.t.Helper()
	r := u.do(http.MethodPost, "/api/uploads", map[string]any{"filename": filename, "content_type": contentType, "size_bytes": size})
	if r.StatusCode != http.StatusCreated {
		u.b.h.t.Fatalf("POST /api/uploads: %d %s", r.StatusCode, r.body)
	}
	var up uploadJSON
	r.json(u.b.h.t, &up)
	return up
}

func (u videoUser) video(id string) (int, videoJSON) {
	u.b.h.t.Helper()
	r := u.do(http.MethodGet, "/api/videos/"+id, nil)
	var v struct{ Video videoJSON }
	if r.StatusCode == http.StatusOK {
		r.json(u.b.h.t, &v)
	}
	return r.StatusCode, v.Video
}

func (u videoUser) complete(id string) response {
	u.b.h.t.Helper()
	return u.do(http.MethodPost, "/api/uploads/"+id+"/complete", nil)
}

// uploadFile sends data to the upload URL in 4 KiB blocks.
func uploadFile(t *testing.T, up uploadJSON, data []byte, contentType string) {
	t.Helper()
	status, body, err := mediatest.Upload(http.DefaultClient, up.UploadURL, data, 4096, contentType)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("upload to storage: %d %v %s", status, err, body)
	}
}

func blobNameOf(u videoUser, up uploadJSON) string { return u.id + "/" + up.VideoID + "/source" }

func TestUploadCompleteListPlayDelete(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4")

	before := time.Now()
	up := alice.startUpload("C:\\Users\\alice\\Holiday.mp4", "video/mp4", len(mp4))
	if up.BlockSize != 8<<20 {
		t.Errorf("block_size_bytes %d, want 8 MiB", up.BlockSize)
	}
	if up.ExpiresAt.Before(before.Add(14*time.Minute)) || up.ExpiresAt.After(time.Now().Add(15*time.Minute)) {
		t.Errorf("expires_at %s is not ~15 minutes away", up.ExpiresAt)
	}
	u, err := url.Parse(up.UploadURL)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/" + blobNameOf(alice, up); !strings.HasSuffix(u.Path, want) {
		t.Errorf("upload URL path %s, want the server-chosen name %s", u.Path, want)
	}
	if q := u.Query(); q.Get("sp") != "cw" || q.Get("sr") != "b" || q.Get("se") != up.ExpiresAt.UTC().Format(time.RFC3339) {
		t.Errorf("upload SAS %s: want sp=cw sr=b se=expires_at", u.RawQuery)
	}

	status, v := alice.video(up.VideoID)
	if status != 200 || v.Status != "pending_upload" || v.Title != "Holiday.mp4" || v.Source != "upload" || v.PlaybackURL != "" {
		t.Fatalf("pending video: %d %+v", status, v)
	}
	if r := alice.complete(up.VideoID); r.StatusCode != 409 || r.errorCode() != "upload_incomplete" {
		t.Fatalf("complete before the upload: %d %s", r.StatusCode, r.body)
	}

	uploadFile(t, up, mp4, "video/mp4")
	r := alice.complete(up.VideoID)
	if r.StatusCode != 200 {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	var done struct{ Video videoJSON }
	r.json(t, &done)
	if done.Video.Status != "ready" || *done.Video.SizeBytes != int64(len(mp4)) || *done.Video.ContentType != "video/mp4" || done.Video.Error != nil {
		t.Errorf("completed video: %s", r.body)
	}
	if again := alice.complete(up.VideoID); again.StatusCode != 200 || string(again.body) != string(r.body) {
		t.Errorf("completing again: %d %s, want the same answer", again.StatusCode, again.body)
	}

	r = alice.do(http.MethodGet, "/api/videos", nil)
	var list listJSON
	r.json(t, &list)
	if r.StatusCode != 200 || len(list.Items) != 1 || list.Items[0].ID != up.VideoID || list.NextCursor != nil || list.Items[0].PlaybackURL != "" {
		t.Errorf("list: %d %s", r.StatusCode, r.body)
	}

	status, v = alice.video(up.VideoID)
	if status != 200 || v.PlaybackURL == "" || v.PlaybackExpiresAt == nil || v.PlaybackExpiresAt.After(time.Now().Add(31*time.Minute)) {
		t.Fatalf("ready video: %d %+v", status, v)
	}
	if q := mustURL(v.PlaybackURL).Query(); q.Get("sp") != "r" || q.Get("sr") != "bs" || q.Get("snapshot") == "" {
		t.Errorf("playback URL %s: want sp=r for the checked snapshot (sr=bs)", mustURL(v.PlaybackURL).RawQuery)
	}
	status, ctype, got, err := mediatest.Get(http.DefaultClient, v.PlaybackURL)
	if err != nil || status != 200 || ctype != "video/mp4" || string(got) != string(mp4) {
		t.Fatalf("playback: %d %q %d bytes (want %d) %v", status, ctype, len(got), len(mp4), err)
	}
	if status, _, _ := mediatest.PutBlob(http.DefaultClient, v.PlaybackURL, []byte("x")); status != http.StatusForbidden {
		t.Errorf("write with the playback URL: %d, want 403", status)
	}

	for i := range 2 { // idempotent
		if r := alice.do(http.MethodDelete, "/api/videos/"+up.VideoID, nil); r.StatusCode != 204 {
			t.Fatalf("delete #%d: %d %s", i+1, r.StatusCode, r.body)
		}
	}
	if h.media.blobExists(t, blobNameOf(alice, up)) {
		t.Error("blob still stored after delete")
	}
	if status, _ := alice.video(up.VideoID); status != 404 {
		t.Errorf("GET after delete: %d", status)
	}
	r = alice.do(http.MethodGet, "/api/videos", nil)
	if r.json(t, &list); len(list.Items) != 0 {
		t.Errorf("list after delete: %s", r.body)
	}
	// Its upload URL is still valid, so the rows wait hidden for the sweeper,
	// which also removes anything written through the URL meanwhile.
	if status, _, _ := mediatest.PutBlob(http.DefaultClient, up.UploadURL, mp4); status != 201 {
		t.Fatalf("rewrite with the still-valid upload URL: %d", status)
	}
	if n := h.count(`SELECT count(*) FROM videos WHERE status = 'cancelled'`); n != 1 {
		t.Errorf("%d hidden videos, want 1", n)
	}
	if n := h.count(`SELECT count(*) FROM file_storage WHERE size_bytes > 0`); n != 0 {
		t.Errorf("a deleted video still counts against the quota")
	}
	if _, err := h.media.svc.SweepUploads(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := h.count(`SELECT count(*) FROM videos`); n != 0 {
		t.Errorf("%d videos left after the sweep", n)
	}
	if h.media.blobExists(t, blobNameOf(alice, up)) {
		t.Error("the blob written after deletion survived the sweep")
	}
}

func TestDeleteAfterTheUploadURLExpiredRemovesRowsAtOnce(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "webm")
	up := alice.startUpload("a.webm", "video/webm", len(mp4))
	uploadFile(t, up, mp4, "video/webm")
	if r := alice.complete(up.VideoID); r.StatusCode != 200 {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	h.media.clock.set(time.Hour)
	if r := alice.do(http.MethodDelete, "/api/videos/"+up.VideoID, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if n := h.count(`SELECT count(*) FROM videos`) + h.count(`SELECT count(*) FROM file_storage`); n != 0 {
		t.Errorf("%d rows left", n)
	}
	if h.media.blobExists(t, blobNameOf(alice, up)) {
		t.Error("blob left")
	}
}

func TestUploadURLCanOnlyWriteItsBlob(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice, bob := h.newVideoUser("alice@example.com"), h.newVideoUser("bob@example.com")
	mp4 := mediatest.Video(t, "mp4")
	a := alice.startUpload("a.mp4", "video/mp4", len(mp4))
	b := bob.startUpload("b.mp4", "video/mp4", len(mp4))
	uploadFile(t, b, mp4, "video/mp4")

	aURL := mustURL(a.UploadURL)
	sasQuery := aURL.RawQuery
	containerURL := strings.TrimSuffix(a.UploadURL[:strings.Index(a.UploadURL, "?")], "/"+blobNameOf(alice, a))
	tests := []struct {
		name, method, url string
	}{
		{"read its blob", http.MethodGet, a.UploadURL},
		{"read bob's blob", http.MethodGet, containerURL + "/" + blobNameOf(bob, b) + "?" + sasQuery},
		{"overwrite bob's blob", http.MethodPut, containerURL + "/" + blobNameOf(bob, b) + "?" + sasQuery},
		{"write a blob of its own naming", http.MethodPut, containerURL + "/" + alice.id + "/other?" + sasQuery},
		{"list the container", http.MethodGet, containerURL + "?restype=container&comp=list&" + sasQuery},
		{"delete", http.MethodDelete, a.UploadURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader("not a video"))
			req.Header.Set("x-ms-blob-type", "BlockBlob")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%d, want 403", resp.StatusCode)
			}
		})
	}
	if r := bob.complete(b.VideoID); r.StatusCode != 200 {
		t.Errorf("bob's upload was damaged: %d %s", r.StatusCode, r.body)
	}
}

func TestExpiredUploadURLIsRefused(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4")
	h.media.clock.set(-time.Hour) // issued an hour ago: expired 45 minutes ago
	up := alice.startUpload("a.mp4", "video/mp4", len(mp4))
	h.media.clock.set(0)
	if !up.ExpiresAt.Before(time.Now()) {
		t.Fatalf("expires_at %s is not in the past", up.ExpiresAt)
	}
	if status, _, _ := mediatest.PutBlob(http.DefaultClient, up.UploadURL, mp4); status != http.StatusForbidden {
		t.Errorf("expired upload URL: %d, want 403", status)
	}
	// A renewed URL for the same blob works.
	r := alice.do(http.MethodPost, "/api/uploads/"+up.VideoID+"/renew", nil)
	var renewed uploadJSON
	r.json(t, &renewed)
	if r.StatusCode != 200 || renewed.VideoID != up.VideoID || !renewed.ExpiresAt.After(time.Now()) {
		t.Fatalf("renew: %d %s", r.StatusCode, r.body)
	}
	uploadFile(t, renewed, mp4, "video/mp4")
	if r := alice.complete(up.VideoID); r.StatusCode != 200 {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	if r := alice.do(http.MethodPost, "/api/uploads/"+up.VideoID+"/renew", nil); r.StatusCode != 409 || r.errorCode() != "upload_closed" {
		t.Errorf("renew after completion: %d %s", r.StatusCode, r.body)
	}
}

func TestStartUploadValidation(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{uploadMaxBytes: 1000})
	alice := h.newVideoUser("alice@example.com")
	tests := []struct {
		name       string
		body       any
		headers    map[string]string
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"not a video type", map[string]any{"filename": "a.html", "content_type": "text/html", "size_bytes": 10}, nil, 422, "validation_failed", "content_type"},
		{"image", map[string]any{"filename": "a.png", "content_type": "image/png", "size_bytes": 10}, nil, 422, "validation_failed", "content_type"},
		{"over the upload cap", map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 1001}, nil, 422, "validation_failed", "size_bytes"},
		{"zero bytes", map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 0}, nil, 422, "validation_failed", "size_bytes"},
		{"no filename", map[string]any{"content_type": "video/mp4", "size_bytes": 10}, nil, 422, "validation_failed", "filename"},
		{"control characters", map[string]any{"filename": "a\u0000.mp4", "content_type": "video/mp4", "size_bytes": 10}, nil, 422, "validation_failed", "filename"},
		{"size as text", map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": "10"}, nil, 400, "malformed_json", ""},
		{"unknown field", map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10, "blob_name": "x"}, nil, 400, "unknown_field", ""},
		{"not JSON", map[string]any{}, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", ""},
		{"no token", map[string]any{"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 10}, map[string]string{"Authorization": ""}, 401, "unauthorized", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := bearer(alice.token)
			for k, v := range tt.headers {
				headers[k] = v
			}
			r := alice.b.do(http.MethodPost, "/api/uploads", tt.body, headers)
			if r.StatusCode != tt.wantStatus || r.errorCode() != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.body, tt.wantStatus, tt.wantCode)
			}
			if tt.wantField != "" {
				var e struct {
					Error struct{ Fields map[string]string }
				}
				r.json(t, &e)
				if e.Error.Fields[tt.wantField] == "" {
					t.Errorf("no problem reported for %s: %s", tt.wantField, r.body)
				}
			}
		})
	}
	if n := h.count(`SELECT count(*) FROM videos`); n != 0 {
		t.Errorf("%d videos created by invalid requests", n)
	}
}

func TestCompletionRefusesWhatIsNotTheDeclaredVideo(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4")
	tests := []struct {
		name       string
		declared   int
		data       []byte
		wantReason string
	}{
		{"larger than declared", len(mp4) - 100, mp4, "more than the"},
		{"html declared as mp4", 1000, []byte(strings.Repeat("<html><script>alert(1)</script></html>", 20)), "not a video"},
		{"text", 1000, []byte(strings.Repeat("plain text ", 50)), "not a video"},
		{"empty", 1000, nil, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := alice.startUpload("v.mp4", "video/mp4", tt.declared)
			if status, body, err := mediatest.PutBlob(http.DefaultClient, up.UploadURL, tt.data); status != 201 {
				t.Fatalf("put: %d %v %s", status, err, body)
			}
			r := alice.complete(up.VideoID)
			if r.StatusCode != 422 || r.errorCode() != "upload_rejected" || !strings.Contains(string(r.body), tt.wantReason) {
				t.Fatalf("complete: %d %s, want 422 upload_rejected mentioning %q", r.StatusCode, r.body, tt.wantReason)
			}
			if h.media.blobExists(t, blobNameOf(alice, up)) {
				t.Error("refused blob not deleted")
			}
			status, v := alice.video(up.VideoID)
			if status != 200 || v.Status != "failed" || v.Error == nil || !strings.Contains(*v.Error, tt.wantReason) || v.PlaybackURL != "" {
				t.Errorf("video after refusal: %d %+v", status, v)
			}
			if again := alice.complete(up.VideoID); again.StatusCode != 422 || string(again.body) != string(r.body) {
				t.Errorf("completing again: %d %s", again.StatusCode, again.body)
			}
		})
	}
	if n := h.count(`SELECT coalesce(sum(size_bytes), 0) FROM file_storage`); n != 0 {
		t.Errorf("refused uploads still reserve %d bytes of the quota", n)
	}
}

func TestAnotherUsersVideoIsInvisible(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice, bob := h.newVideoUser("alice@example.com"), h.newVideoUser("bob@example.com")
	mp4 := mediatest.Video(t, "mp4")
	up := alice.startUpload("a.mp4", "video/mp4", len(mp4))
	uploadFile(t, up, mp4, "video/mp4")

	for _, r := range []response{
		bob.do(http.MethodGet, "/api/videos/"+up.VideoID, nil),
		bob.complete(up.VideoID),
		bob.do(http.MethodPost, "/api/uploads/"+up.VideoID+"/renew", nil),
		bob.do(http.MethodGet, "/api/videos/6a0e4c55-8f9e-4a63-9d3c-2f5b7e1a0c9d", nil), // no such video: same answer
	} {
		if r.StatusCode != 404 || r.errorCode() != "not_found" {
			t.Errorf("%s %s by another user: %d %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.body)
		}
	}
	r := bob.do(http.MethodGet, "/api/videos", nil)
	var list listJSON
	if r.json(t, &list); len(list.Items) != 0 {
		t.Errorf("bob lists alice's video: %s", r.body)
	}
	if r := bob.do(http.MethodDelete, "/api/videos/"+up.VideoID, nil); r.StatusCode != 204 {
		t.Errorf("bob's delete: %d %s", r.StatusCode, r.body)
	}
	if r := alice.complete(up.VideoID); r.StatusCode != 200 {
		t.Fatalf("alice's video was touched by bob's delete: %d %s", r.StatusCode, r.body)
	}
	if status, _ := alice.video(up.VideoID); status != 200 {
		t.Errorf("alice's GET: %d", status)
	}
}

func TestStorageQuota(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{uploadMaxBytes: 40_000, quotaBytes: 50_000})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4") // ~13 KB

	// Issue time: declared sizes of pending uploads count.
	first := alice.startUpload("a.mp4", "video/mp4", 30_000)
	r := alice.do(http.MethodPost, "/api/uploads", map[string]any{"filename": "b.mp4", "content_type": "video/mp4", "size_bytes": 30_000})
	if r.StatusCode != 403 || r.errorCode() != "quota_exceeded" || !strings.Contains(string(r.body), "20000 of your 50000-byte") {
		t.Fatalf("over quota at issue: %d %s", r.StatusCode, r.body)
	}
	alice.startUpload("c.mp4", "video/mp4", 20_000) // exactly fills it
	if r := alice.do(http.MethodPost, "/api/uploads", map[string]any{"filename": "d.mp4", "content_type": "video/mp4", "size_bytes": 1}); r.StatusCode != 403 {
		t.Fatalf("one byte over: %d %s", r.StatusCode, r.body)
	}

	// Completion: the quota is checked again with the stored size. Here the
	// user's other videos grew meanwhile (as if the quota had been lowered).
	uploadFile(t, first, mp4, "video/mp4")
	if _, err := h.db.Exec(context.Background(), `UPDATE file_storage SET size_bytes = 45000 WHERE video_id <> $1`, first.VideoID); err != nil {
		t.Fatal(err)
	}
	r = alice.complete(first.VideoID)
	if r.StatusCode != 422 || r.errorCode() != "upload_rejected" || !strings.Contains(string(r.body), "storage quota") {
		t.Fatalf("over quota at completion: %d %s", r.StatusCode, r.body)
	}
	if h.media.blobExists(t, blobNameOf(alice, first)) {
		t.Error("blob over the quota not deleted")
	}
	if _, v := alice.video(first.VideoID); v.Status != "failed" {
		t.Errorf("video over the quota: %+v", v)
	}
}

func TestListIsPagedNewestFirst(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice, bob := h.newVideoUser("alice@example.com"), h.newVideoUser("bob@example.com")
	var want []string
	for i := range 5 {
		up := alice.startUpload(fmt.Sprintf("v%d.mp4", i), "video/mp4", 100)
		want = append([]string{up.VideoID}, want...) // newest first
	}
	bob.startUpload("bob.mp4", "video/mp4", 100)

	var got []string
	path := "/api/videos?limit=2"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := alice.do(http.MethodGet, path, nil)
		if r.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, r.StatusCode, r.body)
		}
		var page listJSON
		r.json(t, &page)
		if len(page.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(page.Items))
		}
		for _, v := range page.Items {
			got = append(got, v.ID)
		}
		if page.NextCursor == nil {
			break
		}
		path = "/api/videos?limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pages gave\n%v\nwant\n%v", got, want)
	}

	r := alice.do(http.MethodGet, "/api/videos", nil)
	var all listJSON
	if r.json(t, &all); len(all.Items) != 5 || all.NextCursor != nil {
		t.Errorf("default page: %d items, next %v", len(all.Items), all.NextCursor)
	}

	for _, bad := range []string{"limit=0", "limit=101", "limit=ten", "limit=2,3", "cursor=garbage", "cursor=" + strings.Repeat("A", 32)} {
		r := alice.do(http.MethodGet, "/api/videos?"+bad, nil)
		if r.StatusCode != 422 || r.errorCode() != "validation_failed" {
			t.Errorf("?%s: %d %s, want 422", bad, r.StatusCode, r.body)
		}
	}
}

func TestConcurrentCompletionsAgree(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "ts")
	up := alice.startUpload("a.ts", "video/mp2t", len(mp4))
	uploadFile(t, up, mp4, "video/mp2t")

	var wg sync.WaitGroup
	statuses := make([]int, 6)
	codes := make([]string, 6)
	for i := range statuses {
		wg.Go(func() {
			r := alice.complete(up.VideoID)
			statuses[i], codes[i] = r.StatusCode, r.errorCode()
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("concurrent completion answered %d %s", s, codes[i])
		}
	}
	if _, v := alice.video(up.VideoID); v.Status != "ready" || *v.ContentType != "video/mp2t" {
		t.Errorf("video: %+v", v)
	}
	// The snapshots of the completions that lost are deleted: one is read.
	if v := h.media.blobVersions(t, blobNameOf(alice, up)); len(v) != 2 {
		t.Errorf("stored: %v, want the blob and one snapshot", v)
	}
}

func TestSweepRemovesAbandonedUploads(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("alice@example.com")
	mp4 := mediatest.Video(t, "mp4")
	ctx := context.Background()

	stale := alice.startUpload("stale.mp4", "video/mp4", len(mp4)) // never completed
	uploadFile(t, stale, mp4, "video/mp4")
	fresh := alice.startUpload("fresh.mp4", "video/mp4", len(mp4)) // still within its URL's lifetime
	refused := alice.startUpload("refused.mp4", "video/mp4", 1000)
	mediatest.PutBlob(http.DefaultClient, refused.UploadURL, []byte("not a video at all"))
	if r := alice.complete(refused.VideoID); r.StatusCode != 422 {
		t.Fatalf("complete refused: %d %s", r.StatusCode, r.body)
	}
	// The holder of the refused upload's URL writes the blob again.
	mediatest.PutBlob(http.DefaultClient, refused.UploadURL, []byte("still not a video"))
	ready := alice.startUpload("ready.mp4", "video/mp4", len(mp4))
	uploadFile(t, ready, mp4, "video/mp4")
	if r := alice.complete(ready.VideoID); r.StatusCode != 200 {
		t.Fatalf("complete ready: %d %s", r.StatusCode, r.body)
	}
	// Age everything but the fresh upload by an hour.
	for _, query := range []string{
		`UPDATE videos SET updated_at = now() - interval '1 hour' WHERE id <> $1`,
		`UPDATE file_storage SET updated_at = now() - interval '1 hour' WHERE video_id <> $1`,
	} {
		if _, err := h.db.Exec(ctx, query, fresh.VideoID); err != nil {
			t.Fatal(err)
		}
	}

	n, err := h.media.svc.SweepUploads(ctx, time.Now())
	if err != nil || n != 3 {
		t.Fatalf("SweepUploads = %d, %v; want the stale and the refused upload removed, the ready one settled", n, err)
	}
	if status, _ := alice.video(stale.VideoID); status != 404 || h.media.blobExists(t, blobNameOf(alice, stale)) {
		t.Errorf("stale upload: GET %d, blob kept %v", status, h.media.blobExists(t, blobNameOf(alice, stale)))
	}
	if status, v := alice.video(refused.VideoID); status != 200 || v.Status != "failed" || h.media.blobExists(t, blobNameOf(alice, refused)) {
		t.Errorf("refused upload: GET %d %s, blob kept %v", status, v.Status, h.media.blobExists(t, blobNameOf(alice, refused)))
	}
	if status, v := alice.video(fresh.VideoID); status != 200 || v.Status != "pending_upload" {
		t.Errorf("fresh upload: %d %+v", status, v)
	}
	if status, v := alice.video(ready.VideoID); status != 200 || v.Status != "ready" || !h.media.blobExists(t, blobNameOf(alice, ready)) {
		t.Errorf("ready video: %d %+v", status, v)
	}
	// Nothing left to do.
	if n, err := h.media.svc.SweepUploads(ctx, time.Now()); err != nil || n != 0 {
		t.Errorf("second sweep = %d, %v", n, err)
	}
}

func TestUploadURLsAreRateLimitedPerUser(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{uploadLimit: ratelimit.PerHour(2)})
	u := h.newVideoUser("limited@example.com")
	first := u.startUpload("a.mp4", "video/mp4", 1000)
	u.startUpload("b.mp4", "video/mp4", 1000)
	r := u.do(http.MethodPost, "/api/uploads", map[string]any{"filename": "c.mp4", "content_type": "video/mp4", "size_bytes": 1000})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.errorCode() != "rate_limited" {
		t.Fatalf("third upload URL within the hour: %d %s", r.StatusCode, r.body)
	}
	if r := u.do(http.MethodPost, "/api/uploads/"+first.VideoID+"/renew", nil); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("renew past the limit: %d", r.StatusCode)
	}
	// Another user has their own allowance.
	if other := h.newVideoUser("other@example.com"); other.startUpload("d.mp4", "video/mp4", 1000).VideoID == "" {
		t.Error("another user was limited")
	}
}
