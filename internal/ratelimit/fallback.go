package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// localLimiters is this instance's own count of every (rule, subject) it
// decides, kept whether or not Redis is healthy: GCRA, the algorithm Redis
// runs, with the same Limit, so that when Redis fails the fallback starts from
// what this instance has already allowed instead of a fresh burst.
//
// A request is reserved here before Redis is asked (pending), and then either
// counted (Redis allowed it, or did not answer) or released (Redis denied
// it). It is counted when Redis's answer arrives, so this instance's count
// never runs ahead of Redis's in time: a wait this count reports is never
// shorter than the one Redis would report for the same requests. Reservations count as used while they are
// pending, so concurrent requests can never be allowed past the limit by this
// instance, whatever Redis answers or fails to answer.
//
// At most max keys are kept; when full, the least recently used key is
// evicted. It is the one most likely to have refilled already (then
// forgetting it loses nothing); otherwise its local history is lost, which
// matters only if Redis fails before it refills. One mutex guards everything:
// each call holds it for microseconds, and holding it across all rules of a
// request is what makes a reservation all-or-nothing.
type localLimiters struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element // values are *localEntry
	lru     *list.List               // front: most recently used
}

type localEntry struct {
	key string
	// tat is the GCRA theoretical arrival time: the key is back to a full
	// burst at tat, and each counted request pushed it one interval later.
	tat time.Time
	// counted is when the latest request was counted. A concurrent request
	// may have read the clock before that and reserve after it; its reading
	// is taken as counted, or GCRA would charge it for the gap as if it owed
	// one more interval (a burst of 10 then allowed 9).
	counted time.Time
	// pending counts reserved requests whose outcome is not known yet.
	pending int
}

func newLocalLimiters(capacity int) *localLimiters {
	return &localLimiters{max: capacity, entries: make(map[string]*list.Element), lru: list.New()}
}

// interval is the GCRA emission interval of lim: one request refills in it.
func interval(lim Limit) time.Duration { return lim.Period / time.Duration(lim.Rate) }

// availableAt returns how many requests e could take at now, pending ones
// counted as taken (never below zero).
func (e *localEntry) availableAt(now time.Time, lim Limit) int {
	iv := interval(lim)
	owed := max(e.tat.Sub(later(now, e.counted)), 0)
	n := int(math.Floor(float64(time.Duration(lim.Burst)*iv-owed) / float64(iv)))
	return max(min(n, lim.Burst)-e.pending, 0)
}

// waitAt returns how long until e can take one more request, assuming its
// pending requests are counted.
func (e *localEntry) waitAt(now time.Time, lim Limit) time.Duration {
	iv := interval(lim)
	owed := max(e.tat.Sub(later(now, e.counted)), 0) + time.Duration(e.pending)*iv
	return max(owed-time.Duration(lim.Burst-1)*iv, time.Millisecond)
}

// reserve checks one request against every rule at now. When every rule has
// room, it reserves the request in each (all or nothing) and returns allowed
// true with the smallest remaining count after it; otherwise it reserves
// nothing and returns a denial with the longest wait.
func (s *localLimiters) reserve(now time.Time, keys []string, rules []Rule) (allowed bool, remaining int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := make([]*localEntry, len(rules))
	for i := range rules {
		entries[i] = s.get(keys[i])
		if entries[i].availableAt(now, rules[i].Limit) < 1 {
			retryAfter = max(retryAfter, entries[i].waitAt(now, rules[i].Limit))
		}
	}
	if retryAfter > 0 {
		return false, 0, retryAfter
	}
	remaining = math.MaxInt
	for i, e := range entries {
		e.pending++
		remaining = min(remaining, e.availableAt(now, rules[i].Limit))
	}
	return true, remaining, 0
}

// commit counts a reserved request in every rule as made at at.
func (s *localLimiters) commit(at time.Time, keys []string, rules []Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range rules {
		e := s.get(keys[i]) // recreated if it was evicted meanwhile
		e.pending = max(e.pending-1, 0)
		e.tat = later(e.tat, at).Add(interval(r.Limit))
		e.counted = later(e.counted, at)
	}
}

// release forgets a reserved request without counting it.
func (s *localLimiters) release(keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range keys {
		if el, ok := s.entries[key]; ok {
			e := el.Value.(*localEntry)
			e.pending = max(e.pending-1, 0)
		}
	}
}

// available returns how many requests each rule could take at now.
func (s *localLimiters) available(now time.Time, keys []string, rules []Rule) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, len(rules))
	for i, r := range rules {
		if el, ok := s.entries[keys[i]]; ok {
			out[i] = el.Value.(*localEntry).availableAt(now, r.Limit)
		} else {
			out[i] = r.Limit.Burst
		}
	}
	return out
}

// refund gives one interval back to every rule that has counted requests.
func (s *localLimiters) refund(keys []string, rules []Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range rules {
		if el, ok := s.entries[keys[i]]; ok {
			e := el.Value.(*localEntry)
			e.tat = e.tat.Add(-interval(r.Limit))
		}
	}
}

// get returns key's entry, creating it with a full burst if needed. The
// caller holds s.mu.
func (s *localLimiters) get(key string) *localEntry {
	if el, ok := s.entries[key]; ok {
		s.lru.MoveToFront(el)
		return el.Value.(*localEntry)
	}
	for s.lru.Len() >= s.max {
		oldest := s.lru.Back()
		s.lru.Remove(oldest)
		delete(s.entries, oldest.Value.(*localEntry).key)
	}
	e := &localEntry{key: key}
	s.entries[key] = s.lru.PushFront(e)
	return e
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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
