package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/mail/mailtest"
	"github.com/videofn/videofn/internal/media/mediatest"
)

// frontendStack is the product as production runs it, on loopback: the
// handler started through run serving the static export (FRONTEND_DIR) and
// /api on one origin, with the test's own PostgreSQL database, Redis prefix
// and Azurite container, mail to an SMTP sink, and URL imports allowed to
// reach loopback servers.
type frontendStack struct {
	h        *handlerProcess
	env      map[string]string
	frontend string // the frontend/ folder, absolute
	chromium string
	mail     string // GET <mail>?to=<address>: the newest mail to address, as JSON
}

// startFrontendStack starts the stack. It fails, never skips, when the
// static export, the frontend's packages or Chromium are missing: `make
// test` provides all three.
func startFrontendStack(tb testing.TB) *frontendStack {
	tb.Helper()
	frontend, err := filepath.Abs("../frontend")
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(frontend, "out")
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		tb.Fatalf("the frontend's static export is missing (%v): run `make test`, which builds it (npm --prefix frontend run build)", err)
	}
	if _, err := os.Stat(filepath.Join(frontend, "node_modules", "playwright-core")); err != nil {
		tb.Fatalf("the frontend's npm packages are missing (%v): run `make test` (.ci/install.sh installs them)", err)
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		tb.Fatalf("chromium is not installed (%v): run `make test` (.ci/install.sh installs it)", err)
	}

	sink := mailtest.NewSink(tb)
	mail := httptest.NewServer(mailEndpoint(sink))
	tb.Cleanup(mail.Close)

	// Mail links and the storage CORS rules name the frontend's origin,
	// which is the handler's own: its port is chosen before it starts.
	port := freePort(tb)
	origin := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := testEnv(tb)
	env["FUNCTIONS_CUSTOMHANDLER_PORT"] = strconv.Itoa(port)
	env["FRONTEND_URL"] = origin
	env["FRONTEND_DIR"] = out
	env["SMTP_HOST"] = sink.Host()
	env["SMTP_PORT"] = strconv.Itoa(sink.Port())
	env["SMTP_FROM"] = "noreply@example.com"
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
	env["YTDLP_PATH"] = "yt-dlp"
	env["LOG_LEVEL"] = "info"
	store, err := blob.New(blob.Options{ConnectionString: env["AZURE_STORAGE_CONNECTION_STRING"], Container: env["BLOB_CONTAINER"]})
	if err != nil {
		tb.Fatal(err)
	}
	pruneLoopbackCORS(tb, store)
	// Registered before the handler starts, so they run after it stopped:
	// the shared Azurite keeps blobs in memory, and a rule per origin.
	tb.Cleanup(func() {
		pruneLoopbackCORS(tb, store, origin)
		store.Container().Delete(context.Background(), nil)
	})
	h := start(tb, env)
	if h.URL != origin {
		tb.Fatalf("handler listens on %s, want %s", h.URL, origin)
	}
	waitHealthy(tb, h)
	// Browsers upload straight to storage: wait for its CORS rules too.
	h.logs.waitFor(tb, "blob container ready", 30*time.Second)
	return &frontendStack{h: h, env: env, frontend: frontend, chromium: chromium, mail: mail.URL + "/mail"}
}

// pruneLoopbackCORS removes from the storage account the CORS rules of the
// given origins and of loopback origins nothing listens on any more (runs
// killed before their cleanup). The handler adds a rule for its
// FRONTEND_URL, every run here has its own origin, and Blob Storage keeps
// at most five rules: without this the sixth run could not upload.
func pruneLoopbackCORS(tb testing.TB, store *blob.Store, origins ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	props, err := store.Service().GetProperties(ctx, nil)
	if err != nil {
		tb.Fatalf("storage CORS rules: %v", err)
	}
	stale := func(o string) bool {
		if slices.Contains(origins, o) {
			return true
		}
		host, ok := strings.CutPrefix(o, "http://127.0.0.1:")
		if !ok {
			return false
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+host, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}
	kept := slices.DeleteFunc(slices.Clone(props.CORS), func(r *service.CORSRule) bool {
		return r == nil || r.AllowedOrigins == nil || stale(*r.AllowedOrigins)
	})
	if len(kept) == len(props.CORS) {
		return
	}
	if _, err := store.Service().SetProperties(ctx, &service.SetPropertiesOptions{CORS: kept}); err != nil {
		tb.Errorf("storage CORS rules: %v", err)
	}
}

// mailEndpoint answers GET /mail?to=<address> with the newest mail the sink
// received for address ({"to", "subject", "text"}), waiting up to a minute
// for one to arrive; 404 when none did.
func mailEndpoint(sink *mailtest.Sink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		deadline := time.NewTimer(time.Minute)
		defer deadline.Stop()
		for {
			msgs := sink.Messages()
			for i := len(msgs) - 1; i >= 0; i-- {
				m := msgs[i]
				if slices.ContainsFunc(m.To, func(rcpt string) bool { return strings.EqualFold(rcpt, to) }) {
					w.Header().Set("Content-Type", "application/json")
					json.NewEncoder(w).Encode(map[string]any{"to": m.To, "subject": m.Subject, "text": m.Text})
					return
				}
			}
			// The sink has no public change notification: look again soon.
			select {
			case <-deadline.C:
				http.Error(w, "no mail to "+to+" within a minute", http.StatusNotFound)
				return
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// runE2E runs `npm run e2e` in frontend/ (Vitest with vitest.e2e.config.ts)
// against the stack, with the stack's E2E_* variables and vars, and streams
// its output into tb's log. It fails tb when the run fails, with the end of
// the handler's log.
func (s *frontendStack) runE2E(tb testing.TB, timeout time.Duration, vars ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "--prefix", s.frontend, "run", "e2e")
	cmd.Env = append(os.Environ(),
		"E2E_BASE_URL="+s.h.URL,
		"E2E_MAIL_URL="+s.mail,
		"E2E_CHROMIUM="+s.chromium,
		"E2E_OUTPUT_DIR="+filepath.Join(s.frontend, "test-output", "e2e"),
		"NEXT_TELEMETRY_DISABLED=1",
		"NO_COLOR=1", "FORCE_COLOR=0",
	)
	cmd.Env = append(cmd.Env, vars...)
	// npm, node and Chromium's processes form one group, ended together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	// A benchmark's log is always printed and cut after ten lines, which
	// would hide its summary: there the output is shown only on failure.
	var out io.Writer
	var kept bytes.Buffer
	log := &lineLogger{tb: tb, prefix: "e2e: "}
	if _, bench := tb.(*testing.B); bench {
		out = &kept
	} else {
		out = log
	}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	log.Flush()
	if err != nil {
		tb.Fatalf("npm run e2e: %v (ctx: %v)\n%sscreenshots in frontend/test-output/e2e; the handler's last log lines:\n%s",
			err, ctx.Err(), kept.String(), lastLines(s.h.logs.all(), 40))
	}
}

// lineLogger writes each complete line to tb's log.
type lineLogger struct {
	mu     sync.Mutex
	tb     testing.TB
	prefix string
	buf    bytes.Buffer
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil { // no newline yet: keep the start for later
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.tb.Log(l.prefix + strings.TrimRight(line, "\r\n"))
	}
}

// Flush logs a last line that had no newline.
func (l *lineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.tb.Log(l.prefix + l.buf.String())
		l.buf.Reset()
	}
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestFrontendInChromium runs the frontend's end-to-end flows
// (frontend/e2e/*.e2e.ts) in headless Chromium against the static export
// served by the handler: register, verify from the mail, sign in, upload and
// play a real MP4, import one from a local HTTP server, reload, see a
// running import live in the library and delete it, rename, sign out; an
// upload cut by a reload resumes from the staged blocks; axe-core, console errors and CSP violations on every page.
func TestFrontendInChromium(t *testing.T) {
	s := startFrontendStack(t)

	clip := mediatest.Video(t, "mp4")
	chunk := mediatest.MP4Like(64 << 10)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/imported-clip.mp4":
			http.ServeContent(w, r, "imported-clip.mp4", time.Time{}, bytes.NewReader(clip))
		case "/slow-clip.mp4":
			// 64 MiB at about 1.3 MiB/s: still running when the flow
			// reloads the library, and deleted there.
			const chunks = 1024
			w.Header().Set("Content-Type", "video/mp4")
			w.Header().Set("Content-Length", strconv.Itoa(chunks*len(chunk)))
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for range chunks {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(src.Close)

	upload := filepath.Join(t.TempDir(), "sample-upload.mp4")
	if err := os.WriteFile(upload, clip, 0o644); err != nil {
		t.Fatal(err)
	}
	// Large enough that the throttled upload is cut by the reload mid-way.
	resume := filepath.Join(t.TempDir(), "resume-upload.mp4")
	writePaddedMP4(t, resume, 64<<20)
	outDir := filepath.Join(s.frontend, "test-output", "e2e")
	if err := os.RemoveAll(outDir); err != nil { // no screenshot of an earlier run left to mislead
		t.Fatal(err)
	}

	s.runE2E(t, 15*time.Minute,
		"E2E_IMPORT_URL="+src.URL+"/imported-clip.mp4",
		"E2E_SLOW_IMPORT_URL="+src.URL+"/slow-clip.mp4",
		"E2E_UPLOAD_FILE="+upload,
		"E2E_RESUME_FILE="+resume,
	)
}
