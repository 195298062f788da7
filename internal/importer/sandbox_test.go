package importer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/sandbox"
)

// TestMain builds the real handler once: every import in these tests runs
// yt-dlp through its sandbox-exec subcommand, as production does.
func TestMain(m *testing.M) { mediatest.MainWithHandler(m) }

// confined is the Options.Sandbox of these tests: the real subcommand.
func confined() func(uint16, string, []string) []string {
	return sandbox.Launcher{Self: mediatest.HandlerBinary()}.Wrap
}

// ftpServer accepts TCP connections, counts them and answers each with an
// FTP greeting carrying a secret, as a server inside a network would.
func ftpServer(t *testing.T) (port int, accepted *atomic.Int64, secret string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted, secret = new(atomic.Int64), "internal-ftp-7f3a9c"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			io.WriteString(c, "530 "+secret+" says: not logged in\r\n")
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepted, secret
}

// TestSandboxStopsConnectionsOutsideTheProxy: a page that redirects to
// ftp:// makes yt-dlp open the FTP connection itself, which the proxy never
// sees (it carries http and https only). Private networks are allowed here,
// so that only the sandbox can stop it: the FTP listener must see no
// connection at all, and the user gets a fixed message, never the FTP
// server's words.
func TestSandboxStopsConnectionsOutsideTheProxy(t *testing.T) {
	port, accepted, secret := ftpServer(t)
	src := newSource(t, fmt.Sprintf("ftp://127.0.0.1:%d/x.mp4", port))
	e := newEnv(t, nil, 100<<20)
	run := func(t *testing.T, confine func(uint16, string, []string) []string) (videoRow, int64) {
		t.Helper()
		imp := importer.New(importer.Options{MaxBytes: 100 << 20, AllowPrivate: true, Sandbox: confine,
			ProgressInterval: 50 * time.Millisecond, CancelPoll: 100 * time.Millisecond},
			postgres.ImportStore{DB: e.pg}, importer.ContainerBlobs{Client: e.store.Container(), Name: e.store.ContainerName()}, e.progress, slog.New(slog.DiscardHandler))
		before := accepted.Load()
		id := e.queue(src.srv.URL + "/redirect")
		if err := imp.Run(context.Background(), id); err != nil {
			t.Fatalf("a refused source asked for redelivery: %v", err)
		}
		return e.video(id), accepted.Load() - before
	}

	t.Run("without the sandbox yt-dlp connects (the test can fail)", func(t *testing.T) {
		v, conns := run(t, nil)
		if conns == 0 {
			t.Fatalf("the FTP listener saw no connection without the sandbox: this test proves nothing (video %+v)", v)
		}
		if v.Status != "failed" || strings.Contains(v.Error, secret) {
			t.Errorf("video %+v: want failed without the server's text", v)
		}
	})
	t.Run("sandboxed", func(t *testing.T) {
		v, conns := run(t, confined())
		if conns != 0 {
			t.Errorf("the FTP listener accepted %d connections through the sandbox", conns)
		}
		if v.Status != "failed" || v.Error != "the source leads to an address or a protocol that imports may not use" {
			t.Errorf("video %+v, want failed with the fixed message for a refused connection", v)
		}
	})
}
