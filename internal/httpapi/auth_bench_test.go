package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkLoginVsBcrypt measures login throughput through the whole HTTP
// path (origin check, JSON decoding, two Redis rate limits, the user
// lookup, bcrypt at the production cost 12, session and refresh token
// inserts, the audit event, the JWT) and, in the same process with the same
// parallelism, the raw bcrypt comparison rate at the same cost. The ratio is
// the share of login capacity that bcrypt leaves to everything else; the
// target is at least 0.9.
func BenchmarkLoginVsBcrypt(b *testing.B) {
	const cost = 12
	h := newAuthHarness(b, harnessOptions{bcryptCost: cost})
	password := "benchmark password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		b.Fatal(err)
	}
	workers := runtime.GOMAXPROCS(0)
	// At least 16 of each (about 2 s per side at cost 12), so one slow
	// hash does not swing the ratio.
	n := max(b.N, 16)
	// One account per login so per-account limits do not interfere; the
	// hash is computed once and inserted directly.
	if _, err := h.db.Exec(context.Background(), `
		INSERT INTO users (email, password_hash, email_verified_at)
		SELECT 'bench' || i || '@example.com', $1, now() FROM generate_series(1, $2) AS i`, string(hash), n); err != nil {
		b.Fatal(err)
	}

	// run does items [from, to) of work on every worker.
	run := func(from, to int, work func(i int)) time.Duration {
		var next atomic.Int64
		next.Store(int64(from))
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1))
					if i > to {
						return
					}
					work(i)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	login := func(i int) {
		br := h.browser(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		r := br.post("/api/auth/login", map[string]string{"email": fmt.Sprintf("bench%d@example.com", i), "password": password})
		if r.StatusCode != http.StatusOK {
			b.Errorf("login %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	compare := func(int) {
		if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
			b.Error(err)
		}
	}

	// Two rounds, alternating, so that drift in the machine's speed
	// (other processes, CPU boost) falls on both sides alike.
	b.ResetTimer()
	var loginTime, bcryptTime time.Duration
	half := n / 2
	loginTime += run(0, half, login)
	bcryptTime += run(0, half, compare)
	loginTime += run(half, n, login)
	bcryptTime += run(half, n, compare)
	b.StopTimer()

	logins := float64(n) / loginTime.Seconds()
	compares := float64(n) / bcryptTime.Seconds()
	b.ReportMetric(logins, "logins/s")
	b.ReportMetric(compares, "bcrypt/s")
	b.ReportMetric(logins/compares, "login/bcrypt")
	b.Logf("cost %d, %d workers, %d logins and %d compares: login %.2f/s, raw bcrypt %.2f/s, ratio %.3f (target >= 0.9)", cost, workers, n, n, logins, compares, logins/compares)
}

// BenchmarkRefresh measures refresh requests per second through the whole
// HTTP path (CSRF and origin checks, the Redis rate limit, the rotation
// transaction with its row lock and the user lookup, the JWT, the cookie).
// Each parallel client rotates its own session: the service's clock moves
// past the hold of a new token (twice the grace window) at every call, so
// every refresh rotates.
func BenchmarkRefresh(b *testing.B) {
	var calls atomic.Int64
	h := newAuthHarness(b, harnessOptions{grace: 2 * time.Second, now: func() time.Time {
		return time.Now().Add(time.Duration(calls.Add(1)) * 5 * time.Second)
	}})
	hash, _ := bcrypt.GenerateFromPassword([]byte("benchmark password"), 4)
	workers := runtime.GOMAXPROCS(0) * 4
	if _, err := h.db.Exec(context.Background(), `
		INSERT INTO users (email, password_hash, email_verified_at)
		SELECT 'r' || i || '@example.com', $1, now() FROM generate_series(1, $2) AS i`, string(hash), workers); err != nil {
		b.Fatal(err)
	}
	// Log every client in before the clock starts.
	clients := make(chan *browser, workers)
	for i := 1; i <= workers; i++ {
		br := h.browser(fmt.Sprintf("10.9.0.%d", i))
		h.login(br, fmt.Sprintf("r%d@example.com", i), "benchmark password")
		clients <- br
	}
	var requests, ids atomic.Int64
	b.SetParallelism(4)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		br, id := <-clients, ids.Add(1)
		var j int
		for pb.Next() {
			j++
			// Plain requests (no OpenAPI validation in the loop); a new
			// client address per request keeps the per-IP limit out of
			// the measurement while the limiter itself still runs.
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/auth/refresh", nil)
			req.Header.Set("X-CSRF-Token", br.cookie("csrf_token"))
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", id, j>>8&255, j&255))
			resp, err := br.client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("refresh: %d", resp.StatusCode)
				return
			}
			requests.Add(1)
		}
	})
	b.StopTimer()
	rps := float64(requests.Load()) / time.Since(start).Seconds()
	b.ReportMetric(rps, "refresh/s")
	b.Logf("%d refreshes by %d clients: %.0f refresh/s", requests.Load(), workers, rps)
}
