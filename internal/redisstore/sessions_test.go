package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/redisstore"
	"github.com/videofn/videofn/internal/testenv"
)

func openSessions(t *testing.T) redisstore.Sessions {
	t.Helper()
	url, prefix := testenv.Redis(t)
	c, err := redisstore.Open(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return redisstore.Sessions{Client: c}
}

func TestSessionsRememberLookupRevoke(t *testing.T) {
	s := openSessions(t)
	ctx := context.Background()
	sid, uid := uuid.New(), uuid.New()
	until := time.Now().Add(time.Hour).Truncate(time.Millisecond)

	got, err := s.Lookup(ctx, sid)
	if err != nil || got.Found {
		t.Fatalf("unknown session: %+v %v", got, err)
	}
	if err := s.Remember(ctx, auth.CachedSession{SessionID: sid, UserID: uid, Until: until}, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err = s.Lookup(ctx, sid)
	if err != nil || !got.Found || got.Revoked || got.UserID != uid || !got.Until.Equal(until) {
		t.Fatalf("remembered session: %+v %v", got, err)
	}
	ttl := s.Client.PTTL(ctx, s.Client.Key("session:"+sid.String())).Val()
	if ttl <= 0 || ttl > time.Minute {
		t.Errorf("live entry TTL %v, want (0, 1m]", ttl)
	}

	if err := s.Revoke(ctx, 2*time.Minute, sid, uuid.New()); err != nil {
		t.Fatal(err)
	}
	got, err = s.Lookup(ctx, sid)
	if err != nil || !got.Found || !got.Revoked {
		t.Fatalf("revoked session: %+v %v", got, err)
	}
	// A check that read PostgreSQL before the revocation and writes after
	// it must not make the session live again.
	if err := s.Remember(ctx, auth.CachedSession{SessionID: sid, UserID: uid, Until: until}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Lookup(ctx, sid); !got.Revoked {
		t.Fatalf("Remember replaced a revocation: %+v", got)
	}
	ttl = s.Client.PTTL(ctx, s.Client.Key("session:"+sid.String())).Val()
	if ttl <= time.Minute || ttl > 2*time.Minute {
		t.Errorf("revocation TTL %v, want (1m, 2m]", ttl)
	}
}

// TestSessionsIgnoreGarbage: a value that is not an entry this code wrote
// is no answer (PostgreSQL decides), never a live session.
func TestSessionsIgnoreGarbage(t *testing.T) {
	s := openSessions(t)
	ctx := context.Background()
	sid := uuid.New()
	for _, v := range []string{"live", "live not-a-uuid 1", "live " + uuid.NewString() + " soon", "LIVE " + uuid.NewString() + " 1", ""} {
		s.Client.Set(ctx, s.Client.Key("session:"+sid.String()), v, time.Minute)
		got, err := s.Lookup(ctx, sid)
		if err != nil || got.Found {
			t.Errorf("%q: %+v %v, want not found", v, got, err)
		}
	}
}
