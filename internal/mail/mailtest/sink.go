// Package mailtest runs a real SMTP server for tests: a Sink accepts every
// message sent to it over TCP on 127.0.0.1 and keeps it, parsed, so a test
// can wait for a mail and follow the link in it.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sink is an SMTP server on 127.0.0.1:<random port> that accepts every
// message and keeps it (options can slow it down or make it refuse
// recipients). It speaks plain SMTP only (no TLS, no STARTTLS),
// offers AUTH PLAIN and accepts any credentials when a client uses it
// (recording the username), and also accepts clients that do not
// authenticate. It is safe for concurrent use.
type Sink struct {
	addr *net.TCPAddr
	opts options

	mu       sync.Mutex
	messages []Received
	rejected []string      // recipients refused by RejectRecipients
	changed  chan struct{} // closed and replaced when a message arrives or a recipient is refused
	closed   bool          // set at cleanup; the server may log no more
	t        testing.TB
}

// Received is one message the Sink accepted. From and To are the SMTP
// envelope (MAIL FROM and RCPT TO, bare addresses); Subject is the decoded
// Subject header; Text and HTML are the decoded text/plain and text/html
// bodies (the first of each, searched through nested multiparts; the charset
// is assumed to be UTF-8); Raw is the message as sent; Username is the AUTH
// username, empty if the client did not authenticate.
type Received struct {
	From     string
	To       []string
	Subject  string
	Text     string
	HTML     string
	Raw      []byte
	Username string
}

// Option changes how a Sink behaves; see WithDelay, WithAddr and
// RejectRecipients.
type Option func(*options)

type options struct {
	delay  time.Duration
	addr   string
	reject func(rcpt string) bool
}

// WithDelay makes the Sink take d for every message: it answers the end of
// DATA only after d, as a slow SMTP server does.
func WithDelay(d time.Duration) Option { return func(o *options) { o.delay = d } }

// WithAddr makes the Sink listen on addr ("127.0.0.1:<port>") instead of a
// random port, so that a test can start it where a sender already points
// (an SMTP server that comes up late).
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// RejectRecipients makes the Sink refuse every RCPT TO for which reject
// returns true with a permanent "550 5.1.1 mailbox unavailable", as a
// server does for an address that does not exist. The attempt is recorded
// (see Rejected).
func RejectRecipients(reject func(rcpt string) bool) Option {
	return func(o *options) { o.reject = reject }
}

// NewSink starts a Sink and stops it when t's cleanup runs. It fails t if
// it cannot listen.
func NewSink(t testing.TB, opts ...Option) *Sink {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.addr == "" {
		o.addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		t.Fatalf("mail sink: listen: %v", err)
	}
	s := &Sink{addr: l.Addr().(*net.TCPAddr), opts: o, changed: make(chan struct{}), t: t}

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ErrorLog = sinkLogger{s}

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l) // returns nil once Close is called
	}()
	t.Cleanup(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		_ = srv.Close()
		// Close misses a listener that Serve has not registered yet (a
		// sink stopped right after it started); closing it here ends Serve
		// in that case too.
		_ = l.Close()
		<-served
	})
	return s
}

// Host returns the address the Sink listens on, "127.0.0.1".
func (s *Sink) Host() string { return s.addr.IP.String() }

// Port returns the TCP port the Sink listens on.
func (s *Sink) Port() int { return s.addr.Port }

// Messages returns a copy of every message received so far, oldest first.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.messages))
	for i, m := range s.messages {
		out[i] = m.clone()
	}
	return out
}

// WaitFor waits up to timeout for a message whose envelope recipients
// include to (compared case-insensitively) and returns the newest such
// message. It fails t if none arrives in time.
func (s *Sink) WaitFor(t testing.TB, to string, timeout time.Duration) Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i := len(s.messages) - 1; i >= 0; i-- {
			m := s.messages[i]
			if slices.ContainsFunc(m.To, func(rcpt string) bool { return strings.EqualFold(rcpt, to) }) {
				s.mu.Unlock()
				return m.clone()
			}
		}
		changed, seen := s.changed, s.recipientsLocked()
		s.mu.Unlock()

		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mail sink: no message to %q within %v; received for %v", to, timeout, seen)
			return Received{}
		}
	}
}

// Link returns the first URL (a word containing "://") in msg.Text that
// starts with prefix, without surrounding brackets or quotes or trailing
// punctuation. It fails t if there is none.
func Link(t testing.TB, msg Received, prefix string) string {
	t.Helper()
	for _, field := range strings.Fields(msg.Text) {
		field = strings.Trim(field, `<>()[]"'`)
		field = strings.TrimRight(field, ".,;:!?")
		if strings.Contains(field, "://") && strings.HasPrefix(field, prefix) {
			return field
		}
	}
	t.Fatalf("mail sink: no link starting with %q in the text of %q:\n%s", prefix, msg.Subject, msg.Text)
	return ""
}

// Rejected returns the recipients refused so far because of
// RejectRecipients, oldest first.
func (s *Sink) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// WaitRejected waits up to timeout until the Sink has refused a recipient
// equal to to (case-insensitively). It fails t otherwise.
func (s *Sink) WaitRejected(t testing.TB, to string, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		found := slices.ContainsFunc(s.rejected, func(r string) bool { return strings.EqualFold(r, to) })
		changed := s.changed
		s.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("mail sink: %q was not refused within %v", to, timeout)
			return
		}
	}
}

func (s *Sink) reject(rcpt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, rcpt)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) add(m Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Sink) recipientsLocked() []string {
	var out []string
	for _, m := range s.messages {
		out = append(out, m.To...)
	}
	return out
}

func (m Received) clone() Received {
	m.To = slices.Clone(m.To)
	m.Raw = bytes.Clone(m.Raw)
	return m
}

// session is one SMTP connection. go-smtp calls its methods from the
// connection's goroutine only.
type session struct {
	sink     *Sink
	username string
	from     string
	to       []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, _ string) error {
		s.username = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.sink.opts.reject != nil && s.sink.opts.reject(to) {
		s.sink.reject(to)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	m, err := parse(raw)
	if err != nil {
		// Refusing the message makes the sender's Send fail, which is where
		// a malformed message should surface.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mail sink: " + err.Error()}
	}
	m.From, m.To, m.Username = s.from, slices.Clone(s.to), s.username
	if d := s.sink.opts.delay; d > 0 {
		time.Sleep(d) // the slow server this option stands for
	}
	s.sink.add(m)
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// parse decodes raw into Subject, Text and HTML with the standard library.
func parse(raw []byte) (Received, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("parse message: %w", err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("decode subject: %w", err)
	}
	m := Received{Subject: subject, Raw: raw}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return Received{}, err
	}
	return m, nil
}

// walk stores the first text/plain and text/html bodies found in the part
// with the given headers, descending into multiparts.
func (m *Received) walk(contentType, encoding string, body io.Reader) error {
	mediaType, params := "text/plain", map[string]string{}
	if contentType != "" {
		var err error
		if mediaType, params, err = mime.ParseMediaType(contentType); err != nil {
			return fmt.Errorf("parse content type %q: %w", contentType, err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: NextPart would decode quoted-printable itself
			// and hide the header, but not base64.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s part: %w", mediaType, err)
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil // attachments and the like are not kept decoded
	}
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body) // skips CR and LF itself
	default: // 7bit, 8bit, binary or absent
		r = body
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("decode %s (%s): %w", mediaType, encoding, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && m.Text == "":
		m.Text = text
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

// sinkLogger reports the server's internal errors through the test's log
// while the test runs, and drops them after cleanup.
type sinkLogger struct{ s *Sink }

func (l sinkLogger) Printf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }

func (l sinkLogger) Println(v ...any) { l.log(fmt.Sprintln(v...)) }

func (l sinkLogger) log(line string) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if !l.s.closed {
		l.s.t.Logf("mail sink: %s", strings.TrimSpace(line))
	}
}
