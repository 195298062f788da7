package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/mail/mailtest"
)

// TestAccountFlowThroughRun checks the wiring main does for accounts (SMTP
// mail, Redis limits, PostgreSQL store, cookies): register, read the link
// from the real mail, verify, log in, call an authenticated route, refresh.
func TestAccountFlowThroughRun(t *testing.T) {
	sink := mailtest.NewSink(t)
	env := testEnv(t)
	env["SMTP_HOST"] = sink.Host()
	env["SMTP_PORT"] = strconv.Itoa(sink.Port())
	env["SMTP_FROM"] = "noreply@example.com"
	h := start(t, env)

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path, body string, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	if resp, body := post("/api/auth/register", `{"email":"wire@example.com","password":"wire password"}`, nil); resp.StatusCode != 202 {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	msg := sink.WaitFor(t, "wire@example.com", 10*time.Second)
	link, err := url.Parse(mailtest.Link(t, msg, "http://localhost:3000/auth/verify?token="))
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := post("/api/auth/verify-email", `{"token":"`+link.Query().Get("token")+`"}`, nil); resp.StatusCode != 200 {
		t.Fatalf("verify: %d %s", resp.StatusCode, body)
	}
	resp, body := post("/api/auth/login", `{"email":"wire@example.com","password":"wire password"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	var s struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &s)

	req, _ := http.NewRequest(http.MethodGet, h.URL+"/api/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	me, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	me.Body.Close()
	if me.StatusCode != 200 {
		t.Fatalf("me: %d", me.StatusCode)
	}

	u, _ := url.Parse(h.URL + "/api/auth/refresh")
	var csrf string
	for _, c := range jar.Cookies(u) {
		if c.Name == "csrf_token" {
			csrf = c.Value
		}
	}
	if resp, body := post("/api/auth/refresh", "", map[string]string{"X-CSRF-Token": csrf}); resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
}

// TestLogMailerWithoutSMTPHost: without SMTP_HOST (`make dev`), the mail
// sender writes outbox mails to the log, link included, through the local
// mail queue.
func TestLogMailerWithoutSMTPHost(t *testing.T) {
	env := testEnv(t)
	h := start(t, env)
	ctx := context.Background()
	conn := connectDB(t, env)
	if _, err := conn.Exec(ctx, `INSERT INTO users (email, name, password_hash) VALUES ('dev@example.com', 'Dev', 'x')`); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(h.URL+"/api/auth/password/forgot", "application/json", strings.NewReader(`{"email":"dev@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("forgot: %d", resp.StatusCode)
	}
	line := h.logs.waitFor(t, "mail not sent (no SMTP_HOST): logged for development", 30*time.Second)
	if text, _ := line["text"].(string); line["to"] != "dev@example.com" || !strings.Contains(text, "http://localhost:3000/auth/reset-password?token=") {
		t.Errorf("logged mail: %v", line)
	}
}
