package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/videofn/videofn/internal/testenv"
)

// TestRevocationRefusedByRedisFailsTheRequest: when Redis answers reads
// but refuses writes (a read-only ACL user: the real server refusing), a
// logout everywhere cannot reach the session cache, so it answers 503
// (try again) instead of claiming a logout a cached copy could contradict. PostgreSQL
// has revoked the sessions all the same, and reads that find nothing in
// the cache ask it.
func TestRevocationRefusedByRedisFailsTheRequest(t *testing.T) {
	redisURL, _ := testenv.Redis(t)
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opts)
	defer admin.Close()
	name, password := "readonly-"+testenv.RandomSuffix(8), testenv.RandomSuffix(16)
	if err := admin.Do(t.Context(), "ACL", "SETUSER", name, "on", ">"+password, "~*", "+@read", "+@connection").Err(); err != nil {
		t.Fatalf("create a read-only Redis user: %v", err)
	}
	t.Cleanup(func() { admin.Do(t.Context(), "ACL", "DELUSER", name) })
	u, _ := url.Parse(redisURL)
	u.User = url.UserPassword(name, password)

	h := newAuthHarness(t, harnessOptions{redisURL: u.String()})
	b := h.browser("203.0.113.61")
	s := h.signUp(b, "ro@example.com", "read-only password")
	if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(s.AccessToken)); r.StatusCode != 200 {
		t.Fatalf("me with a read-only Redis: %d %s", r.StatusCode, r.body)
	}
	if r := b.do(http.MethodPost, "/api/auth/logout-all", nil, bearer(s.AccessToken)); r.StatusCode != 503 {
		t.Errorf("logout-all whose revocation Redis refused: %d %s, want 503", r.StatusCode, r.body)
	}
	if r := b.do(http.MethodGet, "/api/users/me", nil, bearer(s.AccessToken)); r.StatusCode != 401 {
		t.Errorf("me after that logout-all: %d, want 401 (revoked in PostgreSQL)", r.StatusCode)
	}
}
