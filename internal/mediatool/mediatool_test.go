package mediatool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/sandbox"
)

func TestMain(m *testing.M) { mediatest.MainWithHandler(m) }

// storage serves files by name with range support, as Blob Storage does
// for a read URL, and counts requests.
type storage struct {
	srv   *httptest.Server
	files map[string][]byte
	hits  atomic.Int64
}

func newStorage(t *testing.T, files map[string][]byte) *storage {
	t.Helper()
	s := &storage{files: files}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		b, ok := s.files[r.URL.Path[1:]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *storage) url(name string) string { return s.srv.URL + "/" + name + "?sig=x" }

func newRunner(t *testing.T, st *storage, confined bool) *mediatool.Runner {
	t.Helper()
	o := mediatool.Options{Storage: st.srv.URL, ProbeTimeout: 30 * time.Second, Timeout: time.Minute}
	if confined {
		o.Sandbox = sandbox.Launcher{Self: mediatest.HandlerBinary()}.Wrap
	}
	r, err := mediatool.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestProbe(t *testing.T) {
	path := mediatest.ThreeSecondMP4(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := newStorage(t, map[string][]byte{"v.mp4": data})
	info, err := newRunner(t, st, true).Probe(t.Context(), st.url("v.mp4"))
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if want := mediatest.Duration(t, path); math.Abs(info.DurationSeconds-want) > 0.1 {
		t.Errorf("duration %v, want %v ± 0.1", info.DurationSeconds, want)
	}
	got := []any{info.SizeBytes, info.Width, info.Height, info.VideoCodec, info.AudioCodec, info.FrameRate}
	want := []any{int64(len(data)), 320, 240, "h264", "aac", 25.0}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("size, width, height, codecs, frame rate = %v, want %v", got, want)
			break
		}
	}
	if info.BitRate <= 0 || info.BytesRead <= 0 {
		t.Errorf("bit rate %d, bytes read %d: want both > 0", info.BitRate, info.BytesRead)
	}
}

func TestProbeUnreadable(t *testing.T) {
	// Starts like an MP4 (an ftyp box), then garbage.
	fake := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), bytes.Repeat([]byte("not a video "), 1000)...)
	st := newStorage(t, map[string][]byte{
		"text.mp4": []byte("hello, this is a text file, not a video\n"),
		"fake.mp4": fake,
	})
	r := newRunner(t, st, true)
	for _, name := range []string{"text.mp4", "fake.mp4"} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Probe(t.Context(), st.url(name))
			var ue *mediatool.UnreadableError
			if !errors.Is(err, mediatool.ErrUnreadable) || !errors.As(err, &ue) || ue.Reason == "" {
				t.Fatalf("Probe: %v, want an UnreadableError", err)
			}
		})
	}
	t.Run("missing blob is transient", func(t *testing.T) {
		_, err := r.Probe(t.Context(), st.url("gone.mp4"))
		if err == nil || errors.Is(err, mediatool.ErrUnreadable) {
			t.Fatalf("Probe of a 404: %v, want a transient error", err)
		}
	})
}

func TestInputMustBeOnStorage(t *testing.T) {
	st := newStorage(t, nil)
	r := newRunner(t, st, true)
	for _, u := range []string{"http://example.com/v.mp4", "file:///etc/passwd", "http://127.0.0.1:1/v.mp4", "not a url"} {
		if _, err := r.Probe(t.Context(), u); !errors.Is(err, mediatool.ErrForbiddenURL) {
			t.Errorf("Probe(%q) = %v, want ErrForbiddenURL", u, err)
		}
		if _, err := r.Start(t.Context(), []string{"-i", u, "-f", "null", "-"}, u); !errors.Is(err, mediatool.ErrForbiddenURL) {
			t.Errorf("Start(%q) = %v, want ErrForbiddenURL", u, err)
		}
	}
	if _, err := r.Start(t.Context(), []string{"-i", "http://example.com/x", "-f", "null", "-"}, st.url("v.mp4")); !errors.Is(err, mediatool.ErrForbiddenURL) {
		t.Errorf("Start with args that do not read the input URL: %v, want ErrForbiddenURL", err)
	}
}

// TestPosterThroughStart renders a JPEG to stdout, as the poster job does.
func TestPosterThroughStart(t *testing.T) {
	data, err := os.ReadFile(mediatest.ThreeSecondMP4(t))
	if err != nil {
		t.Fatal(err)
	}
	st := newStorage(t, map[string][]byte{"v.mp4": data})
	in := st.url("v.mp4")
	p, err := newRunner(t, st, true).Start(t.Context(), []string{"-ss", "1", "-i", in, "-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "pipe:1"}, in)
	if err != nil {
		t.Fatal(err)
	}
	out, readErr := io.ReadAll(p.Stdout)
	if err := p.Wait(); err != nil || readErr != nil {
		t.Fatalf("ffmpeg: %v, read: %v; stderr:\n%s", err, readErr, p.Stderr())
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decode the poster: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 240 {
		t.Errorf("poster %v, want 320x240", b)
	}
}

// listener accepts TCP connections and counts them, as a server inside the
// network would.
func listener(t *testing.T) (port int, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// TestSandboxStopsConnectionsOutsideTheProxy: ffmpeg is given a second
// input elsewhere. Over http:// it goes to the storage proxy, which refuses
// it; over tcp:// (no proxy involved) only the sandbox can stop it. The
// listener must see no connection either way.
func TestSandboxStopsConnectionsOutsideTheProxy(t *testing.T) {
	data, err := os.ReadFile(mediatest.ThreeSecondMP4(t))
	if err != nil {
		t.Fatal(err)
	}
	st := newStorage(t, map[string][]byte{"v.mp4": data})
	in := st.url("v.mp4")
	port, accepted := listener(t)
	run := func(t *testing.T, confined bool, other string) (conns, refused int64, err error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		before := accepted.Load()
		p, err := newRunner(t, st, confined).Start(ctx, []string{"-i", in, "-i", other, "-map", "0:v", "-map", "1", "-f", "null", "-"}, in)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, p.Stdout)
		err = p.Wait()
		return accepted.Load() - before, p.Refused(), err
	}
	tcp := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	httpURL := fmt.Sprintf("http://127.0.0.1:%d/x.mp4", port)

	t.Run("without the sandbox raw TCP connects (the test can fail)", func(t *testing.T) {
		if conns, _, _ := run(t, false, tcp); conns == 0 {
			t.Fatal("the listener saw no connection without the sandbox: this test proves nothing")
		}
	})
	t.Run("sandboxed raw TCP", func(t *testing.T) {
		conns, _, err := run(t, true, tcp)
		if conns != 0 {
			t.Errorf("the listener accepted %d connections through the sandbox", conns)
		}
		if err == nil {
			t.Error("ffmpeg succeeded reading an input it cannot reach")
		}
	})
	for _, confined := range []bool{false, true} {
		t.Run(fmt.Sprintf("http elsewhere refused by the proxy (sandbox %v)", confined), func(t *testing.T) {
			conns, refused, err := run(t, confined, httpURL)
			if conns != 0 || refused == 0 || err == nil {
				t.Errorf("connections %d, refused %d, err %v: want 0, > 0, an error", conns, refused, err)
			}
		})
	}
}

func TestProcessTimeLimitKills(t *testing.T) {
	data, err := os.ReadFile(mediatest.ThreeSecondMP4(t))
	if err != nil {
		t.Fatal(err)
	}
	st := newStorage(t, map[string][]byte{"v.mp4": data})
	in := st.url("v.mp4")
	r, err := mediatool.New(mediatool.Options{Storage: st.srv.URL, Timeout: 300 * time.Millisecond,
		Sandbox: sandbox.Launcher{Self: mediatest.HandlerBinary()}.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	// -re reads at the native rate and the loop never ends: only the
	// time limit stops it.
	p, err := r.Start(t.Context(), []string{"-re", "-stream_loop", "-1", "-i", in, "-f", "null", "-"}, in)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, p.Stdout)
	if err := p.Wait(); !errors.Is(err, mediatool.ErrTimeout) {
		t.Fatalf("Wait: %v, want ErrTimeout", err)
	}
}

// TestProbeOverHTTPS: Blob Storage in Azure is https; ffprobe reaches it
// through the proxy with CONNECT (its tls protocol reads http_proxy too).
func TestProbeOverHTTPS(t *testing.T) {
	data, err := os.ReadFile(mediatest.ThreeSecondMP4(t))
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	r, err := mediatool.New(mediatool.Options{Storage: srv.URL, Sandbox: sandbox.Launcher{Self: mediatest.HandlerBinary()}.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.Probe(t.Context(), srv.URL+"/v.mp4?sig=x")
	if err != nil {
		t.Fatalf("Probe over https: %v", err)
	}
	if info.Width != 320 || info.BytesRead == 0 || hits.Load() == 0 {
		t.Errorf("width %d, %d bytes through the proxy, %d requests; want 320, > 0, > 0", info.Width, info.BytesRead, hits.Load())
	}
}
