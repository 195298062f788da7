package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestMailRequestsDoNotRevealAccountsByTiming: forgot-password and
// resend-verification answer a known and an unknown address in the same
// time, even when the SMTP server takes 500 ms per mail (issue 8, item 5).
// Tries alternate between the two kinds so that the machine's drift hits
// both alike, and medians are compared (robust to the odd slow request on a
// shared, noisy machine). A round of 30 tries each whose medians are more
// than 20 % apart is measured again, up to 3 rounds: a leak (500 ms against
// a few) fails every round, while on a loaded 2-core machine two medians of
// about 12 ms can differ by 3 ms by chance (seen once with the CPU hogged).
func TestMailRequestsDoNotRevealAccountsByTiming(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{mailDelay: 500 * time.Millisecond})
	const tries, rounds = 30, 3
	hash, err := bcrypt.GenerateFromPassword([]byte("a password of no interest"), 4)
	if err != nil {
		t.Fatal(err)
	}
	// Unverified accounts: both routes mail them. One address per try keeps
	// every request under the per-address limit (3 an hour).
	for round := range rounds {
		for i := range tries {
			if _, err := h.db.Exec(context.Background(), `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Known', $2)`,
				fmt.Sprintf("known-%d-%d@example.com", round, i), string(hash)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for r, route := range []string{"/api/auth/password/forgot", "/api/auth/resend-verification"} {
		t.Run(path.Base(route), func(t *testing.T) {
			var verdicts []string
			for round := range rounds {
				var known, unknown []time.Duration
				for i := range tries {
					// One client address per request keeps every request
					// under the per-IP limit too.
					timeOne := func(kind string) time.Duration {
						return timeMailRequest(t, h, route, fmt.Sprintf("10.%d.%d.%d", r*rounds+round, i, len(kind)),
							fmt.Sprintf("%s-%d-%d@example.com", kind, round, i))
					}
					if i%2 == 0 {
						known = append(known, timeOne("known"))
						unknown = append(unknown, timeOne("unknown"))
					} else {
						unknown = append(unknown, timeOne("unknown"))
						known = append(known, timeOne("known"))
					}
					// The mail sender's work for the previous pair (the known
					// address's mail takes 500 ms) must not land on the next
					// pair's requests: wait until it is done.
					h.waitMailSettled()
				}
				mk, mu := median(known), median(unknown)
				t.Logf("round %d, median over %d tries: known %v, unknown %v", round+1, tries, mk, mu)
				if hi, lo := max(mk, mu), min(mk, mu); float64(hi) <= 1.2*float64(lo) {
					return
				}
				verdicts = append(verdicts, fmt.Sprintf("known %v vs unknown %v", mk, mu))
			}
			t.Errorf("medians more than 20 %% apart in each of %d rounds (%v): the response time tells whether an account exists", rounds, verdicts)
		})
	}
}

// timeMailRequest posts {"email": email} to route from ip and returns how
// long the answer took; it fails t unless the answer is 202.
func timeMailRequest(t *testing.T, h *authHarness, route, ip, email string) time.Duration {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email})
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+route, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("Origin", testFrontend)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%s for %s: %d %s %v", route, email, resp.StatusCode, raw, err)
	}
	return took
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
