package mail_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/mail"
	"github.com/videofn/videofn/internal/mail/mailtest"
)

const testPassword = "hunter2-Sm7p-secret"

// newSMTP returns an SMTP sender for cfg and fails t if NewSMTP refuses it.
func newSMTP(t *testing.T, cfg mail.SMTPConfig) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP(%+v): %v", cfg, err)
	}
	return s
}

func TestSMTPSendDelivers(t *testing.T) {
	sink := mailtest.NewSink(t)
	longLink := "https://app.videofn.test/auth/verify?token=" + strings.Repeat("a1B2c3D4", 12)
	tests := []struct {
		name         string
		host         string
		username     string
		to           string
		msg          mail.Message
		wantUsername string
	}{
		{
			name: "no auth",
			host: sink.Host(),
			to:   "jane@example.com",
			msg: mail.Message{
				Subject: "Confirm your email",
				Text:    "Hello,\n\nOpen " + longLink + " to confirm.\n",
				HTML:    `<p>Open <a href="` + longLink + `">this link</a>.</p>`,
			},
		},
		{
			name:         "auth plain on 127.0.0.1",
			host:         sink.Host(),
			username:     "mailer",
			to:           "Bob <bob@example.com>",
			msg:          mail.Message{Subject: "Café ✓ — über", Text: "Grüße, señor ✓\n", HTML: "<p>Grüße ✓</p>"},
			wantUsername: "mailer",
		},
		{
			name:         "auth plain on localhost",
			host:         "localhost",
			username:     "other-user",
			to:           "carol@example.com",
			msg:          mail.Message{Subject: "Reset your password", Text: "text body\n", HTML: "<p>html body</p>"},
			wantUsername: "other-user",
		},
		{
			name: "text only",
			host: sink.Host(),
			to:   "dave@example.com",
			msg:  mail.Message{Subject: "Plain", Text: "only text\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSMTP(t, mail.SMTPConfig{
				Host:     tt.host,
				Port:     sink.Port(),
				Username: tt.username,
				Password: testPassword,
				From:     "VideoFn <noreply@videofn.test>",
			})
			tt.msg.To = tt.to
			if err := s.Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			to, _ := netmail.ParseAddress(tt.to)
			got := sink.WaitFor(t, strings.ToUpper(to.Address), 5*time.Second)

			if got.From != "noreply@videofn.test" {
				t.Errorf("envelope from = %q, want noreply@videofn.test", got.From)
			}
			if len(got.To) != 1 || got.To[0] != to.Address {
				t.Errorf("envelope to = %q, want [%q]", got.To, to.Address)
			}
			if got.Subject != tt.msg.Subject {
				t.Errorf("subject = %q, want %q", got.Subject, tt.msg.Subject)
			}
			if got.Text != tt.msg.Text {
				t.Errorf("text = %q, want %q", got.Text, tt.msg.Text)
			}
			if got.HTML != tt.msg.HTML {
				t.Errorf("html = %q, want %q", got.HTML, tt.msg.HTML)
			}
			if got.Username != tt.wantUsername {
				t.Errorf("auth username = %q, want %q", got.Username, tt.wantUsername)
			}
			hdr, err := netmail.ReadMessage(strings.NewReader(string(got.Raw)))
			if err != nil {
				t.Fatalf("parse raw: %v", err)
			}
			if from, err := hdr.Header.AddressList("From"); err != nil || len(from) != 1 ||
				from[0].Name != "VideoFn" || from[0].Address != "noreply@videofn.test" {
				t.Errorf("From header = %v (%v), want VideoFn <noreply@videofn.test>", from, err)
			}
			if mid := hdr.Header.Get("Message-Id"); !strings.HasSuffix(mid, "@videofn.test>") {
				t.Errorf("Message-Id = %q, want one under the From domain", mid)
			}
			wantType := "multipart/alternative"
			if tt.msg.HTML == "" {
				wantType = "text/plain"
			}
			if ct := hdr.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
				t.Errorf("Content-Type = %q, want %s", ct, wantType)
			}
			if strings.Contains(string(got.Raw), testPassword) {
				t.Error("the raw message contains the password")
			}
		})
	}

	t.Run("link survives line wrapping", func(t *testing.T) {
		got := sink.WaitFor(t, "jane@example.com", time.Second)
		if link := mailtest.Link(t, got, "https://app.videofn.test/auth/verify?token="); link != longLink {
			t.Errorf("link = %q, want %q", link, longLink)
		}
	})
}

// TestSMTPSendConcurrent sends from several goroutines through one sender,
// each over its own connection, and expects every message to arrive.
func TestSMTPSendConcurrent(t *testing.T) {
	sink := mailtest.NewSink(t)
	s := newSMTP(t, mail.SMTPConfig{
		Host: sink.Host(), Port: sink.Port(), Username: "mailer", Password: testPassword, From: "noreply@videofn.test",
	})
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m := mail.Message{
				To:      fmt.Sprintf("user%d@example.com", i),
				Subject: fmt.Sprintf("message %d", i),
				Text:    "text", HTML: "<p>html</p>",
			}
			if err := s.Send(context.Background(), m); err != nil {
				errs <- fmt.Errorf("send %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		got := sink.WaitFor(t, fmt.Sprintf("user%d@example.com", i), 5*time.Second)
		if want := fmt.Sprintf("message %d", i); got.Subject != want || got.Username != "mailer" {
			t.Errorf("got subject %q by %q, want %q by mailer", got.Subject, got.Username, want)
		}
	}
	if got := len(sink.Messages()); got != n {
		t.Errorf("sink holds %d messages, want %d", got, n)
	}
}

func TestSMTPSendFailures(t *testing.T) {
	t.Parallel()
	// A port where nothing listens: take a free one and release it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	// A server that accepts connections and never says anything.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()

	tests := []struct {
		name    string
		port    int
		maxTime time.Duration
	}{
		{"connection refused", closedPort, 2 * time.Second},
		{"silent server", silent.Addr().(*net.TCPAddr).Port, mail.SendTimeout + 5*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSMTP(t, mail.SMTPConfig{
				Host: "127.0.0.1", Port: tt.port, Username: "mailer", Password: testPassword, From: "noreply@videofn.test",
			})
			start := time.Now()
			err := s.Send(context.Background(), mail.Message{To: "jane@example.com", Subject: "s", Text: "t"})
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			t.Logf("error after %v: %v", elapsed.Round(time.Millisecond), err)
			if elapsed > tt.maxTime {
				t.Errorf("Send took %v, want at most %v", elapsed, tt.maxTime)
			}
			if strings.Contains(err.Error(), testPassword) || strings.Contains(fmt.Sprintf("%+v", err), testPassword) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
}

// TestSMTPPort465UsesImplicitTLS checks that the first bytes on port 465 are
// a TLS handshake record, not an SMTP exchange. It needs to bind port 465.
func TestSMTPPort465UsesImplicitTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:465")
	if err != nil {
		t.Fatalf("cannot listen on 127.0.0.1:465 (needs root, as CI runs): %v", err)
	}
	t.Cleanup(func() { l.Close() })
	first := make(chan byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 1)
		if _, err := c.Read(b); err == nil {
			first <- b[0]
		}
	}()

	s := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: 465, From: "noreply@videofn.test"})
	if err := s.Send(context.Background(), mail.Message{To: "jane@example.com", Subject: "s", Text: "t"}); err == nil {
		t.Fatal("Send succeeded against a server that never answered")
	}
	select {
	case b := <-first:
		if b != 0x16 { // TLS handshake record
			t.Errorf("first byte = %#x, want 0x16 (TLS handshake)", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client sent nothing")
	}
}

func TestNewSMTPRejects(t *testing.T) {
	valid := mail.SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "u", Password: testPassword, From: "noreply@videofn.test"}
	tests := []struct {
		name        string
		edit        func(*mail.SMTPConfig)
		wantAddrErr bool
	}{
		{"empty host", func(c *mail.SMTPConfig) { c.Host = "" }, false},
		{"host with port", func(c *mail.SMTPConfig) { c.Host = "smtp.example.com:587" }, false},
		{"negative port", func(c *mail.SMTPConfig) { c.Port = -1 }, false},
		{"port too large", func(c *mail.SMTPConfig) { c.Port = 70000 }, false},
		{"empty from", func(c *mail.SMTPConfig) { c.From = "" }, true},
		{"from without at", func(c *mail.SMTPConfig) { c.From = "noreply" }, true},
		{"from list", func(c *mail.SMTPConfig) { c.From = "a@example.com, b@example.com" }, true},
		{"from with newline", func(c *mail.SMTPConfig) { c.From = "a@example.com\r\nBcc: x@example.com" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			s, err := mail.NewSMTP(cfg)
			if err == nil {
				t.Fatalf("NewSMTP(%+v) = %v, want an error", cfg, s)
			}
			if got := errors.Is(err, mail.ErrInvalidAddress); got != tt.wantAddrErr {
				t.Errorf("errors.Is(%v, ErrInvalidAddress) = %v, want %v", err, got, tt.wantAddrErr)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}

	t.Run("valid configs", func(t *testing.T) {
		for _, cfg := range []mail.SMTPConfig{
			valid,
			{Host: "smtp.example.com", Port: 465, From: "App <noreply@videofn.test>"},
			{Host: "smtp.example.com", From: "noreply@videofn.test"}, // port 0 = 587
			{Host: "localhost", Port: 1025, From: "noreply@localhost"},
		} {
			if _, err := mail.NewSMTP(cfg); err != nil {
				t.Errorf("NewSMTP(%+v): %v", cfg, err)
			}
		}
	})
}

// TestSendRejectsInvalidTo checks both senders refuse a bad recipient
// before doing anything.
func TestSendRejectsInvalidTo(t *testing.T) {
	sink := mailtest.NewSink(t)
	senders := map[string]mail.Sender{
		"smtp": newSMTP(t, mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "noreply@videofn.test"}),
		"log":  mail.NewLog(nil),
	}
	for _, to := range []string{"", "jane", "jane@", "a@example.com, b@example.com", "jane@example.com\r\nBcc: x@example.com"} {
		for name, s := range senders {
			t.Run(fmt.Sprintf("%s %q", name, to), func(t *testing.T) {
				err := s.Send(context.Background(), mail.Message{To: to, Subject: "s", Text: "t"})
				if !errors.Is(err, mail.ErrInvalidAddress) {
					t.Errorf("Send(to %q) = %v, want ErrInvalidAddress", to, err)
				}
			})
		}
	}
	if got := sink.Messages(); len(got) != 0 {
		t.Errorf("sink received %d messages, want none", len(got))
	}
}

func TestSMTPConfigHidesPassword(t *testing.T) {
	cfg := mail.SMTPConfig{Host: "smtp.example.com", Port: 587, Username: "mailer", Password: testPassword, From: "noreply@videofn.test"}
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		got := fmt.Sprintf(verb, cfg)
		if strings.Contains(got, testPassword) || !strings.Contains(got, "smtp.example.com") {
			t.Errorf("Sprintf(%q) = %q, want the host and no password", verb, got)
		}
	}
}

// TestSMTPSendErrorsArePermanentOrTransient: a refused recipient is a
// permanent failure, an unreachable server a transient one.
func TestSMTPSendErrorsArePermanentOrTransient(t *testing.T) {
	sink := mailtest.NewSink(t, mailtest.RejectRecipients(func(rcpt string) bool { return rcpt == "gone@example.com" }))
	s := newSMTP(t, mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "noreply@example.com"})
	msg := mail.Message{To: "gone@example.com", Subject: "s", Text: "t\n"}
	err := s.Send(context.Background(), msg)
	if !errors.Is(err, mail.ErrRejected) || !mail.Permanent(err) {
		t.Errorf("refused recipient: %v; want an error wrapping ErrRejected", err)
	}
	msg.To = "not an address"
	if err := s.Send(context.Background(), msg); !mail.Permanent(err) {
		t.Errorf("invalid address: %v; want a permanent error", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there now
	down := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: port, From: "noreply@example.com"})
	msg.To = "someone@example.com"
	if err := down.Send(context.Background(), msg); err == nil || mail.Permanent(err) {
		t.Errorf("server down: %v; want a transient error", err)
	}
}
