// Package ratelimit enforces request rate limits that hold across every
// instance of the function app, by keeping GCRA state in Redis through
// github.com/go-redis/redis_rate.
//
// # Keys
//
// A limit is identified by a rule name chosen by the program ("login:ip",
// "login:account") and a subject taken from the request (an IP address, an
// email). The subject is hashed (SHA-256, first 128 bits, hex) before it
// becomes part of a key, so raw emails and addresses are never written to
// Redis and never held in memory by the fallback. Every key is
// prefix+"rl:"+name+":"+hash. The hash is unkeyed: it keeps subjects out of
// key listings, but whoever can read the keys and guesses an email can confirm
// the guess.
//
// # Local counts and the fallback
//
// Login must not become unlimited, and a Redis outage (or a Redis that is
// merely slow on a busy machine) must not become a login outage. So every
// instance also keeps its own count of the requests it allows, always, with
// the same algorithm (GCRA) and Limit: a request is first reserved in this
// local count, then Redis is asked; a request Redis allows is counted
// locally, one it denies is released, and one whose Redis call fails or does
// not answer within 300 ms is counted locally and decided by the local count
// alone (Decision.Degraded). A request the local count cannot take is denied
// without asking Redis: this instance alone has used the limit up.
//
// What this guarantees: one instance never allows more for a (rule, subject)
// than the limit, in total across the requests Redis decided and those the
// fallback decided, before, during and after a Redis failure, however many
// requests run at once (TestRedisTimeoutsNeverGrantMoreThanTheLimit). What it
// does not:
//
//   - While Redis fails the limits hold per instance, not globally: with N
//     instances, a client whose requests are spread over all of them can get
//     up to N times the limit during the outage. Requests other instances made
//     through Redis before the outage are not visible to this one.
//   - Counts taken by the fallback are not copied to Redis when it comes back
//     (they keep holding on this instance until they refill).
//   - The local count tracks at most 10,000 (name, subject) pairs per instance
//     and evicts the least recently used one when full. An evicted pair that
//     had not refilled yet forgets this instance's history, which matters
//     only if Redis fails before it would have refilled. Memory stays bounded
//     (about 2 MB at the cap) whatever the traffic.
//
// After a failure the Limiter uses the fallback without asking Redis, and lets
// one request per second probe Redis again, so an outage costs one request a
// second up to 300 ms of latency rather than every request. A warning is
// logged at most once per 5 s while degraded, and an info line when Redis
// answers again after a warning.
//
// Redis failures are never returned as errors. The error results are for
// programmer errors (an invalid Limit or name, no rules, a duplicated rule) and
// for a ctx that ended before a decision was made.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

const (
	// redisTimeout bounds the Redis work of one Allow, AllowAll or Reset.
	redisTimeout = 300 * time.Millisecond
	// probeInterval is how long the Limiter stays on the fallback after a
	// Redis failure before one request tries Redis again.
	probeInterval = time.Second
	// warnInterval is the minimum time between two degraded warnings.
	warnInterval = 5 * time.Second
	// maxLocalKeys caps the (name, subject) pairs the fallback tracks.
	maxLocalKeys = 10_000
	// maxNameLen caps rule names; names are program constants, not data.
	maxNameLen = 64
)

// Limit is a GCRA limit: Burst requests may go ahead at once, and the
// allowance refills at Rate requests per Period. A Limit is valid when Rate,
// Burst and Period are all positive.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerMinute returns a limit of n requests per minute with a burst of n.
func PerMinute(n int) Limit { return Limit{Rate: n, Burst: n, Period: time.Minute} }

// PerHour returns a limit of n requests per hour with a burst of n.
func PerHour(n int) Limit { return Limit{Rate: n, Burst: n, Period: time.Hour} }

func (lim Limit) valid() bool { return lim.Rate > 0 && lim.Burst > 0 && lim.Period > 0 }

// Decision says whether one request may go ahead.
type Decision struct {
	// Allowed reports whether the request may go ahead. A denied request
	// consumes nothing (but see AllowAll for a race that errs toward denial).
	Allowed bool
	// RetryAfter is, when Allowed is false, how long until every rule that
	// denied would allow one request again; it is then always positive. It
	// is zero when Allowed is true.
	RetryAfter time.Duration
	// Remaining is how many more requests the most restrictive rule would
	// allow right now; zero when Allowed is false.
	Remaining int
	// Degraded reports that the decision was made by this instance's
	// fallback because Redis failed, so the limit held per instance only.
	Degraded bool
}

// Rule is one limit to check for a request. Name identifies the limit and is
// a program constant of 1 to 64 characters from A-Z a-z 0-9 _ - . and :
// ("login:ip"). Subject is what is limited (an IP address, an email); it is
// hashed before use and may be any string.
type Rule struct {
	Name    string
	Subject string
	Limit   Limit
}

// Limiter enforces Limits kept in Redis, falling back to per-instance limits
// while Redis is unavailable. It is safe for concurrent use.
type Limiter struct {
	rdb    *redis.Client
	gcra   *redis_rate.Limiter
	prefix string // caller's prefix + "rl:"
	logger *slog.Logger
	local  *localLimiters
	// now is the clock of the local counts and the warnings; tests drive
	// it. Redis keeps its own clock.
	now func() time.Time
	// elapsed is the clock of the probes: monotonic time since an arbitrary
	// origin, so that a step of the wall clock (NTP, a VM resumed) neither
	// keeps the Limiter off Redis for as long as the clock went back nor
	// skips the back-off when it went forward. Tests drive it.
	elapsed func() time.Duration

	// probeEvery is probeInterval; tests that need a Redis outage without
	// probes lengthen it.
	probeEvery time.Duration
	// downUntil is zero while Redis is healthy; after a failure it holds the
	// reading of elapsed (ns) before which Redis is not asked.
	downUntil atomic.Int64

	warnMu   sync.Mutex
	lastWarn time.Time // zero until the first warning
	warned   bool      // a warning was logged since Redis last recovered
	pending  int       // degraded calls since the last warning
	lastErr  error     // most recent Redis failure
}

// New returns a Limiter using rdb with every key prefixed by prefix+"rl:".
// rdb must not be nil; it is not contacted until the first request. A nil
// logger discards the Limiter's warnings.
func New(rdb *redis.Client, prefix string, logger *slog.Logger) *Limiter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		rdb:     rdb,
		gcra:    redis_rate.NewLimiter(keyspace{rdb: rdb}),
		prefix:  prefix + "rl:",
		logger:  logger,
		local:   newLocalLimiters(maxLocalKeys),
		now:     time.Now,
		elapsed: monotonic(),

		probeEvery: probeInterval,
	}
}

// monotonic returns a clock of the time elapsed since it was made. It reads
// the monotonic clock: time.Since compares time.Now's monotonic readings.
func monotonic() func() time.Duration {
	origin := time.Now()
	return func() time.Duration { return time.Since(origin) }
}

// Allow consumes one request for subject under the rule called name. It is
// AllowAll with a single rule. A denied request consumes nothing.
func (l *Limiter) Allow(ctx context.Context, name, subject string, limit Limit) (Decision, error) {
	return l.AllowAll(ctx, Rule{Name: name, Subject: subject, Limit: limit})
}

// AllowAll checks every rule for one request and returns the most restrictive
// decision: allowed only if every rule allows; RetryAfter the longest wait
// among the rules that deny; Remaining the smallest among the rules.
//
// Rules are consumed all or nothing. In Redis, AllowAll first reads every
// rule without consuming it and returns a denial if any rule denies; only
// then does it consume each rule in order. A request that a concurrent one
// overtakes between the two steps is denied by the rule that ran out, and the
// rules consumed before it stay consumed: the race errs toward denying, never
// toward exceeding a limit. The all-or-nothing rule matters for login, where
// a client blocked by its per-IP limit must not go on draining the per-account
// limit of the account it attacks. The local count applies the same
// semantics atomically, and is checked first (see the package comment).
//
// AllowAll returns an error, and consumes nothing, when rules is empty, a
// rule has an invalid Name or Limit, or two rules share Name and Subject. It
// also returns an error when ctx ends before a decision is made; Redis may
// then have counted the abandoned request. Redis failures are not errors.
func (l *Limiter) AllowAll(ctx context.Context, rules ...Rule) (Decision, error) {
	keys, err := l.keys(rules)
	if err != nil {
		return Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return Decision{}, fmt.Errorf("ratelimit: %w", err)
	}
	at := l.now()
	ok, remaining, retryAfter := l.local.reserve(at, keys, rules)
	if !ok {
		d := Decision{RetryAfter: retryAfter, Degraded: l.downUntil.Load() != 0}
		if d.Degraded {
			l.warnDegraded()
		}
		return d, nil
	}
	if l.tryRedis() {
		d, err := withTimeout(ctx, func(ctx context.Context) (Decision, error) {
			return l.redisAllowAll(ctx, keys, rules)
		})
		if err == nil {
			l.redisOK()
			if !d.Allowed {
				l.local.release(keys)
				return d, nil
			}
			l.local.commit(l.now(), keys, rules)
			d.Remaining = min(d.Remaining, remaining)
			return d, nil
		}
		// Redis may have counted the request before failing; so does this
		// instance, which errs toward denying.
		l.local.commit(l.now(), keys, rules)
		if ctx.Err() != nil { // the caller gave up; Redis is not to blame
			return Decision{}, fmt.Errorf("ratelimit: %w", ctx.Err())
		}
		l.redisFailed(err)
	} else {
		l.local.commit(at, keys, rules)
	}
	l.warnDegraded()
	return Decision{Allowed: true, Remaining: remaining, Degraded: true}, nil
}

// Peek reports how many requests each rule would allow right now, in the
// order of rules, without consuming any: the smaller of Redis's count and
// this instance's local count, or the local count alone when Redis fails.
// A later AllowAll may still be denied (other requests may run in between);
// Peek is for choosing which rules a request must pass, not for enforcing
// them. Errors are as for AllowAll.
func (l *Limiter) Peek(ctx context.Context, rules ...Rule) ([]int, error) {
	keys, err := l.keys(rules)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	local := l.local.available(l.now(), keys, rules)
	if l.tryRedis() {
		shared, err := withTimeout(ctx, func(ctx context.Context) ([]int, error) {
			out := make([]int, len(rules))
			for i, r := range rules {
				res, err := l.gcra.AllowN(ctx, keys[i], gcraLimit(r.Limit), 0) // a cost of 0 only reads
				if err != nil {
					return nil, fmt.Errorf("redis peek %s: %w", r.Name, err)
				}
				out[i] = available(r.Limit, res.ResetAfter)
			}
			return out, nil
		})
		if err == nil {
			l.redisOK()
			for i := range local {
				local[i] = min(local[i], shared[i])
			}
			return local, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ratelimit: %w", ctx.Err())
		}
		l.redisFailed(err)
	}
	l.warnDegraded()
	return local, nil
}

// Refund gives back one request to every rule, in Redis and in this
// instance's local count, for a request that turned out not to need counting
// (login charges an attempt as a failure before checking the password, and
// refunds it when the password was right). It is meant for a request that
// AllowAll allowed moments ago, less than one interval (Period/Rate) of each
// rule earlier; it never makes a rule hold more than its Burst. A Redis
// failure is logged, not returned (the charge then stays until it refills);
// the errors are as for Reset.
func (l *Limiter) Refund(ctx context.Context, rules ...Rule) error {
	keys, err := l.keys(rules)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	l.local.refund(keys, rules)
	return l.bestEffort(ctx, func(ctx context.Context) error {
		for i, r := range rules {
			if err := refundScript.Run(ctx, l.rdb, keys[i:i+1], interval(r.Limit).Seconds()).Err(); err != nil {
				return fmt.Errorf("redis refund %s: %w", r.Name, err)
			}
		}
		return nil
	})
}

// bestEffort runs op against Redis when Redis is not known to be failing,
// within the Redis timeout. A Redis failure is recorded and logged, not
// returned; only the end of ctx is.
func (l *Limiter) bestEffort(ctx context.Context, op func(context.Context) error) error {
	if !l.tryRedis() {
		l.warnDegraded()
		return nil
	}
	_, err := withTimeout(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, op(ctx) })
	switch {
	case err == nil:
		l.redisOK()
	case ctx.Err() != nil:
		return fmt.Errorf("ratelimit: %w", ctx.Err())
	default:
		l.redisFailed(err)
		l.warnDegraded()
	}
	return nil
}

// refundScript moves a redis_rate GCRA key one emission interval (ARGV[1],
// in seconds) back, and deletes it when that leaves nothing owed. It reads
// time and stores the theoretical arrival time exactly as redis_rate's own
// script does (seconds since 2017-01-01 as a float), so the two agree.
var refundScript = redis.NewScript(`
redis.replicate_commands()
local tat = redis.call("GET", KEYS[1])
if not tat then
  return 0
end
local now = redis.call("TIME")
now = (now[1] - 1483228800) + (now[2] / 1000000)
local new_tat = tonumber(tat) - tonumber(ARGV[1])
if new_tat <= now then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], new_tat, "EX", math.ceil(new_tat - now))
end
return 1
`)

// Reset forgets subject's history under the rule called name, in Redis and in
// this instance's fallback, so its next request starts with a full burst (for
// example, to clear per-account login attempts after a successful login).
// A Redis failure is logged, not returned: the history kept in Redis then
// stays until it expires by itself. Reset returns an error only for an
// invalid name or when ctx ends first.
func (l *Limiter) Reset(ctx context.Context, name, subject string) error {
	if !validName(name) {
		return fmt.Errorf("ratelimit: invalid rule name %q", name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	key := l.key(name, subject)
	l.local.reset(key)
	return l.bestEffort(ctx, func(ctx context.Context) error {
		if err := l.gcra.Reset(ctx, key); err != nil {
			return fmt.Errorf("redis reset: %w", err)
		}
		return nil
	})
}

// redisAllowAll decides in Redis; see AllowAll for the semantics.
func (l *Limiter) redisAllowAll(ctx context.Context, keys []string, rules []Rule) (Decision, error) {
	if len(rules) > 1 {
		// A cost of 0 reports the allowance without consuming any.
		denied := Decision{}
		for i, r := range rules {
			res, err := l.gcra.AllowN(ctx, keys[i], gcraLimit(r.Limit), 0)
			if err != nil {
				return Decision{}, fmt.Errorf("redis peek %s: %w", r.Name, err)
			}
			if available(r.Limit, res.ResetAfter) < 1 {
				denied.RetryAfter = max(denied.RetryAfter, peekRetryAfter(r.Limit, res.ResetAfter))
			}
		}
		if denied.RetryAfter > 0 {
			return denied, nil
		}
	}
	d := Decision{Allowed: true, Remaining: math.MaxInt}
	for i, r := range rules {
		res, err := l.gcra.Allow(ctx, keys[i], gcraLimit(r.Limit))
		if err != nil {
			return Decision{}, fmt.Errorf("redis allow %s: %w", r.Name, err)
		}
		if res.Allowed < 1 {
			return Decision{RetryAfter: max(res.RetryAfter, time.Millisecond)}, nil
		}
		d.Remaining = min(d.Remaining, available(r.Limit, res.ResetAfter))
	}
	return d, nil
}

func gcraLimit(lim Limit) redis_rate.Limit {
	return redis_rate.Limit{Rate: lim.Rate, Burst: lim.Burst, Period: lim.Period}
}

// gcraSlack absorbs the rounding in redis_rate's script, which does its
// arithmetic in float64 seconds since 2017 (about 0.1 µs of noise) and
// truncates the Remaining it reports: a fresh key with a Burst of 1 can come
// back with 0.9999999 requests left, reported as 0. available recomputes the
// count from ResetAfter with this slack instead.
const gcraSlack = 10 * time.Microsecond

// available returns how many requests a GCRA key can take right now, given
// its ResetAfter (the time until it is back to a full burst).
func available(lim Limit, resetAfter time.Duration) int {
	interval := float64(lim.Period) / float64(lim.Rate)
	n := math.Floor(float64(lim.Burst) - float64(resetAfter-gcraSlack)/interval)
	return int(min(max(n, 0), float64(lim.Burst)))
}

// peekRetryAfter turns the ResetAfter of a cost-0 GCRA call (the time until
// the key is back to a full burst) into the time until one request fits.
func peekRetryAfter(lim Limit, resetAfter time.Duration) time.Duration {
	interval := float64(lim.Period) / float64(lim.Rate)
	wait := time.Duration(float64(resetAfter) - float64(lim.Burst-1)*interval)
	return max(wait, time.Millisecond) // Remaining < 1 means a wait; never report none
}

// withTimeout runs f with ctx limited to redisTimeout, and returns when f does
// or when that deadline passes, whichever is first. The client's socket reads
// honour its ReadTimeout rather than ctx unless ContextTimeoutEnabled is set,
// so only this guarantees the bound; an abandoned f finishes in the background
// within the client's own timeouts.
func withTimeout[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("redis: %w", ctx.Err())
	}
}

// tryRedis reports whether this call should ask Redis: always while Redis is
// healthy; after a failure, only for the one caller that claims the next probe.
func (l *Limiter) tryRedis() bool {
	until := l.downUntil.Load()
	if until == 0 {
		return true
	}
	now := int64(l.elapsed())
	if now < until {
		return false
	}
	return l.downUntil.CompareAndSwap(until, now+int64(l.probeEvery))
}

// redisFailed keeps callers off Redis for probeEvery (on the monotonic
// clock) and remembers err for the next warning.
func (l *Limiter) redisFailed(err error) {
	l.downUntil.Store(max(int64(l.elapsed()+l.probeEvery), 1)) // never 0, which means healthy
	l.warnMu.Lock()
	l.lastErr = err
	l.warnMu.Unlock()
}

// redisOK marks Redis healthy, and logs the recovery if the outage was
// warned about.
func (l *Limiter) redisOK() {
	if l.downUntil.Load() == 0 || l.downUntil.Swap(0) == 0 {
		return
	}
	l.warnMu.Lock()
	defer l.warnMu.Unlock()
	if l.warned {
		l.logger.Info("ratelimit: redis answers again; limits are global", "degraded_calls", l.pending)
		l.warned, l.pending = false, 0
	}
}

// warnDegraded counts one degraded call and logs a warning unless one was
// logged less than warnInterval ago.
func (l *Limiter) warnDegraded() {
	l.warnMu.Lock()
	defer l.warnMu.Unlock()
	l.pending++
	now := l.now()
	if !l.lastWarn.IsZero() && now.Sub(l.lastWarn) < warnInterval {
		return
	}
	cause := "unknown"
	if l.lastErr != nil {
		cause = l.lastErr.Error()
	}
	l.logger.Warn("ratelimit: redis unavailable; enforcing limits per instance",
		"err", cause, "degraded_calls", l.pending)
	l.lastWarn, l.warned, l.pending = now, true, 0
}

// keys validates rules and returns the key of each.
func (l *Limiter) keys(rules []Rule) ([]string, error) {
	if len(rules) == 0 {
		return nil, errors.New("ratelimit: no rules")
	}
	keys := make([]string, len(rules))
	for i, r := range rules {
		if !validName(r.Name) {
			return nil, fmt.Errorf("ratelimit: invalid rule name %q", r.Name)
		}
		if !r.Limit.valid() {
			return nil, fmt.Errorf("ratelimit: rule %s: invalid limit %+v: rate, burst and period must be positive", r.Name, r.Limit)
		}
		keys[i] = l.key(r.Name, r.Subject)
		for j := range i {
			if keys[j] == keys[i] {
				return nil, fmt.Errorf("ratelimit: rule %s given twice for one subject", r.Name)
			}
		}
	}
	return keys, nil
}

// key returns the Redis key of subject under name; the subject is hashed.
func (l *Limiter) key(name, subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return l.prefix + name + ":" + hex.EncodeToString(sum[:16])
}

func validName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// LimitError is the error services return when a rate limit is reached;
// RetryAfter is at least a second.
type LimitError struct{ RetryAfter time.Duration }

func (e *LimitError) Error() string {
	return "rate limit reached; retry after " + e.RetryAfter.String()
}

// Checker is what Enforce needs: a Limiter, or a service's own interface
// for it.
type Checker interface {
	AllowAll(ctx context.Context, rules ...Rule) (Decision, error)
}

// Enforce checks rules with c and returns a *LimitError when one denies.
func Enforce(ctx context.Context, c Checker, rules ...Rule) error {
	d, err := c.AllowAll(ctx, rules...)
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if !d.Allowed {
		return &LimitError{RetryAfter: max(d.RetryAfter, time.Second)}
	}
	return nil
}
