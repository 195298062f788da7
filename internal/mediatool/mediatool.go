// Package mediatool runs ffprobe and ffmpeg on stored videos, the way the
// importer runs yt-dlp: no shell, its own process group (a kill reaches
// every child), a time limit, stderr kept only as a bounded tail for the
// log, stdout as a stream, and — when a sandbox is configured — confined by
// `handler sandbox-exec` (internal/sandbox) so that the only TCP port the
// tool can connect to is a per-run proxy that relays to the storage
// endpoint and nowhere else.
//
// Media never touches the local disk: the tools read a short-lived read
// URL with HTTP range requests through the proxy, and ffmpeg writes its
// output to stdout for the caller to stage into Blob Storage.
//
// Errors are classified: ErrUnreadable (the input is not media the tools
// can read; permanent, record it and acknowledge) versus everything else
// (storage unreachable, time limit, sandbox missing: transient).
package mediatool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/videofn/videofn/internal/sandbox"
	"github.com/videofn/videofn/internal/toolexec"
)

// ErrUnreadable is matched (errors.Is) by the error of a run whose input is
// not media the tool can read: not a video, damaged, no video track. It is
// permanent; UnreadableError carries the reason in words.
var ErrUnreadable = errors.New("the file is not a video that can be read")

// ErrForbiddenURL is returned by Start and Probe for an input URL that is
// not on the storage endpoint; nothing was started.
var ErrForbiddenURL = errors.New("the input URL is not on the storage endpoint")

// ErrTimeout is matched by the error of a run that hit its time limit.
var ErrTimeout = errors.New("the media tool ran out of time")

// ErrTooLarge is returned by Process.Stdout's Read when the tool wrote more
// than Options.MaxOutputBytes; the process is killed.
var ErrTooLarge = errors.New("the media tool wrote more than allowed")

// ErrSandbox is matched by the error of a run that the sandbox could not
// start (an installation problem; transient).
var ErrSandbox = errors.New("the media tool sandbox could not start")

// UnreadableError is a permanent failure with a reason safe to show to the
// video's owner. errors.Is(err, ErrUnreadable) is true.
type UnreadableError struct{ Reason string }

func (e *UnreadableError) Error() string { return e.Reason }

// Is makes errors.Is(e, ErrUnreadable) true.
func (e *UnreadableError) Is(target error) bool { return target == ErrUnreadable }

// Options configure a Runner. Zero values take the defaults.
type Options struct {
	// FFprobePath and FFmpegPath (settings FFPROBE_PATH, FFMPEG_PATH) are
	// the programs; a bare name is looked up on PATH. A file that this
	// process may not execute (a read-only package mount) is copied to the
	// temp directory first. Defaults "ffprobe", "ffmpeg".
	FFprobePath string
	FFmpegPath  string
	// Storage is the storage endpoint (any URL on it, such as the container
	// URL): the only host:port the tools may reach, and the only one an
	// input URL may name. Required.
	Storage string
	// Sandbox wraps a command line (argv[0] the program) so that it runs
	// confined to connecting to proxyPort: sandbox.Launcher.Wrap. Nil runs
	// the tool with only its proxy setting between it and the network
	// (tests that show what the sandbox prevents).
	Sandbox func(proxyPort uint16, workDir string, argv []string) []string
	// ProbeTimeout bounds one Probe; default 60 s.
	ProbeTimeout time.Duration
	// Timeout bounds one Start'ed process; default 30 min.
	Timeout time.Duration
	// MaxOutputBytes bounds what a process may write to stdout; default
	// 8 GiB.
	MaxOutputBytes int64
	// StderrTail is how many bytes of stderr are kept for the log; default
	// 16 KiB.
	StderrTail int
}

// Runner starts media tools. It is safe for concurrent use.
type Runner struct {
	opts    Options
	allowed string // storage "host:port"
	ffprobe func() (string, error)
	ffmpeg  func() (string, error)
}

// New returns a Runner. It fails when Options.Storage is not an http(s)
// URL with a host.
func New(o Options) (*Runner, error) {
	if o.FFprobePath == "" {
		o.FFprobePath = "ffprobe"
	}
	if o.FFmpegPath == "" {
		o.FFmpegPath = "ffmpeg"
	}
	if o.ProbeTimeout == 0 {
		o.ProbeTimeout = 60 * time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.MaxOutputBytes == 0 {
		o.MaxOutputBytes = 8 << 30
	}
	if o.StderrTail == 0 {
		o.StderrTail = 16 << 10
	}
	u, err := url.Parse(o.Storage)
	if err != nil || hostPort(u) == "" {
		return nil, fmt.Errorf("mediatool: storage endpoint %q is not an http(s) URL", o.Storage)
	}
	return &Runner{opts: o, allowed: hostPort(u),
		ffprobe: preparedOnce(o.FFprobePath), ffmpeg: preparedOnce(o.FFmpegPath)}, nil
}

// preparedOnce prepares path on first use and keeps it once it works; a
// failure is retried by the next run (the tool may be installed meanwhile).
func preparedOnce(path string) func() (string, error) {
	var mu sync.Mutex
	var ready string
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if ready != "" {
			return ready, nil
		}
		p, err := toolexec.Prepare(path)
		if err != nil {
			return "", err
		}
		ready = p
		return p, nil
	}
}

// checkInput refuses an input URL that is not on the storage endpoint.
func (r *Runner) checkInput(inputURL string) error {
	u, err := url.Parse(inputURL)
	if err != nil || hostPort(u) != r.allowed || u.User != nil {
		return ErrForbiddenURL
	}
	return nil
}

// protocols is the input protocol whitelist: what an HTTP(S) read URL
// needs, so that a crafted input (a playlist naming file: or other
// protocols) cannot make the tool open anything else.
const protocols = "http,https,tls,tcp,httpproxy"

// Option adjusts one Start.
type Option func(*startConfig)

type startConfig struct {
	onLine func(line string) (consumed bool)
}

// WithStderrLines hands every stderr line to f (for ffmpeg's -progress
// pipe:2 output); lines for which f returns true are not kept in the
// stderr tail.
func WithStderrLines(f func(line string) (consumed bool)) Option {
	return func(c *startConfig) { c.onLine = f }
}

// Process is one running ffmpeg. Read Stdout to its end, then call Wait.
type Process struct {
	// Stdout is the tool's standard output. A read fails with ErrTooLarge
	// past Options.MaxOutputBytes (and the process is killed).
	Stdout io.Reader

	cmd    *exec.Cmd
	tool   string // "ffmpeg", "ffprobe": for errors
	proxy  *storageProxy
	cancel context.CancelFunc
	ctx    context.Context
	done   chan struct{}
	tail   *tailBuffer
	once   sync.Once
	err    error
}

// Start runs ffmpeg with args (without the program name), which must read
// inputURL with "-i inputURL". Start adds -nostdin, -hide_banner and the
// input protocol whitelist (just before "-i inputURL") and points the tool
// at the storage proxy. It returns ErrForbiddenURL, having started nothing,
// when inputURL is not on the storage endpoint or args do not read it.
// Cancelling ctx, Kill or the time limit kill the whole process group.
func (r *Runner) Start(ctx context.Context, args []string, inputURL string, opts ...Option) (*Process, error) {
	if err := r.checkInput(inputURL); err != nil {
		return nil, err
	}
	i := slices.Index(args, inputURL)
	if i < 1 || args[i-1] != "-i" {
		return nil, fmt.Errorf("%w: the arguments do not read it with -i", ErrForbiddenURL)
	}
	var cfg startConfig
	for _, o := range opts {
		o(&cfg)
	}
	path, err := r.ffmpeg()
	if err != nil {
		return nil, err
	}
	full := []string{path, "-nostdin", "-hide_banner"}
	full = append(full, args[:i-1]...)
	full = append(full, "-protocol_whitelist", protocols)
	full = append(full, args[i-1:]...)
	return r.start(ctx, full, r.opts.Timeout, cfg)
}

// start runs argv (program first) behind a fresh storage proxy.
func (r *Runner) start(ctx context.Context, argv []string, limit time.Duration, cfg startConfig) (*Process, error) {
	proxy, err := startProxy(r.allowed)
	if err != nil {
		return nil, err
	}
	tool := filepath.Base(argv[0])
	if r.opts.Sandbox != nil {
		argv = r.opts.Sandbox(proxy.Port(), "", argv)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	// http_proxy reaches ffmpeg's http and tls protocols alike (HTTPS goes
	// through CONNECT), so the tool never resolves a name itself. In the
	// environment rather than on the command line, where other local
	// processes could read the proxy's credentials.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=/nonexistent", "http_proxy=" + proxy.URL()}
	cmd.Dir = "/"
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		proxy.Close()
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		proxy.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		proxy.Close()
		return nil, fmt.Errorf("start %s: %w", tool, err)
	}
	p := &Process{cmd: cmd, tool: tool, proxy: proxy, cancel: cancel, ctx: ctx, done: make(chan struct{}),
		tail: &tailBuffer{max: r.opts.StderrTail}}
	p.Stdout = &limitedReader{r: stdout, left: r.opts.MaxOutputBytes, kill: p.Kill}
	go func() {
		defer close(p.done)
		readLines(stderr, func(line string) {
			if cfg.onLine != nil && cfg.onLine(line) {
				return
			}
			p.tail.WriteLine(line)
		})
	}()
	return p, nil
}

// Kill ends the process group at once. Wait still has to be called.
func (p *Process) Kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// BytesRead is how many bytes storage has sent to the tool so far.
func (p *Process) BytesRead() int64 { return p.proxy.BytesRead() }

// Refused is how many of the tool's requests the proxy refused because
// they were not for the storage endpoint.
func (p *Process) Refused() int64 { return p.proxy.Refused() }

// Stderr is the tail of the tool's diagnostics, for the log only (it can
// quote what storage answered; never show it to users). It waits until the
// tool has closed its stderr: call it after reading Stdout to the end.
func (p *Process) Stderr() string {
	<-p.done
	return redact(p.tail.String(), p.proxy.URL())
}

// Wait waits for the process to exit and releases its proxy. It returns
// nil for exit status 0; otherwise an error matching ErrUnreadable (with
// an UnreadableError reason), ErrTimeout, ErrSandbox, ctx's error, or a
// transient error that quotes the last stderr line for the log. Calling
// it again returns the same error.
func (p *Process) Wait() error {
	p.once.Do(func() {
		<-p.done
		err := p.cmd.Wait()
		ctxErr := p.ctx.Err() // before cancel, which sets it
		p.cancel()
		p.proxy.Close()
		p.err = p.classify(err, ctxErr)
	})
	return p.err
}

func (p *Process) classify(err, ctxErr error) error {
	if err == nil {
		return nil
	}
	name := p.tool
	diag := redact(p.tail.String(), p.proxy.URL())
	var exit *exec.ExitError
	switch {
	case errors.Is(ctxErr, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", name, ErrTimeout)
	case ctxErr != nil:
		return fmt.Errorf("%s: %w", name, ctxErr)
	case errors.As(err, &exit) && exit.ExitCode() == sandbox.ExitFailed && strings.Contains(diag, sandbox.FailedMarker):
		return fmt.Errorf("%s: %w: %s", name, ErrSandbox, lastLine(diag))
	}
	if reason := unreadableReason(diag); reason != "" {
		return &UnreadableError{Reason: reason}
	}
	return fmt.Errorf("%s: %w: %s", name, err, lastLine(diag))
}

// unreadableRules map ffmpeg's diagnostics about the input itself to a
// reason in words; the first rule with a matching fragment wins. Failures
// of the transport (HTTP errors, connection problems) match none: they
// are transient.
var unreadableRules = []struct {
	fragments []string
	reason    string
}{
	{[]string{"moov atom not found"}, "the file is incomplete or damaged: its index (moov atom) is missing"},
	{[]string{"invalid data found when processing input", "could not find codec parameters", "unknown format", "ebml header parsing failed", "format not recognized"}, "the file is not in a video format that can be read"},
	{[]string{"decoding error", "error while decoding", "invalid nal unit", "no frame!"}, "the video data is damaged and cannot be decoded"},
	{[]string{"output file is empty, nothing was encoded", "output file #0 does not contain any stream"}, "the file has no picture that can be decoded"},
}

// unreadableReason returns the reason for diagnostics that blame the
// input, or "".
func unreadableReason(diag string) string {
	low := strings.ToLower(diag)
	if strings.Contains(low, "server returned") || strings.Contains(low, "connection refused") || strings.Contains(low, "connection reset") {
		return "" // the transport failed, not the media
	}
	for _, r := range unreadableRules {
		for _, f := range r.fragments {
			if strings.Contains(low, f) {
				return r.reason
			}
		}
	}
	return ""
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// redact removes the proxy's credentials should the tool quote them.
func redact(s, proxyURL string) string {
	s = strings.ReplaceAll(s, proxyURL, "[proxy]")
	if u, err := url.Parse(proxyURL); err == nil && u.User != nil {
		if pass, ok := u.User.Password(); ok {
			s = strings.ReplaceAll(s, pass, "[credentials]")
		}
	}
	return s
}

// readLines calls f with every line of r (long lines cut at 64 KiB), then
// drains r.
func readLines(r io.Reader, f func(string)) {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		data := chunk[:n]
		for len(data) > 0 {
			// ffmpeg ends progress lines with \r at times; both end a line.
			i := bytes.IndexAny(data, "\r\n")
			if i < 0 {
				if len(buf)+len(data) <= 64<<10 {
					buf = append(buf, data...)
				}
				break
			}
			if len(buf)+i <= 64<<10 {
				buf = append(buf, data[:i]...)
			}
			if len(buf) > 0 {
				f(string(buf))
			}
			buf = buf[:0]
			data = data[i+1:]
		}
		if err != nil {
			if len(buf) > 0 {
				f(string(buf))
			}
			return
		}
	}
}

// tailBuffer keeps the last max bytes of the lines written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) WriteLine(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, line...)
	t.b = append(t.b, '\n')
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// limitedReader fails with ErrTooLarge, and kills the process, once more
// than left bytes were read.
type limitedReader struct {
	r    io.Reader
	left int64
	kill func()
}

func (l *limitedReader) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	l.left -= int64(n)
	if l.left < 0 {
		l.kill()
		return 0, ErrTooLarge
	}
	return n, err
}
