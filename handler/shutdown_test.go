package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/queue"
)

// stallingSource serves media; while stalling, each request gets the
// headers and the first MiB and is then held until the client goes away.
// yt-dlp asks twice (the generic extractor's probe, then the download), so
// the second held request is the download.
type stallingSource struct {
	*httptest.Server
	media    []byte
	stalling atomic.Bool
	held     chan int // the number of each request as it is held
	requests atomic.Int32
}

func newStallingSource(t *testing.T, media []byte) *stallingSource {
	s := &stallingSource{media: media, held: make(chan int, 16)}
	s.stalling.Store(true)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.requests.Add(1))
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", strconv.Itoa(len(s.media)))
		if !s.stalling.Load() {
			w.Write(s.media)
			return
		}
		if _, err := w.Write(s.media[:1<<20]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		s.held <- n
		<-r.Context().Done()
	}))
	t.Cleanup(s.Close)
	return s
}

// waitDownloadHeld waits until the download request (the second) is held.
func (s *stallingSource) waitDownloadHeld(t *testing.T) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case n := <-s.held:
			if n >= 2 {
				return
			}
		case <-deadline:
			t.Fatalf("the download never reached the source (%d requests)", s.requests.Load())
		}
	}
}

// shutdownFixture is a built handler binary, its environment and a user with
// a queued import of src.
type shutdownFixture struct {
	bin     string
	env     map[string]string
	port    int
	db      *pgxpool.Pool
	userID  string
	videoID string
	grace   time.Duration
}

func newShutdownFixture(t *testing.T, src *stallingSource) *shutdownFixture {
	t.Helper()
	dir := t.TempDir()
	f := &shutdownFixture{bin: filepath.Join(dir, "handler"), env: testEnv(t), port: freePort(t), grace: time.Second}
	build(t, dir, f.bin, ".")
	f.env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
	f.env["SHUTDOWN_GRACE"] = f.grace.String()
	db, err := pgxpool.New(context.Background(), f.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	f.db = db
	ctx := context.Background()
	if err := db.QueryRow(ctx, `INSERT INTO users (email) VALUES ('shutdown@example.com') RETURNING id`).Scan(&f.userID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO videos (user_id, source, source_url, status) VALUES ($1, 'url', $2, 'queued') RETURNING id`,
		f.userID, src.URL+"/v.mp4").Scan(&f.videoID); err != nil {
		t.Fatal(err)
	}
	return f
}

// start runs the handler; its log goes to a file shown when the test fails.
func (f *shutdownFixture) start(t *testing.T, name string) *exec.Cmd {
	t.Helper()
	vars := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range f.env {
		vars = append(vars, k+"="+v)
	}
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return startBinaryLogged(t, f.bin, vars, f.port, logFile)
}

// terminate sends SIGTERM and waits for the process to exit: within the
// grace, the time cancelled work needs to return and the pools' bound (the
// configured bound), plus a generous margin for a loaded machine. It logs
// the measured time.
func (f *shutdownFixture) terminate(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	bound := f.grace + cancelWait + closeWait
	safety := bound + 15*time.Second
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		took := time.Since(start)
		t.Logf("exited %v after SIGTERM (grace %v, configured bound %v)", took.Round(time.Millisecond), f.grace, bound)
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(safety):
		t.Fatalf("handler still running %v after SIGTERM (grace %v, bound %v)", safety, f.grace, bound)
	}
}

// noProcessFetching fails if a process (yt-dlp) still has src's URL on its
// command line: the shutdown must have killed it, not orphaned it.
func noProcessFetching(t *testing.T, src *stallingSource) {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(src.URL)) {
			t.Errorf("process %s still fetches the source after the handler exited: %q", filepath.Dir(p), bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

func (f *shutdownFixture) status(t *testing.T) string {
	t.Helper()
	var status string
	if err := f.db.QueryRow(context.Background(), `SELECT status FROM videos WHERE id = $1`, f.videoID).Scan(&status); err != nil {
		t.Fatal(err)
	}
	return status
}

// checkImported checks that the video is ready with exactly media in its blob.
func (f *shutdownFixture) checkImported(t *testing.T, media []byte) {
	t.Helper()
	var status string
	var size int64
	f.db.QueryRow(context.Background(), `SELECT status, coalesce(size_bytes, 0) FROM videos WHERE id = $1`, f.videoID).Scan(&status, &size)
	if status != "ready" || size != int64(len(media)) {
		t.Fatalf("after redelivery: %s, %d bytes; want ready, %d bytes", status, size, len(media))
	}
	store, err := blob.New(blob.Options{ConnectionString: f.env["AZURE_STORAGE_CONNECTION_STRING"], Container: f.env["BLOB_CONTAINER"]})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() { store.Container().Delete(ctx, nil) })
	dl, err := store.Container().NewBlobClient(f.userID+"/"+f.videoID+"/source").DownloadStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(dl.Body)
	dl.Body.Close()
	if !bytes.Equal(got, media) {
		t.Errorf("blob has %d bytes, want the %d source bytes", len(got), len(media))
	}
}

// TestSIGTERMDuringImportWorkerInvocation: SIGTERM while the host's POST
// /import-worker runs an import whose source stalls. The handler exits
// within its bound, answers the invocation 5xx (so Service Bus delivers the
// message again) and leaves the video downloading; the redelivery to a new
// process completes the import with the source's exact bytes.
func TestSIGTERMDuringImportWorkerInvocation(t *testing.T) {
	media := mediatest.MP4Like(3 << 20)
	src := newStallingSource(t, media)
	f := newShutdownFixture(t, src)
	base := fmt.Sprintf("http://127.0.0.1:%d", f.port)
	envelope := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":"\"shutdown-1\"","DeliveryCount":"%%d"}}`,
		base64.StdEncoding.EncodeToString([]byte(`{"video_id":"`+f.videoID+`"}`)))
	deliver := func(n int) (int, error) {
		resp, err := http.Post(base+"/import-worker", "application/json", strings.NewReader(fmt.Sprintf(envelope, n)))
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	first := f.start(t, "first")
	var wg sync.WaitGroup
	var firstStatus int
	var firstErr error
	wg.Go(func() { firstStatus, firstErr = deliver(1) })
	src.waitDownloadHeld(t)
	f.terminate(t, first)
	noProcessFetching(t, src)
	wg.Wait()
	if firstErr == nil && firstStatus < 500 {
		t.Errorf("the interrupted invocation answered %d, want 5xx (redelivery)", firstStatus)
	}
	t.Logf("interrupted invocation: status %d, err %v", firstStatus, firstErr)
	if got := f.status(t); got != "downloading" {
		t.Fatalf("video %s after the interrupted import, want downloading (nothing committed, nothing failed)", got)
	}

	src.stalling.Store(false)
	f.start(t, "second")
	status, err := deliver(2)
	if err != nil || status != 200 {
		t.Fatalf("redelivery: %d, %v", status, err)
	}
	f.checkImported(t, media)
}

// TestSIGTERMDuringLocalQueueImport: the same with the local queue (no
// Service Bus): the consumer stops claiming, the cancelled import gives its
// message back at once (not after the 5-minute lock), and a restarted
// handler claims it and completes the import.
func TestSIGTERMDuringLocalQueueImport(t *testing.T) {
	media := mediatest.MP4Like(3 << 20)
	src := newStallingSource(t, media)
	f := newShutdownFixture(t, src)
	ctx := context.Background()
	if err := queue.NewLocal(f.db, nil).Send(ctx, "imports", queue.Message{
		ID: "import:" + f.videoID + ":1", Body: []byte(`{"video_id":"` + f.videoID + `"}`),
	}); err != nil {
		t.Fatal(err)
	}

	first := f.start(t, "first")
	src.waitDownloadHeld(t)
	f.terminate(t, first)
	noProcessFetching(t, src)
	if got := f.status(t); got != "downloading" {
		t.Fatalf("video %s after the interrupted import, want downloading (nothing committed, nothing failed)", got)
	}
	var claimed bool
	var deliveries int64
	var visibleNow bool
	if err := f.db.QueryRow(ctx, `SELECT claim_token IS NOT NULL, delivery_count, visible_at <= now() FROM queue_messages WHERE queue = 'imports'`).
		Scan(&claimed, &deliveries, &visibleNow); err != nil {
		t.Fatal(err)
	}
	if claimed || !visibleNow || deliveries != 0 {
		t.Fatalf("message after shutdown: claimed %v, visible now %v, deliveries %d; want given back at once, uncounted", claimed, visibleNow, deliveries)
	}

	src.stalling.Store(false)
	f.start(t, "second")
	deadline := time.Now().Add(60 * time.Second)
	for {
		var completed bool
		f.db.QueryRow(ctx, `SELECT completed_at IS NOT NULL FROM queue_messages WHERE queue = 'imports'`).Scan(&completed)
		if completed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redelivered import not completed after 60 s (video %s)", f.status(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.checkImported(t, media)
}

// TestCloseWithinDoesNotWaitForHeldConnections: pgxpool's Close waits for
// every acquired connection; closeWithin returns after its bound anyway and
// names the pool it left closing.
func TestCloseWithinDoesNotWaitForHeldConnections(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), testEnv(t)["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	held, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	var logs bytes.Buffer
	closeWithin(newLogger(&logs, slog.LevelInfo), 10*time.Millisecond, map[string]func(){"postgres": pool.Close, "quick": func() {}})
	if !strings.Contains(logs.String(), `"pools still closing; exiting without waiting","pools":["postgres"]`) {
		t.Errorf("log = %s, want a warning naming the postgres pool only", logs.String())
	}
}
