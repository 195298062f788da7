package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// localLimiters is the in-process fallback: one token bucket per key, with
// the same rate and burst as the rule's Limit, for at most max keys. When
// full, the least recently used key is evicted; it is the one most likely to
// have refilled already, and forgetting it costs at most that key's history.
// One mutex guards everything: the fallback only runs while Redis is down and
// each call holds it for microseconds, and holding it across all rules of a
// request is what makes AllowAll all-or-nothing here.
type localLimiters struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element // values are *localEntry
	lru     *list.List               // front: most recently used
}

type localEntry struct {
	key string
	lim *rate.Limiter
}

func newLocalLimiters(capacity int) *localLimiters {
	return &localLimiters{max: capacity, entries: make(map[string]*list.Element), lru: list.New()}
}

// allowAll decides one request against every rule, with AllowAll's semantics:
// it consumes one token from every rule only if every rule has one.
func (s *localLimiters) allowAll(keys []string, rules []Rule) Decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	lims := make([]*rate.Limiter, len(rules))
	for i, r := range rules {
		lims[i] = s.get(now, keys[i], r.Limit)
	}

	d := Decision{Degraded: true}
	for _, lim := range lims {
		if tokens := lim.TokensAt(now); tokens < 1 {
			wait := time.Duration((1 - tokens) / float64(lim.Limit()) * float64(time.Second))
			d.RetryAfter = max(d.RetryAfter, wait, time.Millisecond)
		}
	}
	if d.RetryAfter > 0 {
		return d
	}

	d.Allowed, d.Remaining = true, math.MaxInt
	for _, lim := range lims {
		lim.AllowN(now, 1) // cannot fail: checked above under the same lock
		d.Remaining = min(d.Remaining, int(lim.TokensAt(now)))
	}
	return d
}

// get returns key's limiter, creating it with a full burst if needed. The
// caller holds s.mu.
func (s *localLimiters) get(now time.Time, key string, limit Limit) *rate.Limiter {
	r := rate.Limit(float64(limit.Rate) / limit.Period.Seconds())
	if el, ok := s.entries[key]; ok {
		s.lru.MoveToFront(el)
		lim := el.Value.(*localEntry).lim
		if lim.Limit() != r { // the same rule used with another Limit
			lim.SetLimitAt(now, r)
		}
		if lim.Burst() != limit.Burst {
			lim.SetBurstAt(now, limit.Burst)
		}
		return lim
	}
	for s.lru.Len() >= s.max {
		oldest := s.lru.Back()
		s.lru.Remove(oldest)
		delete(s.entries, oldest.Value.(*localEntry).key)
	}
	lim := rate.NewLimiter(r, limit.Burst)
	s.entries[key] = s.lru.PushFront(&localEntry{key: key, lim: lim})
	return lim
}

// reset forgets key.
func (s *localLimiters) reset(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.entries[key]; ok {
		s.lru.Remove(el)
		delete(s.entries, key)
	}
}

// len returns the number of keys tracked.
func (s *localLimiters) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}
