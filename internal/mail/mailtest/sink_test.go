package mailtest

import (
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// send delivers raw through the standard library's SMTP client, so the
// sink is tested independently of the project's sender.
func send(t *testing.T, s *Sink, auth smtp.Auth, from string, to []string, raw string) {
	t.Helper()
	addr := net.JoinHostPort(s.Host(), strconv.Itoa(s.Port()))
	if err := smtp.SendMail(addr, auth, from, to, []byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestSinkDecodes(t *testing.T) {
	s := NewSink(t)
	tests := []struct {
		name     string
		raw      string
		wantSubj string
		wantText string
		wantHTML string
	}{
		{
			name: "single part, no encoding",
			raw: `Subject: Plain
Content-Type: text/plain; charset=utf-8

line one
line two
`,
			wantSubj: "Plain",
			wantText: "line one\nline two\n",
		},
		{
			name: "alternative, quoted-printable and base64, encoded subject",
			raw: `Subject: =?UTF-8?q?Caf=C3=A9_=E2=9C=93?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Open https://app.example/auth/verify?token=3Daaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=
bbbbbbbbbbbbbbbbbbbbb now.
--b1
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

PHA+R3LDvMOfZTwvcD4=
--b1--
`,
			wantSubj: "Café ✓",
			wantText: "Open https://app.example/auth/verify?token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbb now.",
			wantHTML: "<p>Grüße</p>",
		},
		{
			name: "alternative nested in mixed with an attachment",
			raw: `Subject: Nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

text part
--inner
Content-Type: text/html

<b>html part</b>
--inner--
--outer
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

AAEC
--outer--
`,
			wantSubj: "Nested",
			wantText: "text part",
			wantHTML: "<b>html part</b>",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := "user" + strconv.Itoa(i) + "@example.com"
			send(t, s, nil, "sender@example.com", []string{to}, tt.raw)
			got := s.WaitFor(t, to, 5*time.Second)
			if got.Subject != tt.wantSubj || got.Text != tt.wantText || got.HTML != tt.wantHTML {
				t.Errorf("got subject %q text %q html %q\nwant subject %q text %q html %q",
					got.Subject, got.Text, got.HTML, tt.wantSubj, tt.wantText, tt.wantHTML)
			}
			if got.From != "sender@example.com" || got.Username != "" || len(got.Raw) == 0 {
				t.Errorf("got from %q username %q raw %d bytes", got.From, got.Username, len(got.Raw))
			}
		})
	}
}

func TestSinkAuthAndWaitFor(t *testing.T) {
	s := NewSink(t)
	auth := smtp.PlainAuth("", "mailer", "any-password", s.Host())
	send(t, s, auth, "a@example.com", []string{"Jane@Example.com", "bob@example.com"}, "Subject: first\n\nbody\n")
	send(t, s, nil, "a@example.com", []string{"jane@example.com"}, "Subject: second\n\nbody\n")

	got := s.WaitFor(t, "JANE@example.COM", time.Second)
	if got.Subject != "second" {
		t.Errorf("WaitFor returned %q, want the newest message, %q", got.Subject, "second")
	}
	got = s.WaitFor(t, "bob@example.com", time.Second)
	if got.Subject != "first" || got.Username != "mailer" || len(got.To) != 2 {
		t.Errorf("got subject %q username %q to %q, want first by mailer to two", got.Subject, got.Username, got.To)
	}

	// A message that arrives while WaitFor waits is found.
	go func() {
		time.Sleep(100 * time.Millisecond)
		addr := net.JoinHostPort(s.Host(), strconv.Itoa(s.Port()))
		_ = smtp.SendMail(addr, nil, "a@example.com", []string{"late@example.com"}, []byte("Subject: late\r\n\r\nbody\r\n"))
	}()
	if got := s.WaitFor(t, "late@example.com", 5*time.Second); got.Subject != "late" {
		t.Errorf("got %q, want late", got.Subject)
	}

	msgs := s.Messages()
	if len(msgs) != 3 {
		t.Fatalf("Messages() has %d, want 3", len(msgs))
	}
	msgs[0].To[0] = "changed"
	if s.Messages()[0].To[0] == "changed" {
		t.Error("Messages() shares memory with the sink")
	}
}

func TestLink(t *testing.T) {
	tests := []struct {
		name, text, prefix, want string
	}{
		{"own line", "Open:\n\nhttps://app.example/auth/verify?token=abc\n", "https://app.example/auth/verify", "https://app.example/auth/verify?token=abc"},
		{"trailing period", "Go to https://app.example/auth/login.", "https://app.example/", "https://app.example/auth/login"},
		{"in brackets", "Link: <https://app.example/x?a=1&b=2>", "https://app.example/x", "https://app.example/x?a=1&b=2"},
		{"first of several", "https://other.example/ https://app.example/a https://app.example/b", "https://app.example/", "https://app.example/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Link(t, Received{Text: tt.text}, tt.prefix); got != tt.want {
				t.Errorf("Link = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSinkOptions(t *testing.T) {
	t.Run("delay", func(t *testing.T) {
		const delay = 200 * time.Millisecond
		s := NewSink(t, WithDelay(delay))
		start := time.Now()
		send(t, s, nil, "a@example.com", []string{"b@example.com"}, "Subject: slow\n\nbody\n")
		// A lower bound only: the sink sleeps at least delay before answering.
		if took := time.Since(start); took < delay {
			t.Errorf("send took %v, want at least %v", took, delay)
		}
	})
	t.Run("fixed address", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s := NewSink(t, WithAddr(addr))
		if got := net.JoinHostPort(s.Host(), strconv.Itoa(s.Port())); got != addr {
			t.Errorf("listening on %s, want %s", got, addr)
		}
	})
	t.Run("reject recipients", func(t *testing.T) {
		s := NewSink(t, RejectRecipients(func(rcpt string) bool { return strings.HasPrefix(rcpt, "nobody@") }))
		addr := net.JoinHostPort(s.Host(), strconv.Itoa(s.Port()))
		err := smtp.SendMail(addr, nil, "a@example.com", []string{"nobody@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"))
		if err == nil || !strings.HasPrefix(err.Error(), "550") {
			t.Fatalf("send to a refused recipient: %v, want a 550 error", err)
		}
		s.WaitRejected(t, "nobody@example.com", 5*time.Second)
		send(t, s, nil, "a@example.com", []string{"somebody@example.com"}, "Subject: ok\n\nbody\n")
		if got := s.Rejected(); len(got) != 1 || len(s.Messages()) != 1 {
			t.Errorf("rejected %v, messages %d; want one of each", got, len(s.Messages()))
		}
	})
}
