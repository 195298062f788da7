package netguard

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ytDLP returns the Debian yt-dlp; the test fails when it is missing.
func ytDLP(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("yt-dlp")
	if err != nil {
		t.Fatal("yt-dlp is not installed (make tools installs it)")
	}
	return path
}

// runYtDlp downloads url to stdout through p the way URL import runs it.
func runYtDlp(t *testing.T, bin string, p *testProxy, url string, extra ...string) (stdout []byte, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := []string{"--ignore-config", "--no-cache-dir", "--proxy", p.URL(), "-o", "-"}
	args = append(args, extra...)
	args = append(args, "--", url)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.String(), err
}

func TestYtDlpThroughTheProxy(t *testing.T) {
	bin := ytDLP(t)
	media := make([]byte, 300<<10)
	rand.Read(media)
	serveMedia := func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "file.mp4", time.Time{}, bytes.NewReader(media))
	}
	second := newServer(t, false, serveMedia)
	first := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect.mp4" {
			http.Redirect(w, r, second.URL+"/file.mp4", http.StatusFound)
			return
		}
		serveMedia(w, r)
	})
	secure := newServer(t, true, serveMedia)

	tests := []struct {
		name  string
		opts  Options
		url   string
		extra []string
		// wantOK: yt-dlp exits 0 with the media on stdout; otherwise it
		// exits non-zero and refused names a destination in Denied.
		wantOK  bool
		refused *countingServer
	}{
		{
			name:   "direct download with Allow",
			opts:   Options{Allow: []netip.AddrPort{first.addrPort(t)}},
			url:    first.URL + "/file.mp4",
			wantOK: true,
		},
		{
			name:    "redirect to a loopback port not allowed",
			opts:    Options{Allow: []netip.AddrPort{first.addrPort(t)}},
			url:     first.URL + "/redirect.mp4",
			refused: second,
		},
		{
			name:    "loopback refused without Allow or AllowPrivate",
			opts:    Options{},
			url:     first.URL + "/file.mp4",
			refused: first,
		},
		{
			name:   "https through CONNECT with Allow",
			opts:   Options{Allow: []netip.AddrPort{secure.addrPort(t)}},
			url:    secure.URL + "/file.mp4",
			extra:  []string{"--no-check-certificate"},
			wantOK: true,
		},
		{
			name:    "https CONNECT refused without Allow",
			opts:    Options{},
			url:     secure.URL + "/file.mp4",
			extra:   []string{"--no-check-certificate"},
			refused: secure,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.opts)
			var hitsBefore int64
			if tt.refused != nil {
				hitsBefore = tt.refused.hits.Load()
			}
			out, stderr, err := runYtDlp(t, bin, p, tt.url, tt.extra...)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("yt-dlp: %v\n%s", err, stderr)
				}
				if !bytes.Equal(out, media) {
					t.Errorf("got %d bytes, want the %d media bytes", len(out), len(media))
				}
				if len(p.Denied()) != 0 || p.dials.Load() == 0 {
					t.Errorf("Denied() = %q, dials = %d; want none denied and the download dialled by the proxy", p.Denied(), p.dials.Load())
				}
				return
			}
			if err == nil {
				t.Fatalf("yt-dlp exited 0 with %d bytes, want a failure\n%s", len(out), stderr)
			}
			if len(out) != 0 {
				t.Errorf("yt-dlp wrote %d bytes, want none", len(out))
			}
			if got := tt.refused.hits.Load() - hitsBefore; got != 0 {
				t.Errorf("refused server hits = %d, want 0", got)
			}
			assertDenied(t, p, tt.refused.addrPort(t).String())
			if !strings.Contains(stderr, "403") {
				t.Errorf("yt-dlp stderr does not mention the 403:\n%s", stderr)
			}
		})
	}
}
