package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/apitest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/testenv"
)

// waitUntil polls cond until it holds, failing the test after timeout.
// Outage tests wait on the server's answers, never on the clock.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDatabaseOutageAnswers503 stops the handler's PostgreSQL under it, in
// both of the ways a server goes away (fast: sessions end with SQLSTATE
// 57P01; immediate: connections drop as in a crash), and checks that every
// call that needs the database answers 503 with Retry-After (HTTP) or a 5xx
// (queue invocations, so the message is redelivered) while it is down, never
// 500 nor a panic; and that once PostgreSQL is back the same handler serves
// again and its local queue consumer resumes, without a restart.
func TestDatabaseOutageAnswers503(t *testing.T) {
	pg := testenv.StartPostgresServer(t)
	dbURL := pg.URL("postgres")
	env := testEnvWithDatabase(t, dbURL)
	h := start(t, env)
	waitHealthy(t, h)
	token := verifiedUser(t, h, dbURL, "outage@example.com")
	spec := apitest.New(t)

	type call struct {
		name, method, path string
		bearer             bool
		body               any
		wantUp             int // status once PostgreSQL is back
	}
	calls := []call{
		{"health", http.MethodGet, "/api/health", false, nil, 200},
		{"login", http.MethodPost, "/api/auth/login", false, map[string]string{"email": "outage@example.com", "password": "correct horse battery"}, 200},
		{"register", http.MethodPost, "/api/auth/register", false, map[string]string{"email": "new@example.com", "password": "new password"}, 202},
		{"list videos", http.MethodGet, "/api/videos", true, nil, 200},
		{"me", http.MethodGet, "/api/users/me", true, nil, 200},
		{"video", http.MethodGet, "/api/videos/" + uuid.NewString(), true, nil, 404},
	}
	do := func(c call) *http.Response {
		t.Helper()
		var body []byte
		if c.body != nil {
			body, _ = json.Marshal(c.body)
		}
		req, _ := http.NewRequest(c.method, h.URL+c.path, bytes.NewReader(body))
		if c.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.bearer {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, _ := spec.Do(t, http.DefaultClient, req)
		return resp
	}

	for _, mode := range []string{"fast", "immediate"} {
		pg.Stop(t, mode)
		for _, c := range calls {
			resp := do(c)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Errorf("PostgreSQL down (%s): %s answered %d, Retry-After %q; want 503 with Retry-After",
					mode, c.name, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
		// Queue invocations: a 5xx makes Service Bus deliver the message
		// again; a 400 would let it be dead-lettered for a passing outage.
		for _, fn := range []string{"import-worker", "video-processor"} {
			if status, body := invoke(t, h.URL, fn, `{"video_id":"`+uuid.NewString()+`"}`); status != http.StatusServiceUnavailable {
				t.Errorf("PostgreSQL down (%s): %s invocation answered %d %s, want 503", mode, fn, status, body)
			}
		}
		timer := `{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}`
		resp, err := http.Post(h.URL+"/import-sweeper", "application/json", strings.NewReader(timer))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("PostgreSQL down (%s): import-sweeper answered %d, want 503", mode, resp.StatusCode)
		}

		pg.Start(t)
		waitUntil(t, 60*time.Second, "the handler serving again after PostgreSQL came back ("+mode+")", func() bool {
			return do(calls[3]).StatusCode == http.StatusOK
		})
		for _, c := range calls {
			if resp := do(c); resp.StatusCode != c.wantUp {
				t.Errorf("PostgreSQL back (%s): %s answered %d, want %d", mode, c.name, resp.StatusCode, c.wantUp)
			}
		}
		calls[2].body = map[string]string{"email": "new-" + mode + "@example.com", "password": "new password"}
	}

	// The local queue consumer outlived both outages: a message sent now is
	// taken and settled (a message for a missing video is acknowledged).
	db, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	local := queue.NewLocal(db.Pool(), nil)
	id := uuid.NewString()
	if err := local.Send(context.Background(), "imports", queue.Message{ID: "outage-" + id, Body: []byte(`{"video_id":"` + id + `"}`)}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, "the local queue consumer settling a message after the outages", func() bool {
		st, err := local.Stats(context.Background(), "imports")
		return err == nil && st.Completed == 1
	})

	// Never a 500 nor a panic, in any request the handler logged.
	for _, l := range h.logs.find("request") {
		if status, _ := l["status"].(float64); status >= 500 && status != http.StatusServiceUnavailable {
			t.Errorf("a request answered %v: %v", status, l)
		}
	}
	if p := h.logs.find("panic"); len(p) > 0 {
		t.Errorf("panics: %v", p)
	}
	if t.Failed() {
		t.Logf("handler logs:\n%s", tail(h.logs.all(), 60))
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... %d lines before", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
