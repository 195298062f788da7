package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/apitest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/testenv"
)

// logCapture is the handler's stdout in tests: it keeps every JSON log line
// and reports the address the handler listens on.
type logCapture struct {
	mu      sync.Mutex
	lines   []map[string]any
	changed chan struct{} // closed and replaced when a line arrives
	addr    chan string
	pw      *io.PipeWriter
}

func newLogCapture() *logCapture {
	pr, pw := io.Pipe()
	c := &logCapture{addr: make(chan string, 1), changed: make(chan struct{}), pw: pw}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				line = map[string]any{"msg": "NOT JSON: " + sc.Text()}
			}
			c.mu.Lock()
			c.lines = append(c.lines, line)
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			if line["msg"] == "listening" {
				c.addr <- line["addr"].(string)
			}
		}
	}()
	return c
}

func (c *logCapture) Write(p []byte) (int, error) { return c.pw.Write(p) }

// find returns the log lines whose msg is msg.
func (c *logCapture) find(msg string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, l := range c.lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// waitFor waits up to timeout for a line whose msg is msg and returns the
// first; it fails t otherwise.
func (c *logCapture) waitFor(t testing.TB, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	return c.waitLine(t, fmt.Sprintf("%q", msg), timeout, func(l map[string]any) bool { return l["msg"] == msg })
}

// waitLine waits up to timeout for a log line that match accepts and
// returns it; it fails t otherwise.
func (c *logCapture) waitLine(t testing.TB, what string, timeout time.Duration, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		changed := c.changed
		var found map[string]any
		for _, l := range c.lines {
			if match(l) {
				found = l
				break
			}
		}
		c.mu.Unlock()
		if found != nil {
			return found
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("no log line %s within %v; logs:\n%s", what, timeout, c.all())
			return nil
		}
	}
}

func (c *logCapture) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, l := range c.lines {
		j, _ := json.Marshal(l)
		b.Write(append(j, '\n'))
	}
	return b.String()
}

// testEnv returns a complete, valid environment for the handler against the
// test's own database (migrated), Redis prefix and blob container.
func testEnv(t testing.TB) map[string]string {
	t.Helper()
	return testEnvWithDatabase(t, testenv.Postgres(t))
}

// testEnvWithDatabase is testEnv on the database at dbURL (migrated here).
func testEnvWithDatabase(t testing.TB, dbURL string) map[string]string {
	t.Helper()
	if _, err := postgres.Migrate(context.Background(), dbURL, nil); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	redisURL, redisPrefix := testenv.Redis(t)
	return map[string]string{
		"REDIS_KEY_PREFIX":                redisPrefix,
		"FUNCTIONS_CUSTOMHANDLER_PORT":    "0",
		"LOG_LEVEL":                       "debug",
		"DATABASE_URL":                    dbURL,
		"REDIS_URL":                       redisURL,
		"AZURE_STORAGE_CONNECTION_STRING": testenv.Storage(t),
		"BLOB_CONTAINER":                  testenv.ContainerName(),
		"JWT_SECRET":                      strings.Repeat("test-secret-", 4),
		"DATA_ENCRYPTION_KEY":             base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))),
		"FRONTEND_URL":                    "http://localhost:3000",
		"COOKIE_SECURE":                   "false",
		"BCRYPT_COST":                     "4",
	}
}

// connectDB connects to the test's database (env's DATABASE_URL) for the
// test's own queries; the connection is closed at cleanup.
func connectDB(t *testing.T, env map[string]string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// handlerProcess is a handler started through run, as main starts it.
type handlerProcess struct {
	URL  string
	logs *logCapture
	stop func() error
}

func start(t testing.TB, env map[string]string, args ...string) *handlerProcess {
	t.Helper()
	return startLogged(t, env, io.Discard, args...)
}

// startLogged is start with the handler's log also written to also.
func startLogged(t testing.TB, env map[string]string, also io.Writer, args ...string) *handlerProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogCapture()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"handler"}, args...), func(k string) string { return env[k] }, io.MultiWriter(logs, also))
	}()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = fmt.Errorf("handler did not stop within 30 s")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	select {
	case addr := <-logs.addr:
		return &handlerProcess{URL: "http://" + addr, logs: logs, stop: stop}
	case err := <-done:
		t.Fatalf("handler exited before listening: %v\nlogs:\n%s", err, logs.all())
	case <-time.After(10 * time.Second):
		t.Fatalf("handler not listening after 10 s; logs:\n%s", logs.all())
	}
	return nil
}

// waitHealthy polls /api/health until it answers 200 (the blob container is
// created in the background at start).
func waitHealthy(t testing.TB, h *handlerProcess) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(h.URL + "/api/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("health still %d after 15 s: %s\nlogs:\n%s", resp.StatusCode, body, h.logs.all())
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("health: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServeHealthWithEveryDependencyUp(t *testing.T) {
	h := start(t, testEnv(t))
	waitHealthy(t, h)

	req, _ := http.NewRequest(http.MethodGet, h.URL+"/api/health", nil)
	resp, body := apitest.New(t).Do(t, http.DefaultClient, req)
	var got struct {
		Status string
		Checks map[string]struct{ Status string }
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || got.Status != "ok" {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	// The machines have Landlock ABI 7: the import sandbox is full.
	for _, name := range []string{"postgres", "redis", "storage", "sandbox"} {
		if got.Checks[name].Status != "ok" {
			t.Errorf("check %s: %+v", name, got.Checks[name])
		}
	}
	if len(h.logs.find("import sandbox")) != 1 {
		t.Errorf("no 'import sandbox' log line at start; logs:\n%s", h.logs.all())
	}
	if err := h.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	h.logs.waitFor(t, "stopped", 10*time.Second) // lines reach the capture through a pipe, a little after run returned
	if len(h.logs.find("stopped")) != 1 {
		t.Errorf("no 'stopped' log line; logs:\n%s", h.logs.all())
	}
}

func TestServeStartsWithPostgresDown(t *testing.T) {
	env := testEnv(t)
	env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"
	h := start(t, env)

	resp, err := http.Get(h.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET / with PostgreSQL down: %d", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodGet, h.URL+"/api/health", nil)
	resp, body := apitest.New(t).Do(t, http.DefaultClient, req)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("health with PostgreSQL down: %d %s", resp.StatusCode, body)
	}
	var got struct {
		Checks map[string]struct{ Status string }
	}
	json.Unmarshal(body, &got)
	if got.Checks["postgres"].Status != "error" || got.Checks["redis"].Status != "ok" {
		t.Errorf("checks: %s", body)
	}
}

func TestLogsAreJSONWithoutSecrets(t *testing.T) {
	env := testEnv(t)
	h := start(t, env)
	waitHealthy(t, h)
	h.stop()
	out := h.logs.all()
	if strings.Contains(out, "NOT JSON") {
		t.Errorf("a log line is not JSON:\n%s", out)
	}
	for _, k := range []string{"JWT_SECRET", "DATA_ENCRYPTION_KEY", "AZURE_STORAGE_CONNECTION_STRING"} {
		if strings.Contains(out, env[k]) {
			t.Errorf("logs contain the value of %s", k)
		}
	}
	if strings.Contains(out, "Eby8vdM02x") {
		t.Error("logs contain the storage account key")
	}
}

// invoke posts a host-shaped Service Bus envelope to the handler.
func invoke(t *testing.T, url, function, body string) (int, string) {
	t.Helper()
	env := fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":"\"m-%d\"","DeliveryCount":"1","EnqueuedTimeUtc":"\"2026-11-25T21:04:05.123\"","sys":{"MethodName":%q,"UtcNow":"\"2026-11-25T21:04:06\"","RandGuid":"\"8d7c\""}}}`,
		base64.StdEncoding.EncodeToString([]byte(body)), time.Now().UnixNano(), function)
	resp, err := http.Post(url+"/"+function, "application/json", strings.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	return resp.StatusCode, string(b)
}

func TestQueueInvocationsAgainstTheDatabase(t *testing.T) {
	env := testEnv(t)
	h := start(t, env)

	ctx := context.Background()
	conn := connectDB(t, env)
	var userID string
	if err := conn.QueryRow(ctx, `INSERT INTO users (email, name) VALUES ('a@example.com', 'A') RETURNING id`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	insertVideo := func(status string) string {
		t.Helper()
		var id string
		errCol := "NULL"
		if status == "failed" {
			errCol = "'source answered 404'"
		}
		err := conn.QueryRow(ctx, `INSERT INTO videos (user_id, title, source, source_url, status, error)
			VALUES ($1, 't', 'url', 'http://127.0.0.1:1/v.mp4', $2, `+errCol+`) RETURNING id`, userID, status).Scan(&id)
		if err != nil {
			t.Fatalf("insert %s video: %v", status, err)
		}
		return id
	}
	ready, failed, queued := insertVideo("ready"), insertVideo("failed"), insertVideo("queued")

	tests := []struct {
		name       string
		function   string
		body       string
		wantStatus int
		wantBody   string // exact body for 200, error code otherwise
	}{
		{"finished video is acknowledged", "import-worker", `{"video_id":"` + ready + `"}`, 200, ""},
		{"failed video is acknowledged", "import-worker", `{"video_id":"` + failed + `"}`, 200, ""},
		{"deleted video is acknowledged", "import-worker", `{"video_id":"6a0e4c55-8f9e-4a63-9d3c-2f5b7e1a0c9d"}`, 200, ""},
		{"processing message for a finished video", "video-processor", `{"video_id":"` + ready + `","task":"probe"}`, 200, ""},
		{"queued video with a source imports may not reach fails for good", "import-worker", `{"video_id":"` + queued + `"}`, 200, ""},
		{"malformed message", "import-worker", `{"video_id":"not-a-uuid"}`, 400, "invalid_message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := invoke(t, h.URL, tt.function, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			if status == 200 {
				var got map[string]json.RawMessage
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatal(err)
				}
				if len(got) != 3 || string(got["Outputs"]) != "{}" || string(got["ReturnValue"]) != "null" || !strings.HasPrefix(string(got["Logs"]), `["message m-`) {
					t.Errorf("response shape: %s", body)
				}
				return
			}
			if !strings.Contains(body, `"code":"`+tt.wantBody+`"`) {
				t.Errorf("body %s, want code %s", body, tt.wantBody)
			}
		})
	}

	// An envelope that is not the host's shape is refused with a clear 400.
	resp, err := http.Post(h.URL+"/import-worker", "application/json", strings.NewReader(`{"video_id":"`+queued+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"code":"invalid_envelope"`) || !strings.Contains(string(b), `Data`) {
		t.Errorf("bare message: %d %s", resp.StatusCode, b)
	}

	// Only the queued video changed.
	var statuses []string
	rows, _ := conn.Query(ctx, `SELECT status FROM videos ORDER BY status`)
	statuses, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(statuses, ",") != "failed,failed,ready" {
		t.Errorf("video statuses: %v %v, want only the queued one changed (to failed)", statuses, err)
	}
}

func TestSweeperPurgesExpiredAuthRecords(t *testing.T) {
	env := testEnv(t)
	h := start(t, env)
	ctx := context.Background()
	conn := connectDB(t, env)
	var userID string
	if err := conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('s@example.com') RETURNING id`).Scan(&userID); err != nil {
		t.Fatal(err)
	}
	// Two tokens and two sessions: one of each long expired, one current.
	for _, q := range []string{
		`INSERT INTO auth_tokens (user_id, purpose, token_hash, email, created_at, expires_at)
		   VALUES ($1, 'password_reset', decode(repeat('01', 32), 'hex'), 's@example.com', now() - interval '30 days', now() - interval '29 days')`,
		`INSERT INTO auth_tokens (user_id, purpose, token_hash, email, expires_at)
		   VALUES ($1, 'password_reset', decode(repeat('02', 32), 'hex'), 's@example.com', now() + interval '1 hour')`,
		`INSERT INTO sessions (user_id, created_at, idle_expires_at, absolute_expires_at)
		   VALUES ($1, now() - interval '60 days', now() - interval '50 days', now() - interval '30 days')`,
		`INSERT INTO sessions (user_id, idle_expires_at, absolute_expires_at)
		   VALUES ($1, now() + interval '1 day', now() + interval '30 days')`,
	} {
		if _, err := conn.Exec(ctx, q, userID); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	envelope := `{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"import-sweeper","UtcNow":"\"2026-11-25T21:05:00\"","RandGuid":"\"1\""}}}`
	resp, err := http.Post(h.URL+"/import-sweeper", "application/json", strings.NewReader(envelope))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"Outputs":{},"Logs":["sweep done (past due: false): deleted 1 expired auth tokens and 1 expired sessions; removed 0 stale uploads; 0 imports sent again, 0 failed as stale, 0 blobs of ended imports deleted; 0 clips sent again, 0 failed as stale; 0 probes sent again, 0 processings given up; 0 publish messages sent again, 0 posts given up; woke the mail sender for 0 overdue mails, gave up 0, deleted 0 settled"],"ReturnValue":null}`
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != want {
		t.Fatalf("got %d %s\nwant %s", resp.StatusCode, b, want)
	}
	var tokens, sessions int
	conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM auth_tokens), (SELECT count(*) FROM sessions)`).Scan(&tokens, &sessions)
	if tokens != 1 || sessions != 1 {
		t.Errorf("left %d tokens and %d sessions, want 1 and 1", tokens, sessions)
	}
}

func TestMigrateSubcommandIsIdempotent(t *testing.T) {
	dbURL := testenv.Postgres(t)
	env := map[string]string{"DATABASE_URL": dbURL}
	for i, want := range []bool{true, false} {
		logs := newLogCapture()
		if err := run(context.Background(), []string{"handler", "migrate"}, func(k string) string { return env[k] }, logs); err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
		// run has written the line; the capture's reader may not have kept it yet.
		done := logs.waitFor(t, "migrations done", 10*time.Second)
		if n := len(logs.find("migrations done")); n != 1 {
			t.Fatalf("run %d: %d 'migrations done' lines:\n%s", i+1, n, logs.all())
		}
		applied := done["applied"].(float64)
		if (applied > 0) != want {
			t.Errorf("run %d applied %v migrations", i+1, applied)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"unknown command", []string{"handler", "frobnicate"}, nil, `unknown command "frobnicate"`},
		{"extra arguments", []string{"handler", "serve", "now"}, nil, "unexpected arguments"},
		{"empty configuration", []string{"handler"}, map[string]string{}, "DATABASE_URL: is required"},
		{"migrate without database", []string{"handler", "migrate"}, map[string]string{}, "DATABASE_URL: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestMigrateOnStart(t *testing.T) {
	env := testEnv(t)
	env["DATABASE_URL"] = testenv.Postgres(t) // empty: no schema yet
	env["MIGRATE_ON_START"] = "true"
	h := start(t, env)
	ctx := context.Background()
	conn := connectDB(t, env)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var tables int
		conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('users', 'videos', 'queue_messages')`).Scan(&tables)
		if tables == 3 && len(h.logs.find("migrations done")) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("schema not created by MIGRATE_ON_START (%d tables); logs:\n%s", tables, h.logs.all())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
