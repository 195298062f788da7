package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
)

// TestImportSurvivesAKilledWorker kills the real handler process (SIGKILL)
// in the middle of an import, starts it again and delivers the message
// again, as Service Bus does when a lock is lost: the import completes with
// the source's exact bytes in the same blob.
func TestImportSurvivesAKilledWorker(t *testing.T) {
	media := mediatest.MP4Like(6 << 20)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(media)))
		for i := 0; i < len(media); i += 64 << 10 {
			if _, err := w.Write(media[i : i+64<<10]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(15 * time.Millisecond)
		}
	}))
	defer src.Close()

	dir := t.TempDir()
	bin := filepath.Join(dir, "handler")
	build(t, dir, bin, ".")
	env := testEnv(t)
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
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
	var userID, videoID string
	conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('kill@example.com') RETURNING id`).Scan(&userID)
	if err := conn.QueryRow(ctx, `INSERT INTO videos (user_id, source, source_url, status) VALUES ($1, 'url', $2, 'queued') RETURNING id`,
		userID, src.URL+"/v.mp4").Scan(&videoID); err != nil {
		t.Fatal(err)
	}
	envelope := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":"\"kill-1\"","DeliveryCount":"%%d"}}`,
		base64.StdEncoding.EncodeToString([]byte(`{"video_id":"`+videoID+`"}`)))
	deliver := func(n int) (*http.Response, error) {
		return http.Post(base+"/import-worker", "application/json", strings.NewReader(fmt.Sprintf(envelope, n)))
	}

	first := startHandler()
	go deliver(1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var status string
		conn.QueryRow(ctx, `SELECT status FROM videos WHERE id = $1`, videoID).Scan(&status)
		if status == "downloading" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import never started (status %q)", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // some blocks staged
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	startHandler()
	resp, err := deliver(2)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("redelivery: %d %s", resp.StatusCode, body)
	}
	var status string
	var size int64
	conn.QueryRow(ctx, `SELECT status, coalesce(size_bytes, 0) FROM videos WHERE id = $1`, videoID).Scan(&status, &size)
	if status != "ready" || size != int64(len(media)) {
		t.Fatalf("after redelivery: %s, %d bytes", status, size)
	}
	store, err := blob.New(blob.Options{ConnectionString: env["AZURE_STORAGE_CONNECTION_STRING"], Container: env["BLOB_CONTAINER"]})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Container().Delete(ctx, nil)
	dl, err := store.Container().NewBlobClient(userID+"/"+videoID+"/source").DownloadStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if !bytes.Equal(got, media) {
		t.Errorf("blob has %d bytes, want the %d source bytes", len(got), len(media))
	}
}
