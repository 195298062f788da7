package main

import (
	"bufio"
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
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/testenv"
)

// benchBytes is the size of the benchmark's source file (1 GiB).
const benchBytes = 1 << 30

// mediaServer serves a 1 GiB MP4-looking file generated on the fly (a
// random 1 MiB block repeated), so neither side holds it in memory.
func mediaServer(b *testing.B) *httptest.Server {
	b.Helper()
	block := mediatest.MP4Like(1 << 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", strconv.Itoa(benchBytes))
		for sent := 0; sent < benchBytes; sent += len(block) {
			if _, err := w.Write(block); err != nil {
				return
			}
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// procWatch samples a process and its children: peak resident memory of
// the process and bytes written to storage by it and every child seen.
type procWatch struct {
	mu        sync.Mutex
	peakRSSkB int64
	written   map[int]int64 // pid -> write_bytes
	stop      chan struct{}
	done      chan struct{}
}

func watchProcess(pid int) *procWatch {
	w := &procWatch{written: map[int]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			w.sample(pid)
			select {
			case <-w.stop:
				w.sample(pid)
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *procWatch) sample(pid int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if kb := statusField(pid, "VmHWM:"); kb > w.peakRSSkB {
		w.peakRSSkB = kb
	}
	for _, p := range append([]int{pid}, children(pid)...) {
		if n := ioField(p, "write_bytes:"); n > w.written[p] {
			w.written[p] = n
		}
	}
}

func (w *procWatch) finish() (peakMiB float64, writtenBytes int64, processes int) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.written {
		writtenBytes += n
	}
	return float64(w.peakRSSkB) / 1024, writtenBytes, len(w.written)
}

func statusField(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

func ioField(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
}

// children returns the pids of pid's descendants.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, children(c)...)
			}
		}
	}
	return out
}

// BenchmarkImport1GiB imports a 1 GiB file from a local HTTP server into
// Azurite through the real handler binary (POST /import-worker with a
// host-shaped envelope), and, in the same run, the baseline: `yt-dlp -o -
// URL` piped into azblob's UploadStream with 8 MiB blocks, 4 in flight. It
// reports both throughputs and their ratio (target >= 0.95), the handler's
// peak RSS (target < 100 MiB) and the bytes the handler and yt-dlp wrote to
// local disk (target 0).
func BenchmarkImport1GiB(b *testing.B) {
	ctx := context.Background()
	src := mediaServer(b)
	ytdlp, err := exec.LookPath("yt-dlp")
	if err != nil {
		b.Fatal("yt-dlp is not installed (make tools installs it)")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "handler")
	build(b, dir, bin, ".")

	dbURL := testenv.Postgres(b)
	if _, err := postgres.Migrate(ctx, dbURL, nil); err != nil {
		b.Fatal(err)
	}
	redisURL, redisPrefix := testenv.Redis(b)
	storage := testenv.Storage(b)
	containerName := testenv.ContainerName()
	store, err := blob.New(blob.Options{ConnectionString: storage, Container: containerName})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Container().Delete(context.Background(), nil) })
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var userID string
	if err := conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('bench@example.com') RETURNING id`).Scan(&userID); err != nil {
		b.Fatal(err)
	}

	port := freePort(b)
	cmd := startBinary(b, bin, append(os.Environ(),
		"DATABASE_URL="+dbURL, "REDIS_URL="+redisURL, "REDIS_KEY_PREFIX="+redisPrefix,
		"AZURE_STORAGE_CONNECTION_STRING="+storage, "BLOB_CONTAINER="+containerName,
		"JWT_SECRET=benchmark-secret-benchmark-secret-0123",
		"DATA_ENCRYPTION_KEY=bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1rZXktMzJieXQ=",
		"FRONTEND_URL=http://localhost:3000", "COOKIE_SECURE=false", "LOG_LEVEL=warn",
		"YTDLP_PATH="+ytdlp, "IMPORT_ALLOW_PRIVATE_NETWORKS=true", "IMPORT_MAX_BYTES="+strconv.Itoa(2*benchBytes),
	), port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	var handlerTotal, baselineTotal time.Duration
	var peakMiB float64
	var written int64
	b.ResetTimer()
	for i := range b.N {
		// Handler: one queued import, delivered as the host would.
		var videoID string
		if err := conn.QueryRow(ctx, `INSERT INTO videos (user_id, source, source_url, status) VALUES ($1, 'url', $2, 'queued') RETURNING id`,
			userID, src.URL+fmt.Sprintf("/bench-%d.mp4", i)).Scan(&videoID); err != nil {
			b.Fatal(err)
		}
		envelope := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":"\"bench-%d\"","DeliveryCount":"1"}}`,
			base64.StdEncoding.EncodeToString([]byte(`{"video_id":"`+videoID+`"}`)), i)
		watch := watchProcess(cmd.Process.Pid)
		start := time.Now()
		resp, err := http.Post(base+"/import-worker", "application/json", strings.NewReader(envelope))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		handlerTotal += time.Since(start)
		p, w, _ := watch.finish()
		peakMiB, written = max(peakMiB, p), written+w
		var status string
		var size int64
		conn.QueryRow(ctx, `SELECT status, coalesce(size_bytes, 0) FROM videos WHERE id = $1`, videoID).Scan(&status, &size)
		if resp.StatusCode != 200 || status != "ready" || size != benchBytes {
			b.Fatalf("import: %d %s; video %s, %d bytes", resp.StatusCode, body, status, size)
		}
		store.Container().NewBlobClient(userID+"/"+videoID+"/source").Delete(ctx, nil)

		// Baseline: yt-dlp -o - URL | UploadStream (8 MiB x 4).
		start = time.Now()
		y := exec.Command(ytdlp, "--ignore-config", "--no-cache-dir", "-q", "-o", "-", "--", src.URL+fmt.Sprintf("/base-%d.mp4", i))
		out, err := y.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := y.Start(); err != nil {
			b.Fatal(err)
		}
		bb := store.Container().NewBlockBlobClient(fmt.Sprintf("baseline-%d", i))
		if _, err := bb.UploadStream(ctx, out, &blockblob.UploadStreamOptions{BlockSize: 8 << 20, Concurrency: 4}); err != nil {
			b.Fatal(err)
		}
		if err := y.Wait(); err != nil {
			b.Fatal(err)
		}
		baselineTotal += time.Since(start)
		bb.Delete(ctx, nil)
	}
	b.StopTimer()
	mibps := func(d time.Duration) float64 { return float64(b.N) * benchBytes / (1 << 20) / d.Seconds() }
	h, base2 := mibps(handlerTotal), mibps(baselineTotal)
	b.ReportMetric(h, "handler-MiB/s")
	b.ReportMetric(base2, "baseline-MiB/s")
	b.ReportMetric(h/base2, "handler/baseline")
	b.ReportMetric(peakMiB, "handler-peak-RSS-MiB")
	b.ReportMetric(float64(written), "disk-bytes-written")
	b.Logf("1 GiB import x%d: handler %.1f MiB/s, baseline yt-dlp|UploadStream %.1f MiB/s, ratio %.3f (target >= 0.95); handler peak RSS %.1f MiB (target < 100); bytes written to disk by the handler and yt-dlp: %d (target 0)",
		b.N, h, base2, h/base2, peakMiB, written)
}
