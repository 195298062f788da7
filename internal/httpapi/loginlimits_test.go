package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// The login limits documented in the README ("Accounts and sessions"); the
// tests below check each of them through the API, with client addresses
// taken from X-Forwarded-For (TrustedProxyHops 1) as on Azure.
const (
	accountIPFailures = 5   // failures per account and address, per hour
	accountFailures   = 10  // failures per account, per 15 minutes, for addresses that failed on it
	attackFailures    = 100 // failures per account, per hour, after which every address is refused
)

func loginBody(email, password string) map[string]string {
	return map[string]string{"email": email, "password": password}
}

// wantRateLimited fails the test unless r is a 429 with a Retry-After.
func wantRateLimited(t *testing.T, what string, r response) {
	t.Helper()
	if r.StatusCode != http.StatusTooManyRequests || r.errorCode() != "rate_limited" {
		t.Fatalf("%s: got %d %s, want 429 rate_limited", what, r.StatusCode, r.body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q, want a positive number of seconds", what, r.Header.Get("Retry-After"))
	}
}

// TestLoginFailuresFromManyAddressesDoNotLockOutTheOwner: an attacker who
// fails from many addresses (more than enough to pass the per-account limit)
// does not stop the owner's correct password from an address that has no
// failures.
func TestLoginFailuresFromManyAddressesDoNotLockOutTheOwner(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	owner := h.browser("203.0.113.50")
	h.signUp(owner, "olga@example.com", "olga's password")

	limited := 0
	for i := range 3 * accountFailures {
		attacker := h.browser(fmt.Sprintf("198.51.100.%d", i+1))
		for range 2 { // the second attempt comes from an address with a failure
			r := attacker.post("/api/auth/login", loginBody("olga@example.com", "guess "+strconv.Itoa(i)))
			switch r.StatusCode {
			case http.StatusUnauthorized:
			case http.StatusTooManyRequests:
				limited++
			default:
				t.Fatalf("attacker: %d %s", r.StatusCode, r.body)
			}
		}
	}
	if limited == 0 {
		t.Fatalf("%d failures from %d addresses and none was limited: the per-account limit did not apply to addresses that failed",
			6*accountFailures, 3*accountFailures)
	}
	if r := owner.post("/api/auth/login", loginBody("olga@example.com", "olga's password")); r.StatusCode != http.StatusOK {
		t.Fatalf("owner from a clean address during the attack: %d %s, want 200", r.StatusCode, r.body)
	}
	if r := h.browser("203.0.113.51").post("/api/auth/login", loginBody("olga@example.com", "olga's password")); r.StatusCode != http.StatusOK {
		t.Fatalf("owner from a new address during the attack: %d %s, want 200", r.StatusCode, r.body)
	}
}

// TestLoginAccountAddressLimitComesFirst: failures from one address are
// limited per (account, address) before the per-account limit is reached,
// with 429 and Retry-After, whatever the password; other addresses keep
// their own allowance.
func TestLoginAccountAddressLimitComesFirst(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	owner := h.browser("203.0.113.52")
	h.signUp(owner, "pia@example.com", "pia's password")

	attacker := h.browser("198.51.100.200")
	for i := range accountIPFailures {
		if r := attacker.post("/api/auth/login", loginBody("pia@example.com", "guess")); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d of %d: got %d %s, want 401", i+1, accountIPFailures, r.StatusCode, r.body)
		}
	}
	wantRateLimited(t, "one failure past the (account, address) limit", attacker.post("/api/auth/login", loginBody("pia@example.com", "guess")))
	// The limit comes before the password is checked.
	wantRateLimited(t, "the right password from that address", attacker.post("/api/auth/login", loginBody("pia@example.com", "pia's password")))

	// The account as a whole is not limited yet: another address that
	// failed too may still try, and the owner gets in.
	other := h.browser("198.51.100.201")
	for range 2 {
		if r := other.post("/api/auth/login", loginBody("pia@example.com", "guess")); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("another address: got %d %s, want 401 (the per-account limit is %d)", r.StatusCode, r.body, accountFailures)
		}
	}
	h.login(owner, "pia@example.com", "pia's password")
	// The attacker's address is still limited for this account only.
	if r := attacker.post("/api/auth/login", loginBody("someone-else@example.com", "guess")); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the limited address on another account: got %d %s, want 401", r.StatusCode, r.body)
	}
}

// TestParallelLoginFailuresFromOneAddress: attempts sent at once cannot pass
// the (account, address) limit, because each is counted as a failure before
// its password is checked.
func TestParallelLoginFailuresFromOneAddress(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	h.signUp(h.browser("203.0.113.53"), "quinn@example.com", "quinn's password")

	attacker := h.browser("198.51.100.202")
	const n = 30
	codes := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			codes[i] = attacker.post("/api/auth/login", loginBody("quinn@example.com", "guess")).StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	if count[http.StatusUnauthorized] != accountIPFailures || count[http.StatusTooManyRequests] != n-accountIPFailures {
		t.Fatalf("statuses of %d parallel wrong passwords: %v, want %d x 401 and the rest 429", n, count, accountIPFailures)
	}
}

// TestLoginLockedUnderLargeDistributedAttack: past the documented number of
// failures per hour, the account is refused to every address, the owner's
// clean one included: the price of bounding how many guesses an attacker
// with many addresses gets.
func TestLoginLockedUnderLargeDistributedAttack(t *testing.T) {
	h := newAuthHarness(t, harnessOptions{})
	owner := h.browser("203.0.113.54")
	h.signUp(owner, "rosa@example.com", "rosa's password")

	for i := range attackFailures {
		attacker := h.browser(fmt.Sprintf("198.51.%d.%d", 100+i/200, 1+i%200))
		if r := attacker.post("/api/auth/login", loginBody("rosa@example.com", "guess")); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d from a new address: got %d %s, want 401", i+1, r.StatusCode, r.body)
		}
	}
	wantRateLimited(t, "a new address past the attack threshold", h.browser("198.51.110.1").post("/api/auth/login", loginBody("rosa@example.com", "guess")))
	wantRateLimited(t, "the owner past the attack threshold", owner.post("/api/auth/login", loginBody("rosa@example.com", "rosa's password")))
	// Other accounts are not affected.
	h.signUp(h.browser("203.0.113.55"), "sam@example.com", "sam's password")
}
