package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/sandbox"
)

func TestDescribeFailureNeverQuotesYtDlp(t *testing.T) {
	tests := []struct {
		name string
		diag []string
		want string
	}{
		{"404", []string{"ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: 'Not Found'>)"}, msgNotFound},
		{"403", []string{"ERROR: [generic] x: Unable to download webpage: HTTP Error 403: Forbidden"}, msgRefused},
		{"private", []string{"ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video"}, msgRefused},
		{"sandbox refused the connection", []string{"ERROR: [generic] None: Unable to download webpage: <urlopen error [Errno 13] Permission denied> (caused by URLError(PermissionError(13, 'Permission denied')))"}, msgForbidden},
		{"FTP server text", []string{"ERROR: [generic] None: Unable to download webpage: <urlopen error ftp error: error_perm('530 internal-ftp-7f3a9c says: not logged in')>"}, msgGeneric},
		{"refused", []string{"ERROR: Unable to download webpage: <urlopen error [Errno 111] Connection refused>"}, msgUnreachable},
		{"proxy could not reach", []string{"ERROR: Unable to download webpage: Tunnel connection failed: 502 Bad Gateway"}, msgUnreachable},
		{"dns", []string{"ERROR: Unable to download webpage: <urlopen error [Errno -2] Name or service not known>"}, msgUnreachable},
		{"timeout", []string{"ERROR: Unable to download webpage: The read operation timed out"}, msgTimeout},
		{"unsupported", []string{"ERROR: Unsupported URL: https://example.com/login"}, msgUnsupported},
		{"no formats", []string{"WARNING: x", "ERROR: [generic] page: No video formats found!; please report this issue"}, msgUnsupported},
		{"the last ERROR decides", []string{"ERROR: HTTP Error 404: Not Found", "ERROR: [Errno 111] Connection refused"}, msgUnreachable},
		{"no ERROR line", []string{"Traceback (most recent call last):", "secret internal text"}, msgGeneric},
		{"nothing", nil, msgGeneric},
	}
	all := []string{msgNotFound, msgRefused, msgForbidden, msgUnreachable, msgTimeout, msgUnsupported, msgGeneric}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeFailure(tt.diag)
			if got != tt.want {
				t.Errorf("describeFailure = %q, want %q", got, tt.want)
			}
			known := false
			for _, m := range all {
				known = known || got == m
			}
			if !known {
				t.Errorf("%q is not one of the fixed messages", got)
			}
		})
	}
}

func TestSandboxFailureIsNotTheSourcesFault(t *testing.T) {
	line := sandbox.FailedMarker + "landlock ABI 7: BUG"
	if !sandboxFailed(sandbox.ExitFailed, []string{line}) {
		t.Error("a sandbox that did not start yt-dlp was not recognised")
	}
	if sandboxFailed(1, []string{line}) || sandboxFailed(sandbox.ExitFailed, []string{"ERROR: x"}) {
		t.Error("a yt-dlp failure was taken for a sandbox failure")
	}
}

func TestRedactKeepsProxyCredentialsOutOfTheLog(t *testing.T) {
	got := redact([]string{"ERROR: Unable to connect to proxy http://user1:pass1@127.0.0.1:4000", "pass1 again"}, "http://user1:pass1@127.0.0.1:4000")
	if strings.Contains(got, "pass1") || strings.Contains(got, "user1") {
		t.Errorf("redact = %q", got)
	}
}

type failingProgress struct{}

func (failingProgress) Set(ctx context.Context, p Progress) error {
	return errors.New("redis: connection refused")
}

// TestProgressWarningsAreThrottled: with Redis down every progress write
// fails; the log gets one warning per 5 s with the number left out, not
// one per write.
func TestProgressWarningsAreThrottled(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	im := New(Options{}, nil, nil, failingProgress{}, log)
	im.progressWarn.now = func() time.Time { return now }
	pw := &progressWriter{store: failingProgress{}, interval: 0, onError: func(err error) {
		im.progressWarn.warn(log, "progress not written", err)
	}}
	write := func(n int) {
		for range n {
			pw.update(context.Background(), true, func(*Progress) {})
		}
	}
	warnings := func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "progress not written" {
				out = append(out, rec)
			}
		}
		return out
	}

	write(50)
	now = now.Add(4 * time.Second)
	write(50)
	if got := warnings(); len(got) != 1 {
		t.Fatalf("%d warnings for 100 failed writes within 5 s, want 1", len(got))
	}
	now = now.Add(time.Second)
	write(1)
	got := warnings()
	if len(got) != 2 || got[1]["suppressed"] != float64(99) {
		t.Fatalf("after 5 s: %v, want a second warning counting the 99 left out", got)
	}
}

// recordingProgress reports every write on a channel.
type recordingProgress chan Progress

func (r recordingProgress) Set(_ context.Context, p Progress) error {
	r <- p
	return nil
}

// TestHeldBackProgressIsWrittenLater: a change that comes within the
// interval of the last write is not lost; it is written when the interval
// ends, even if nothing else happens (a source that stalls). Before, the
// import looked stuck at its previous state until the next change.
func TestHeldBackProgressIsWrittenLater(t *testing.T) {
	writes := make(recordingProgress, 10)
	pw := &progressWriter{store: writes, interval: time.Hour}
	pw.acked(t.Context(), 1)
	if p := <-writes; p.BytesUploaded != 1 {
		t.Fatalf("first write: %d bytes, want 1", p.BytesUploaded)
	}
	pw.interval = 10 * time.Millisecond
	pw.acked(t.Context(), 2) // held back only if the first write was under 10 ms ago
	pw.acked(t.Context(), 3) // held back: 2 was just written, or is pending
	for {
		select {
		case p := <-writes:
			if p.BytesUploaded == 3 {
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the last change was never written")
		}
	}
}
