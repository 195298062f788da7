//go:build load

// The load run (make load): the real handler, started through run against
// the local PostgreSQL, Redis and Azurite, driven over loopback by vegeta
// next to a minimal net/http hello handler measured in the same run. It is
// behind the load build tag, so make test never runs it.
//
//	go test -tags load -count=1 -timeout 30m -run '^TestLoad$' -v ./handler -args -soak=5m
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/crypto/bcrypt"

	"github.com/videofn/videofn/internal/redisstore"
)

var (
	loadStep     = flag.Duration("step", 2*time.Second, "length of each rate step")
	loadRates    = flag.String("rates", "100,200,400,800,1600,3200", "rising request rates per second")
	loadWorkers  = flag.Int("workers", 64, "connections of the closed-loop (max rate) step, like wrk -c64")
	loadSoak     = flag.Duration("soak", time.Minute, "length of the memory soak on GET /api/imports/{id}")
	loadSoakRate = flag.Int("soakrate", 500, "request rate of the soak")
	loadOnly     = flag.String("only", "", "measure only the endpoints whose name matches this regexp (and hello)")
)

// loadUser is a logged-in user of the load run: an access token, and the
// cookies and CSRF token of its session.
type loadUser struct {
	access  string
	cookies string
	csrf    string
}

// loadLogin logs email in from its own X-Forwarded-For address (login
// limits are per address).
func loadLogin(t *testing.T, base, email string, n int) loadUser {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": "load password"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("X-Forwarded-For", fakeIP(uint32(n)+1<<20))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login %s: %d %v", email, resp.StatusCode, err)
	}
	u := loadUser{access: s.AccessToken}
	var parts []string
	for _, c := range resp.Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
		if strings.Contains(c.Name, "csrf") {
			u.csrf = c.Value
		}
	}
	u.cookies = strings.Join(parts, "; ")
	return u
}

// fakeIP spreads requests over client addresses, as the Functions front
// end's X-Forwarded-For would for many clients (per-address limits).
func fakeIP(n uint32) string {
	return fmt.Sprintf("10.%d.%d.%d", byte(n>>16), byte(n>>8), byte(n))
}

// endpoint is one measured route: a targeter for each step.
type endpoint struct {
	name   string
	target func(step int) vegeta.Targeter
	// closedLoop is false where a max-rate step would only measure a limit
	// (uploads: 60 per user per hour).
	closedLoop bool
	// maxRate, when set, skips the open-loop steps above it (rotating
	// refreshes: each needs a session prepared before the run).
	maxRate int
}

type stepResult struct {
	rate     string
	m        vegeta.Metrics
	codes    string
	overflow bool
}

func runStep(atk *vegeta.Attacker, tr vegeta.Targeter, rate vegeta.Rate, d time.Duration, name string) vegeta.Metrics {
	var m vegeta.Metrics
	for res := range atk.Attack(tr, rate, d, name) {
		m.Add(res)
	}
	m.Close()
	return m
}

func codes(m vegeta.Metrics) string {
	var s []string
	for c, n := range m.StatusCodes {
		s = append(s, c+":"+strconv.Itoa(n))
	}
	return strings.Join(s, " ")
}

func memSample() (heapMiB, rssMiB float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			rssMiB = kb / 1024
		}
	}
	return float64(ms.HeapAlloc) / (1 << 20), rssMiB
}

func TestLoad(t *testing.T) {
	var rates []int
	for _, f := range strings.Split(*loadRates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("-rates: %q", f)
		}
		rates = append(rates, n)
	}
	env := testEnv(t)
	env["LOG_LEVEL"] = "info" // as deployed: one line per request
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
	h := loadStart(t, env)
	waitHealthy(t, h)

	// Users: one for the reads, enough for the uploads (60 per user per
	// hour), one session per refresh step.
	var uploads int
	for _, r := range rates {
		uploads += r * int(step().Seconds()+1)
	}
	nUsers := 1 + uploads/50 + 1
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	hash, _ := bcrypt.GenerateFromPassword([]byte("load password"), 4)
	if _, err := conn.Exec(ctx, `INSERT INTO users (email, password_hash, email_verified_at)
		SELECT 'load' || i || '@example.com', $1, now() FROM generate_series(0, $2 - 1) i`, string(hash), nUsers); err != nil {
		t.Fatal(err)
	}
	users := make([]loadUser, nUsers)
	for i := range users {
		users[i] = loadLogin(t, h.URL, fmt.Sprintf("load%d@example.com", i), i)
	}
	reader := users[0]

	// Two imports: one of a URL that answers 404 (it fails, and its
	// progress stays readable from PostgreSQL), and one that runs for the
	// whole run (a source trickling 16 KiB every 50 ms), whose poll is the
	// frontend's hot path: its worker keeps the progress in Redis fresh.
	// And an uploaded-video row for the list.
	chunk := make([]byte, 16<<10)
	copy(chunk, "\x00\x00\x00\x18ftypmp42")
	src := trickleSource(t, chunk, 50*time.Millisecond)
	endedID := apiPost(t, h.URL+"/api/imports", reader.access, map[string]any{"url": src.URL + "/missing.mp4"}, 202)
	runningID := apiPost(t, h.URL+"/api/imports", reader.access, map[string]any{"url": src.URL + "/running.mp4"}, 202)
	apiPost(t, h.URL+"/api/uploads", reader.access, map[string]any{"filename": "listed.mp4", "content_type": "video/mp4", "size_bytes": 1024}, 201)
	waitImport(t, h.URL, reader.access, endedID, "failed")
	waitImport(t, h.URL, reader.access, runningID, "downloading")

	// Sessions for the rotating refreshes, made now so that each one's
	// token is older than the rotation hold (20 s) when it is refreshed,
	// after the endpoints before it: every refresh then rotates (a
	// transaction that writes), as a tab does every 15 minutes.
	only, err := regexp.Compile(*loadOnly)
	if err != nil {
		t.Fatalf("-only: %v", err)
	}
	var rotating []loadUser
	for _, r := range rates {
		if !only.MatchString(rotatedRefresh) {
			break
		}
		if r <= rotateMaxRate {
			rotating = append(rotating, make([]loadUser, r*int(step().Seconds()+1))...)
		}
	}
	if only.MatchString(rotatedRefresh) {
		rotating = append(rotating, make([]loadUser, rotateMaxRate*int(step().Seconds()+1))...) // the closed loop
	}
	loginAll(t, h.URL, rotating, 10000)
	holdEnds := time.Now().Add(21 * time.Second)
	var nextRotation atomic.Int64

	// The baselines: a minimal net/http handler, and the same handler
	// making one Redis round trip (a GET of a missing key) with the app's
	// Redis client settings: the floor of any route that reads Redis once.
	rdb, err := redisstore.Open(env["REDIS_URL"], env["REDIS_KEY_PREFIX"])
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redis" {
			if err := rdb.Get(r.Context(), rdb.Key("load:missing")).Err(); err != redis.Nil {
				http.Error(w, fmt.Sprint(err), http.StatusInternalServerError)
				return
			}
		}
		io.WriteString(w, "hello")
	}))
	defer hello.Close()

	get := func(url string) func(int) vegeta.Targeter {
		return func(int) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url, Header: http.Header{"Authorization": {"Bearer " + reader.access}}})
		}
	}
	var xff atomic.Uint32
	var next atomic.Uint64
	uploadBody, _ := json.Marshal(map[string]any{"filename": "load.mp4", "content_type": "video/mp4", "size_bytes": 1024})
	endpoints := []endpoint{
		{name: "hello (net/http)", target: get(hello.URL + "/"), closedLoop: true},
		{name: helloRedis, target: get(hello.URL + "/redis"), closedLoop: true},
		{name: "GET /api/imports/{id} running", target: get(h.URL + "/api/imports/" + runningID), closedLoop: true},
		{name: "GET /api/imports/{id} ended", target: get(h.URL + "/api/imports/" + endedID), closedLoop: true},
		{name: "GET /api/videos", target: get(h.URL + "/api/videos"), closedLoop: true},
		{name: rotatedRefresh, closedLoop: true, maxRate: rotateMaxRate, target: func(int) vegeta.Targeter {
			if wait := time.Until(holdEnds); wait > 0 {
				time.Sleep(wait) // the sessions' tokens must be older than the hold
			}
			return func(tg *vegeta.Target) error {
				i := nextRotation.Add(1) - 1
				if i >= int64(len(rotating)) {
					return vegeta.ErrNoTargets
				}
				u := rotating[i]
				*tg = vegeta.Target{Method: "POST", URL: h.URL + "/api/auth/refresh", Header: http.Header{
					"Cookie": {u.cookies}, "X-Csrf-Token": {u.csrf}, "Origin": {"http://localhost:3000"},
					"X-Forwarded-For": {fakeIP(xff.Add(1))},
				}}
				return nil
			}
		}},
		{name: "POST /api/auth/refresh kept", closedLoop: true, target: func(step int) vegeta.Targeter {
			// A fresh session per step: its token is younger than the
			// rotation hold, so every refresh is answered (Kept) without
			// rotating, as concurrent tabs are.
			u := loadLogin(t, h.URL, "load0@example.com", 5000+step)
			return func(tg *vegeta.Target) error {
				*tg = vegeta.Target{Method: "POST", URL: h.URL + "/api/auth/refresh", Header: http.Header{
					"Cookie": {u.cookies}, "X-Csrf-Token": {u.csrf}, "Origin": {"http://localhost:3000"},
					"X-Forwarded-For": {fakeIP(xff.Add(1))},
				}}
				return nil
			}
		}},
		{name: "POST /api/uploads", target: func(int) vegeta.Targeter {
			return func(tg *vegeta.Target) error {
				u := users[1+int(next.Add(1))%(nUsers-1)]
				*tg = vegeta.Target{Method: "POST", URL: h.URL + "/api/uploads", Body: uploadBody, Header: http.Header{
					"Authorization": {"Bearer " + u.access}, "Content-Type": {"application/json"},
				}}
				return nil
			}
		}},
	}

	// A new attacker per step: one that has finished an attack does not
	// start another (seen with v12.13).
	open := func() *vegeta.Attacker {
		return vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second), vegeta.MaxWorkers(uint64(*loadWorkers)*4))
	}
	best := map[string]float64{}
	t.Logf("%-32s %7s %9s %9s %9s %8s  %s", "endpoint", "rate", "req/s", "p50", "p99", "success", "codes")
	endpoints = slices.DeleteFunc(endpoints, func(ep endpoint) bool {
		return ep.name != "hello (net/http)" && ep.name != helloRedis && !only.MatchString(ep.name)
	})
	for _, ep := range endpoints {
		var base time.Duration
		saturated := ""
		for i, r := range rates {
			if ep.maxRate > 0 && r > ep.maxRate {
				continue
			}
			m := runStep(open(), ep.target(i), vegeta.Rate{Freq: r, Per: time.Second}, step(), ep.name)
			t.Logf("%-32s %7d %9.0f %9v %9v %7.1f%%  %s", ep.name, r, m.Throughput, m.Latencies.P50.Round(10*time.Microsecond), m.Latencies.P99.Round(10*time.Microsecond), 100*m.Success, codes(m))
			if i == 0 {
				base = m.Latencies.P99
			}
			if saturated == "" && (m.Success < 1 || m.Throughput < 0.9*float64(r) || m.Latencies.P99 > 10*base+5*time.Millisecond) {
				saturated = strconv.Itoa(r)
			}
			if m.Success == 1 && m.Throughput > best[ep.name] {
				best[ep.name] = m.Throughput
			}
		}
		if ep.closedLoop {
			closed := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second), vegeta.Workers(uint64(*loadWorkers)), vegeta.MaxWorkers(uint64(*loadWorkers)))
			m := runStep(closed, ep.target(len(rates)), vegeta.Rate{}, step(), ep.name)
			t.Logf("%-32s %7s %9.0f %9v %9v %7.1f%%  %s", ep.name, fmt.Sprintf("max/%d", *loadWorkers), m.Throughput, m.Latencies.P50.Round(10*time.Microsecond), m.Latencies.P99.Round(10*time.Microsecond), 100*m.Success, codes(m))
			if m.Success == 1 && m.Throughput > best[ep.name] {
				best[ep.name] = m.Throughput
			}
		}
		if saturated == "" {
			saturated = "not reached"
		}
		t.Logf("%-32s saturation point: %s req/s", ep.name, saturated)
	}
	for _, ep := range endpoints {
		t.Logf("%-32s best error-free %8.0f req/s, %.2f of hello, %.2f of hello + 1 Redis round trip", ep.name, best[ep.name],
			best[ep.name]/best["hello (net/http)"], best[ep.name]/best[helloRedis])
	}

	// Soak: memory of this process (handler, its pools and vegeta) after a
	// GC, at the start and the end.
	heap0, rss0 := memSample()
	m := runStep(open(), get(h.URL+"/api/imports/"+runningID)(0), vegeta.Rate{Freq: *loadSoakRate, Per: time.Second}, *loadSoak, "soak")
	heap1, rss1 := memSample()
	t.Logf("soak %v at %d req/s on GET /api/imports/{id} running: %.0f req/s, p99 %v, success %.2f%% %s; heap %.1f -> %.1f MiB, RSS %.1f -> %.1f MiB",
		*loadSoak, *loadSoakRate, m.Throughput, m.Latencies.P99.Round(10*time.Microsecond), 100*m.Success, codes(m), heap0, heap1, rss0, rss1)
	// The running import ran through the whole run: its polls measured the
	// hot path, not a finished import.
	waitImport(t, h.URL, reader.access, runningID, "downloading")
}

const rotatedRefresh = "POST /api/auth/refresh rotated"

const helloRedis = "hello + 1 Redis GET (net/http)"

// rotateMaxRate is the highest open-loop rate of rotating refreshes: each
// needs a session logged in before the run.
const rotateMaxRate = 800

// loginAll logs a user in for every element of us, 8 at a time, as
// load0@example.com from addresses numbered from ipBase.
func loginAll(t *testing.T, base string, us []loadUser, ipBase int) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(us)); i = next.Add(1) - 1 {
				us[i] = loadLogin(t, base, "load0@example.com", ipBase+int(i))
			}
		}()
	}
	wg.Wait()
}

// waitImport polls the import until its status is want (30 s at most).
func waitImport(t *testing.T, base, token, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/imports/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if p.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s is %q after 30 s, want %q", id, p.Status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addrWriter is the handler's stdout in the load run: it reports the
// address of the "listening" line and then drops every line unread (the
// tests' logCapture keeps and parses each one, which would be measured as
// the handler's CPU and memory).
type addrWriter struct {
	found atomic.Bool
	addr  chan string
}

func (w *addrWriter) Write(p []byte) (int, error) {
	if w.found.Load() {
		return len(p), nil
	}
	for _, line := range bytes.Split(p, []byte("\n")) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal(line, &l) == nil && l.Msg == "listening" && w.found.CompareAndSwap(false, true) {
			w.addr <- l.Addr
		}
	}
	return len(p), nil
}

// loadStart starts the handler through run, as start does, without
// keeping its log.
func loadStart(t *testing.T, env map[string]string) *handlerProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &addrWriter{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"handler"}, func(k string) string { return env[k] }, w) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case addr := <-w.addr:
		return &handlerProcess{URL: "http://" + addr}
	case err := <-done:
		t.Fatalf("handler exited before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("handler not listening after 10 s")
	}
	return nil
}

func step() time.Duration { return *loadStep }

// apiPost sends a JSON POST with a bearer token, wants status and returns
// the video_id of the answer.
func apiPost(t *testing.T, url, token string, body any, want int) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v struct {
		VideoID string `json:"video_id"`
		Video   struct {
			ID string `json:"id"`
		} `json:"video"`
	}
	json.Unmarshal(raw, &v)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	if v.VideoID == "" {
		return v.Video.ID
	}
	return v.VideoID
}
