package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/redisstore"
	"github.com/videofn/videofn/internal/testenv"
)

// TestImportPollAnsweredFromRedis: the frontend's poll of a running import
// reads no session from PostgreSQL (a revocation written there behind the
// app's back is not seen: the session cache answered), yet every
// revocation and cancel the app makes takes effect on the next poll, and
// another user gets 404.
func TestImportPollAnsweredFromRedis(t *testing.T) {
	src := trickleSource(t, mediatest.MP4Like(64<<10), 20*time.Millisecond)

	h, env := startImporting(t)
	a := loginAs(t, h, env, "poller@example.com")
	b := loginAs(t, h, env, "neighbour@example.com")
	db := connectDB(t, env)
	ctx := context.Background()

	var accepted struct {
		VideoID string `json:"video_id"`
	}
	if status := a.call(http.MethodPost, "/api/imports", map[string]string{"url": src.URL + "/long.mp4"}, &accepted); status != 202 {
		t.Fatalf("enqueue: %d", status)
	}
	a.waitStatus(accepted.VideoID, "downloading", 30*time.Second)
	poll := "/api/imports/" + accepted.VideoID

	if status := b.call(http.MethodGet, poll, nil, nil); status != 404 {
		t.Errorf("another user's poll: %d, want 404", status)
	}

	// Revoked behind the app's back: PostgreSQL says no, the cache (which
	// only the app's own revocations reach) says live.
	tag, err := db.Exec(ctx, `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE user_id = (SELECT id FROM users WHERE email = 'poller@example.com')`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("revoke in the database: %v %v", tag, err)
	}
	if status := a.call(http.MethodGet, poll, nil, nil); status != 200 {
		t.Errorf("poll with the session revoked only in PostgreSQL: %d, want 200 from the session cache", status)
	}
	if _, err := db.Exec(ctx, `UPDATE sessions SET revoked_at = NULL, revoked_reason = NULL`); err != nil {
		t.Fatal(err)
	}

	// The app's own changes are seen at once.
	if status := a.call(http.MethodPost, poll+"/cancel", nil, nil); status != 202 {
		t.Fatalf("cancel: %d", status)
	}
	var p progress
	if status := a.call(http.MethodGet, poll, nil, &p); status != 200 || p.Status != "cancelled" {
		t.Errorf("poll right after cancel: %d %+v, want cancelled", status, p)
	}
	if status := a.call(http.MethodPost, "/api/auth/logout-all", nil, nil); status != 204 {
		t.Fatalf("logout-all: %d", status)
	}
	if status := a.call(http.MethodGet, poll, nil, nil); status != 401 {
		t.Errorf("poll right after logout-all: %d, want 401", status)
	}
	if status := a.call(http.MethodGet, "/api/users/me", nil, nil); status != 401 {
		t.Errorf("another route right after logout-all: %d, want 401", status)
	}
}

// TestPollReadsIsOneRoundTrip: the reads of an import poll (session and
// progress) reach Redis as one pipeline and nothing else.
func TestPollReadsIsOneRoundTrip(t *testing.T) {
	url, prefix := testenv.Redis(t)
	rdb, err := redisstore.Open(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var single, pipelines, queued atomic.Int64
	rdb.AddHook(countingHook{single: &single, pipelines: &pipelines, queued: &queued})
	ctx := context.Background()
	sid, uid, vid := uuid.New(), uuid.New(), uuid.New()
	progressStore := importer.ProgressStore{Client: rdb}
	sessions := redisstore.Sessions{Client: rdb}
	if err := sessions.Remember(ctx, authSession(sid, uid), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := progressStore.Set(ctx, importer.Progress{VideoID: vid, Owner: uid, Status: "downloading", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	single.Store(0)
	pipelines.Store(0)
	queued.Store(0)

	read := pollReads(rdb, progressStore)(ctx, sid, vid)
	if read.SessionErr != nil || read.ProgressErr != nil || !read.Session.Found || read.Session.UserID != uid ||
		!read.Progress.Found || read.Progress.Owner != uid || read.Progress.Status != "downloading" {
		t.Fatalf("poll read: %+v", read)
	}
	if single.Load() != 0 || pipelines.Load() != 1 || queued.Load() != 2 {
		t.Errorf("%d single commands and %d pipelines of %d commands, want 0 and 1 of 2", single.Load(), pipelines.Load(), queued.Load())
	}
}

// countingHook counts what a go-redis client sends: each single command and
// each pipeline is one round trip.
type countingHook struct{ single, pipelines, queued *atomic.Int64 }

func (countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.single.Add(1)
		return next(ctx, cmd)
	}
}

func (h countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		h.queued.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func authSession(sid, uid uuid.UUID) auth.CachedSession {
	return auth.CachedSession{Found: true, SessionID: sid, UserID: uid, Until: time.Now().Add(time.Hour)}
}

// trickleSource serves an import that runs until the test ends: chunk
// every interval under a 1 GiB Content-Length, at any path but
// /missing.mp4 (404).
func trickleSource(t testing.TB, chunk []byte, every time.Duration) *httptest.Server {
	stop := make(chan struct{})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing.mp4" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "1073741824")
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-tick.C:
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(func() { close(stop); src.Close() })
	return src
}
