package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/mail"
)

func TestRender(t *testing.T) {
	const hostile = `<script>alert("x")</script> Jane`
	tests := []struct {
		kind     mail.Kind
		link     string
		expires  time.Duration
		wantText []string // also expected in the HTML, escaped
	}{
		{mail.VerifyEmail, "https://app.videofn.test/auth/verify?token=v3r1fy", 24 * time.Hour, []string{"confirm", "24 hours", "ignore"}},
		{mail.AlreadyRegistered, "https://app.videofn.test/auth/login", 0, []string{"already exists", "reset your password", "ignore"}},
		{mail.ResetPassword, "https://app.videofn.test/auth/reset-password?token=r3s3t", time.Hour, []string{"reset", "1 hour", "ignore"}},
		{mail.PasswordChanged, "https://app.videofn.test/auth/reset-password", 0, []string{"was just changed", "If you did not"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			m, err := mail.Render(tt.kind, "jane@example.com", mail.Data{
				Name: hostile, Link: tt.link, AppName: "VideoFn", ExpiresIn: tt.expires,
			})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if m.To != "jane@example.com" || m.Subject == "" || m.Text == "" || m.HTML == "" {
				t.Fatalf("incomplete message: %+v", m)
			}
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject %q has a line break", m.Subject)
			}
			for _, body := range []string{m.Text, m.HTML} {
				if !strings.Contains(body, tt.link) {
					t.Errorf("body does not contain the link %q:\n%s", tt.link, body)
				}
				for _, w := range tt.wantText {
					if !strings.Contains(body, w) {
						t.Errorf("body does not contain %q:\n%s", w, body)
					}
				}
			}
			if !strings.Contains(m.Text, "Hi "+hostile+",") {
				t.Errorf("text does not greet by name:\n%s", m.Text)
			}
			if strings.Contains(m.HTML, "<script>") {
				t.Errorf("html contains an unescaped <script>:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Errorf("html does not contain the escaped name:\n%s", m.HTML)
			}
		})
	}
}

func TestRenderDetails(t *testing.T) {
	base := mail.Data{Link: "https://app.videofn.test/auth/verify?token=t", AppName: "VideoFn", ExpiresIn: time.Hour}

	t.Run("no name", func(t *testing.T) {
		m, err := mail.Render(mail.VerifyEmail, "jane@example.com", base)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Text, "Hello,\n") || !strings.Contains(m.HTML, "Hello,") {
			t.Errorf("want a greeting without name, got text:\n%s", m.Text)
		}
	})

	t.Run("name is cleaned", func(t *testing.T) {
		d := base
		d.Name = "Jane\r\nBcc: x\u202e  " + strings.Repeat("n", 100)
		m, err := mail.Render(mail.VerifyEmail, "jane@example.com", d)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(m.Text, "\n")
		want := "Hi " + ("Jane Bcc: x " + strings.Repeat("n", 100))[:64] + ","
		if first != want {
			t.Errorf("greeting = %q, want %q", first, want)
		}
	})

	t.Run("unsafe link is neutralised in html", func(t *testing.T) {
		d := base
		d.Link = "javascript:alert(1)"
		m, err := mail.Render(mail.ResetPassword, "jane@example.com", d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.HTML, `href="javascript:`) {
			t.Errorf("html links to javascript:\n%s", m.HTML)
		}
	})

	errCases := []struct {
		name string
		kind mail.Kind
		edit func(*mail.Data)
	}{
		{"zero kind", 0, func(*mail.Data) {}},
		{"unknown kind", mail.PasswordChanged + 1, func(*mail.Data) {}},
		{"no link", mail.AlreadyRegistered, func(d *mail.Data) { d.Link = " " }},
		{"no app name", mail.PasswordChanged, func(d *mail.Data) { d.AppName = "" }},
		{"no expiry for verify", mail.VerifyEmail, func(d *mail.Data) { d.ExpiresIn = 0 }},
		{"no expiry for reset", mail.ResetPassword, func(d *mail.Data) { d.ExpiresIn = -time.Hour }},
	}
	for _, tt := range errCases {
		t.Run(tt.name, func(t *testing.T) {
			d := base
			tt.edit(&d)
			if m, err := mail.Render(tt.kind, "jane@example.com", d); err == nil {
				t.Errorf("Render = %+v, want an error", m)
			}
		})
	}
}
