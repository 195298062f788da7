package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/videofn/videofn/internal/sandbox"
)

// Markers of the lines yt-dlp writes to stderr for us (--print and
// --progress-template); everything else on stderr is diagnostics.
const (
	metaMarker     = "[vfmeta] "
	progressMarker = "[vfprog] "
)

// ytdlpArgs returns the command line for one import. The media goes to
// stdout (-o -); progress and metadata come on stderr as marked lines.
// The URL comes after "--" so a URL such as "--exec=..." is never read as
// an option, and no shell is involved.
func ytdlpArgs(rawURL, proxyURL string, maxBytes int64, socketTimeout time.Duration) []string {
	args := []string{
		"--ignore-config", "--no-cache-dir", "--no-part", "--no-mtime",
		"--no-playlist", "--playlist-items", "1", // one item of a playlist at most
		"-f", "b[ext=mp4]/b", // a single file that plays as is (no merge)
		// Every protocol through yt-dlp's own downloaders (and so through
		// the proxy), never aria2c, curl, wget or ffmpeg as downloader.
		// RTMP, RTSP and MMS have no native downloader: yt-dlp would start
		// rtmpdump or mpv, which the sandbox confines like yt-dlp.
		"--downloader", "native",
		"--no-exec",                                       // drop any --exec (none is given; config is ignored too)
		"--max-filesize", strconv.FormatInt(maxBytes, 10), // early refusal when Content-Length says so; the cap is enforced on the stream too
		"--socket-timeout", strconv.FormatFloat(socketTimeout.Seconds(), 'f', -1, 64),
		"--retries", "3", "--fragment-retries", "3",
		"-q", "--no-warnings", "--progress", "--newline",
		"--no-simulate", "--print", "before_dl:" + metaMarker + "%(title)j %(ext)j",
		"--progress-template", "download:" + progressMarker +
			"%(progress.downloaded_bytes)s %(progress.total_bytes)s %(progress.total_bytes_estimate)s " +
			"%(progress.speed)s %(progress.eta)s %(progress.status)s",
		"-o", "-",
	}
	if proxyURL != "" {
		args = append(args, "--proxy", proxyURL)
	}
	return append(args, "--", rawURL)
}

// Meta is what yt-dlp reports about the media before downloading.
type Meta struct {
	Title string
	Ext   string
}

// Tick is one progress line. Unknown numbers are -1.
type Tick struct {
	Downloaded int64
	Total      int64
	Estimate   int64
	Speed      float64 // bytes per second
	ETA        int64   // seconds
}

// parseTick reads the fields of a progress line; "NA" becomes -1.
func parseTick(s string) (Tick, bool) {
	f := strings.Fields(s)
	if len(f) < 5 {
		return Tick{}, false
	}
	num := func(v string) int64 {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return -1
		}
		return int64(x)
	}
	speed, err := strconv.ParseFloat(f[3], 64)
	if err != nil {
		speed = -1
	}
	return Tick{Downloaded: num(f[0]), Total: num(f[1]), Estimate: num(f[2]), Speed: speed, ETA: num(f[4])}, true
}

// parseMeta reads "<json title> <json ext>".
func parseMeta(s string) (Meta, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	var m Meta
	if dec.Decode(&m.Title) != nil {
		return Meta{}, false
	}
	dec.Decode(&m.Ext)
	return m, true
}

// process is one running yt-dlp.
type process struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser

	mu     sync.Mutex
	errors []string // ERROR: lines and other diagnostics, last few
	done   chan struct{}
}

// maxDiagnostics bounds the stderr lines kept for error messages.
const maxDiagnostics = 20

// startYTDLP runs argv (yt-dlp, or the sandbox wrapping it) in its own
// process group (so a kill reaches any child it spawns, such as ffmpeg)
// with a minimal environment whose home, temp and working directory is
// work, and feeds marked stderr lines to onMeta and onTick. The caller
// reads stdout and then calls wait. Cancelling ctx kills the whole group.
func startYTDLP(ctx context.Context, argv []string, work string, onMeta func(Meta), onTick func(Tick)) (*process, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the whole process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TMPDIR=" + work, "LANG=C.UTF-8", "PYTHONUNBUFFERED=1"}
	cmd.Dir = work
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start yt-dlp: %w", err)
	}
	p := &process{cmd: cmd, stdout: stdout, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, progressMarker):
				if t, ok := parseTick(line[len(progressMarker):]); ok && onTick != nil {
					onTick(t)
				}
			case strings.HasPrefix(line, metaMarker):
				if m, ok := parseMeta(line[len(metaMarker):]); ok && onMeta != nil {
					onMeta(m)
				}
			default:
				p.mu.Lock()
				p.errors = append(p.errors, line)
				if len(p.errors) > maxDiagnostics {
					p.errors = p.errors[1:]
				}
				p.mu.Unlock()
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	return p, nil
}

// wait waits for the process and its stderr reader. It returns the exit
// code (-1 when killed) and the diagnostics yt-dlp printed.
func (p *process) wait() (int, []string, error) {
	<-p.done
	err := p.cmd.Wait()
	p.mu.Lock()
	diag := append([]string(nil), p.errors...)
	p.mu.Unlock()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, diag, nil
	case errors.As(err, &exit):
		return exit.ExitCode(), diag, nil
	}
	return -1, diag, err
}

// kill ends the process group at once.
func (p *process) kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// The messages a failed yt-dlp run can end with. They are fixed: yt-dlp's
// own text can quote what a server answered (an FTP banner, an internal
// error page), so it goes to the log only.
const (
	msgNotFound    = "the video was not found at this address"
	msgRefused     = "the source refused access to this video (it may be private, need a login or be blocked in this region)"
	msgForbidden   = "the source leads to an address or a protocol that imports may not use"
	msgUnreachable = "the source could not be reached"
	msgTimeout     = "the source did not answer in time"
	msgUnsupported = "this page has no video that can be imported"
	msgGeneric     = "the source could not be downloaded"
	msgIncomplete  = "the source stopped sending in the middle of the video and could not resume it; try again later"
)

// failureRules map the last ERROR line yt-dlp printed to a message; the
// first rule with a matching fragment (case-insensitive) wins.
var failureRules = []struct {
	fragments []string
	msg       string
}{
	// EACCES/EPERM from connect(2) or socket(2): the sandbox refused a
	// connection that did not go through the proxy (FTP, RTMP, ...).
	{[]string{"permission denied", "errno 13", "operation not permitted", "errno 1]"}, msgForbidden},
	{[]string{"unsupported url", "no video formats", "no suitable", "requested format is not available", "is not a valid url", "no video could be found", "unable to extract"}, msgUnsupported},
	{[]string{"http error 404", "http error 410", "not found"}, msgNotFound},
	{[]string{"http error 401", "http error 403", "http error 451", "private video", "sign in", "login", "log in", "members-only", "geo restrict", "not available in your country"}, msgRefused},
	{[]string{"timed out", "timeout", "http error 504", "tunnel connection failed: 504"}, msgTimeout},
	{[]string{"connection refused", "name or service not known", "temporary failure in name resolution", "no address associated",
		"network is unreachable", "no route to host", "connection reset", "tunnel connection failed", "unable to connect", "http error 502", "http error 503"}, msgUnreachable},
}

// describeFailure picks the message for yt-dlp's diagnostics: the last
// ERROR line decides; without one, the generic message.
func describeFailure(diag []string) string {
	for i := len(diag) - 1; i >= 0; i-- {
		line, ok := strings.CutPrefix(diag[i], "ERROR: ")
		if !ok {
			continue
		}
		line = strings.ToLower(line)
		for _, r := range failureRules {
			for _, f := range r.fragments {
				if strings.Contains(line, f) {
					return r.msg
				}
			}
		}
		return msgGeneric
	}
	return msgGeneric
}

// sandboxFailed reports whether the sandbox subcommand exited without
// starting yt-dlp (an installation problem, not the source's fault).
func sandboxFailed(exit int, diag []string) bool {
	if exit != sandbox.ExitFailed {
		return false
	}
	for _, l := range diag {
		if strings.HasPrefix(l, sandbox.FailedMarker) {
			return true
		}
	}
	return false
}

// redact joins diagnostics for the log, without the proxy's credentials
// should yt-dlp quote its proxy URL.
func redact(diag []string, proxyURL string) string {
	s := strings.Join(diag, "\n")
	if proxyURL != "" {
		s = strings.ReplaceAll(s, proxyURL, "[proxy]")
		if u, err := url.Parse(proxyURL); err == nil && u.User != nil {
			s = strings.ReplaceAll(s, u.User.String(), "[credentials]")
			if pass, ok := u.User.Password(); ok {
				s = strings.ReplaceAll(s, pass, "[credentials]")
			}
		}
	}
	return s
}
