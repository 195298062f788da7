package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/videofn/videofn/internal/blob"
)

// TestClipSurvivesAKilledWorker kills the real handler process (SIGKILL)
// while ffmpeg is encoding a clip (its progress is in Redis), starts it
// again and delivers the message again, as Service Bus does when a lock is
// lost: the clip completes, with one blob.
func TestClipSurvivesAKilledWorker(t *testing.T) {
	media := clipFixture(t, "40s-1280x720", 40, "1280x720")
	dir := t.TempDir()
	bin := filepath.Join(dir, "handler")
	build(t, dir, bin, ".")
	env := testEnv(t)
	env["LOG_LEVEL"] = "warn"
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	startHandler := func() *exec.Cmd {
		t.Helper()
		vars := []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range env {
			vars = append(vars, k+"="+v)
		}
		return startBinary(t, bin, vars, port)
	}

	ctx := context.Background()
	conn := connectDB(t, env)
	store, err := blob.New(blob.Options{ConnectionString: env["AZURE_STORAGE_CONNECTION_STRING"], Container: env["BLOB_CONTAINER"]})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		t.Fatal(err)
	}
	defer store.Container().Delete(ctx, nil)
	var userID string
	conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('clipkill@example.com') RETURNING id`).Scan(&userID)
	forty := 40.0
	videoID := storedVideo(t, conn, store, userID, media, &forty)
	clipID := uuid.NewString()
	clipBlob := userID + "/" + videoID + "/clips/" + clipID + ".mp4"
	if _, err := conn.Exec(ctx, `
		INSERT INTO clips (id, video_id, user_id, title, start_seconds, end_seconds, aspect, status, blob_name)
		VALUES ($1, $2, $3, 'long', 1, 39, '9:16', 'queued', $4)`, clipID, videoID, userID, clipBlob); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprintf(`{"video_id":%q,"task":"clip","clip_id":%q}`, videoID, clipID)

	opts, err := redis.ParseURL(env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	progressKey := env["REDIS_KEY_PREFIX"] + "clip:progress:" + clipID

	first := startHandler()
	go func() {
		// The connection breaks with the kill.
		resp, err := http.Post(base+"/video-processor", "application/json", strings.NewReader(processingEnvelope(msg, "clip:kill", 1)))
		if err == nil {
			resp.Body.Close()
		}
	}()
	// Mid-way: ffmpeg has reported encoding progress, short of the end.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var p struct {
			Percent *float64 `json:"percent"`
		}
		if b, err := rdb.Get(ctx, progressKey).Bytes(); err == nil {
			json.Unmarshal(b, &p)
		}
		if p.Percent != nil && *p.Percent > 0 {
			if *p.Percent >= 90 {
				t.Fatalf("the clip was at %.0f %% before the kill: make it slower", *p.Percent)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the clip never reported progress")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	var status string
	var attempt int64
	conn.QueryRow(ctx, `SELECT status, attempt FROM clips WHERE id = $1`, clipID).Scan(&status, &attempt)
	if status != "processing" || attempt != 1 || blobExists(t, store, clipBlob) {
		t.Fatalf("after the kill: %s, attempt %d, blob committed %v", status, attempt, blobExists(t, store, clipBlob))
	}

	startHandler()
	if code := deliverProcessing(t, base, msg, "clip:kill", 2); code != 200 {
		t.Fatalf("redelivery: %d", code)
	}
	var duration float64
	var width, height int
	conn.QueryRow(ctx, `SELECT status, attempt, coalesce(duration_seconds, 0), coalesce(width, 0), coalesce(height, 0) FROM clips WHERE id = $1`,
		clipID).Scan(&status, &attempt, &duration, &width, &height)
	if status != "ready" || attempt != 2 || math.Abs(duration-38) > 0.2 || math.Abs(float64(width)/float64(height)-9.0/16) > 0.01 {
		t.Fatalf("after redelivery: %s, attempt %d, %.2f s, %dx%d", status, attempt, duration, width, height)
	}
	if names := blobsUnder(t, store, userID+"/"+videoID+"/clips/"); len(names) != 1 {
		t.Errorf("clip blobs %v, want one", names)
	}
}
