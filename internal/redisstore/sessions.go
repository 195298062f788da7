package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/videofn/videofn/internal/auth"
)

// Sessions is the session cache (auth.SessionCache): one string per
// session, "live <user id> <expiry in Unix ms>" or "revoked", each with a
// TTL. Remember is a script that leaves "revoked" alone, so a revocation
// always wins over a concurrent check that read PostgreSQL before it.
type Sessions struct {
	Client *Client
}

var _ auth.SessionCache = Sessions{}

const revokedValue = "revoked"

// rememberScript sets KEYS[1] to ARGV[1] for ARGV[2] ms unless it holds a
// revocation.
var rememberScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == '` + revokedValue + `' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

func (s Sessions) key(id uuid.UUID) string { return s.Client.Key("session:" + id.String()) }

// Lookup implements auth.SessionCache.
func (s Sessions) Lookup(ctx context.Context, id uuid.UUID) (auth.CachedSession, error) {
	return s.parse(id, s.Client.Get(ctx, s.key(id)))
}

// Queue adds the lookup of session id to p, for a read made in one round
// trip with others; the returned function gives its answer after p ran.
func (s Sessions) Queue(p redis.Pipeliner, id uuid.UUID) func() (auth.CachedSession, error) {
	cmd := p.Get(context.Background(), s.key(id))
	return func() (auth.CachedSession, error) { return s.parse(id, cmd) }
}

func (s Sessions) parse(id uuid.UUID, cmd *redis.StringCmd) (auth.CachedSession, error) {
	v, err := cmd.Result()
	if errors.Is(err, redis.Nil) {
		return auth.CachedSession{SessionID: id}, nil
	}
	if err != nil {
		return auth.CachedSession{}, fmt.Errorf("read cached session: %w", err)
	}
	if v == revokedValue {
		return auth.CachedSession{Found: true, Revoked: true, SessionID: id}, nil
	}
	// Anything else that is not a live entry is no answer: PostgreSQL
	// decides, and its answer replaces the entry.
	f := strings.Fields(v)
	if len(f) != 3 || f[0] != "live" {
		return auth.CachedSession{SessionID: id}, nil
	}
	uid, err1 := uuid.Parse(f[1])
	ms, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return auth.CachedSession{SessionID: id}, nil
	}
	return auth.CachedSession{Found: true, SessionID: id, UserID: uid, Until: time.UnixMilli(ms)}, nil
}

// Remember implements auth.SessionCache.
func (s Sessions) Remember(ctx context.Context, c auth.CachedSession, ttl time.Duration) error {
	v := "live " + c.UserID.String() + " " + strconv.FormatInt(c.Until.UnixMilli(), 10)
	ms := max(ttl.Milliseconds(), 1)
	if err := rememberScript.Run(ctx, s.Client, []string{s.key(c.SessionID)}, v, ms).Err(); err != nil {
		return fmt.Errorf("cache session: %w", err)
	}
	return nil
}

// Revoke implements auth.SessionCache: one round trip for every id.
func (s Sessions) Revoke(ctx context.Context, ttl time.Duration, ids ...uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.Set(ctx, s.key(id), revokedValue, ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache session revocation: %w", err)
	}
	return nil
}
