package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Local is a durable queue in PostgreSQL (table queue_messages, migration
// 00002_local_queue.sql) for running without Service Bus: `make dev` and the
// tests. It is safe for concurrent use, and any number of Locals, in one
// process or several, may send to and consume the same queues.
//
// Delivery is at least once, as with Service Bus: a consumer claims a
// message for a visibility timeout (its lock), and a message whose consumer
// stops or crashes before completing it is delivered again once the lock
// expires.
type Local struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	// now, when set, replaces the database's clock in every query (tests
	// drive it to expire locks and backoffs without waiting). nil: the
	// database's now(), one clock for every process sharing the queue.
	now func() time.Time
	// afterClaimQuery, when set, runs after the claim's UPDATE returned and
	// before its rows are read (tests end the consumer's context there).
	afterClaimQuery func()
}

var _ Sender = (*Local)(nil)

// NewLocal returns a Local on pool, whose database must have the migrations
// applied (postgres.Migrate). It makes no connection. logger receives one
// record per failed delivery, dead-letter and consumer problem; nil discards.
func NewLocal(pool *pgxpool.Pool, logger *slog.Logger) *Local {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Local{pool: pool, logger: logger}
}

// clock returns the time the queries use as "now": nil (SQL NULL, so the
// queries fall back to the database's now()) unless a clock is set.
func (l *Local) clock() *time.Time {
	if l.now == nil {
		return nil
	}
	t := l.now()
	return &t
}

// sqlNow is the queries' "now": the clock parameter, or the database's.
func sqlNow(param int) string {
	return fmt.Sprintf("coalesce($%d::timestamptz, now())", param)
}

// notifyChannel is the PostgreSQL NOTIFY channel Send signals on, with the
// queue name as payload, so that idle consumers wake at once instead of at
// their next poll.
const notifyChannel = "queue_messages"

// Send stores m on queue and wakes the queue's consumers. It is idempotent
// per (queue, m.ID): while a message with the same ID exists on the queue
// (waiting, in flight, completed within the duplicate-detection window, or
// dead-lettered) the new one is dropped and Send returns nil, as Service Bus
// duplicate detection does. Send returns an error wrapping ErrInvalidMessage
// for a message Service Bus would refuse.
func (l *Local) Send(ctx context.Context, queue string, m Message) error {
	m = withTrace(ctx, m)
	if err := validate(queue, m); err != nil {
		return err
	}
	body := m.Body
	if body == nil {
		body = []byte{} // pgx sends a nil slice as NULL
	}
	// The notification is sent only for a row actually inserted, and (like
	// the insert) only when the statement commits.
	var notBefore *time.Time
	if !m.NotBefore.IsZero() {
		notBefore = &m.NotBefore
	}
	tag, err := l.pool.Exec(ctx, `
		WITH inserted AS (
			INSERT INTO queue_messages (queue, message_id, body, enqueued_at, visible_at, traceparent)
			VALUES ($1, $2, $3, `+sqlNow(4)+`, greatest(`+sqlNow(4)+`, coalesce($5::timestamptz, `+sqlNow(4)+`)), nullif($6, ''))
			ON CONFLICT ON CONSTRAINT queue_messages_queue_message_id_key DO NOTHING
			RETURNING 1
		)
		SELECT pg_notify('`+notifyChannel+`', $1) FROM inserted`,
		queue, m.ID, body, l.clock(), notBefore, m.Traceparent)
	if err != nil {
		return fmt.Errorf("send message %s to local queue %s: %w", m.ID, queue, err)
	}
	if tag.RowsAffected() == 0 {
		l.logger.DebugContext(ctx, "duplicate message ignored", "queue", queue, "message_id", m.ID)
	}
	return nil
}

// Delivery is one delivery of a message to a Handler.
type Delivery struct {
	// MessageID is the ID the message was sent with.
	MessageID string
	// DeliveryCount is 1 on the first delivery and grows by one with each
	// redelivery (after a handler error or an expired lock).
	DeliveryCount int64
	// EnqueuedTime is when the message was first stored.
	EnqueuedTime time.Time
	// Body is the message body, byte for byte as sent.
	Body []byte
	// Traceparent is the W3C trace context the message was sent with
	// (Message.Traceparent), or "".
	Traceparent string
}

// Handler processes one delivery. Returning nil completes the message: it is
// never delivered again. Returning an error abandons this delivery: the
// message is delivered again after the consumer's backoff, or dead-lettered
// when this was its last allowed delivery. ctx is cancelled when the
// consumer loses the message's lock (context.Cause is ErrLockLost) or when a
// shutdown outlasts ConsumerOptions.DrainTimeout; an error returned after
// that shutdown cancellation gives the message back for an immediate
// redelivery that does not count against MaxDeliveries.
type Handler func(ctx context.Context, d Delivery) error

// ErrLockLost is the cause of a handler's context cancellation when the
// consumer finds that another consumer has claimed the message since (its
// lock expired before it was renewed). The handler's result is then
// discarded: the other consumer's claim decides the message's fate.
var ErrLockLost = errors.New("queue: message lock lost")

// errShutdown is the cause of a handler's context cancellation when a
// shutdown outlasts DrainTimeout.
var errShutdown = errors.New("queue: consumer shut down before the handler finished")

// ConsumerOptions configures Consume. Zero values select the defaults.
type ConsumerOptions struct {
	// Concurrency is the most handlers one Consume runs at once (default 4).
	Concurrency int
	// Visibility is the lock duration: how long a claimed message stays
	// invisible to other consumers without a heartbeat (default 5 min). The
	// consumer renews it every Visibility/3 while the handler runs, so it
	// bounds how long a crashed consumer delays a message, not how long a
	// handler may run.
	Visibility time.Duration
	// MaxDeliveries is how many times a message is delivered before it is
	// dead-lettered (default 5), like Service Bus' maxDeliveryCount.
	MaxDeliveries int
	// Poll is how often an idle consumer looks for messages that became
	// visible (default 500 ms): after a backoff, after a lock expired, or
	// when a notification was missed. New messages wake it at once.
	Poll time.Duration
	// Backoff is how long a message stays invisible after the delivery
	// numbered attempt (1 for the first) failed (default 1 s doubling up to
	// 1 min).
	Backoff func(attempt int) time.Duration
	// DrainTimeout bounds how long Consume waits for running handlers after
	// its context ends (default 30 s). Handlers still running then have
	// their context cancelled; each that returns an error within
	// AbortTimeout gives its message back (visible at once, the interrupted
	// delivery not counted), so that the next consumer, in this process
	// after a restart or in another, runs it without waiting for the lock to
	// expire.
	DrainTimeout time.Duration
	// AbortTimeout bounds how long Consume waits, after DrainTimeout, for
	// the handlers it cancelled (default 5 s). A handler that ignores its
	// context is not waited for beyond it: its message is redelivered once
	// its lock expires. Consume therefore returns at most DrainTimeout +
	// AbortTimeout after its context ends.
	AbortTimeout time.Duration
	// DedupWindow is how long a completed message is kept so that a send
	// with the same ID is still recognised as a duplicate (default 10 min,
	// Service Bus' default duplicate detection window). Dead-lettered
	// messages are kept until deleted by hand.
	DedupWindow time.Duration
}

// withDefaults returns o with every zero (or negative) field set to its default.
func (o ConsumerOptions) withDefaults() ConsumerOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Visibility <= 0 {
		o.Visibility = 5 * time.Minute
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 5
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = defaultBackoff
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.AbortTimeout <= 0 {
		o.AbortTimeout = 5 * time.Second
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = 10 * time.Minute
	}
	return o
}

// defaultBackoff is 1 s for the first failure, doubling up to 1 min.
func defaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return time.Minute
	}
	return min(time.Second<<(attempt-1), time.Minute)
}

// pruneInterval is the longest time between two deletions of completed
// messages older than the duplicate-detection window.
const pruneInterval = time.Minute

// Consume delivers the messages of queue to h until ctx ends, then stops
// claiming, waits up to DrainTimeout for the running handlers, cancels those
// still running and waits up to AbortTimeout for them (see DrainTimeout),
// and returns nil. It returns an error at once for an invalid queue name or a nil
// handler; database errors while it runs are logged and retried.
//
// Each claim takes at most as many messages as there are free handler slots,
// makes each invisible to other consumers for Visibility under a fresh claim
// token, and counts one more delivery. While a handler runs its lock is
// renewed (heartbeat). When the handler returns nil the message is marked
// completed; on error it becomes visible again after Backoff, or is
// dead-lettered (dead_lettered_at and last_error set, never delivered again)
// if this was delivery MaxDeliveries. A message whose lock expired on its
// last allowed delivery (its consumer crashed) is dead-lettered instead of
// being delivered once more. Completing, releasing and renewing all check
// the claim token, so a consumer that lost its lock can never settle a
// message another consumer has claimed since.
//
// Besides the handlers' own queries, a Consume holds one pool connection
// for LISTEN and briefly uses one per claim, renewal and settlement: size
// the pool for Concurrency plus two per consumer.
func (l *Local) Consume(ctx context.Context, queue string, h Handler, o ConsumerOptions) error {
	if err := validateQueue(queue); err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	if h == nil {
		return errors.New("consume: nil handler")
	}
	o = o.withDefaults()
	log := l.logger.With("queue", queue)

	wake := make(chan struct{}, 1)
	listenCtx, stopListening := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		l.listen(listenCtx, queue, wake, log)
	}()
	defer func() {
		stopListening()
		<-listening
	}()

	// Handlers run on a context that survives ctx, so that a shutdown lets
	// them finish (up to DrainTimeout) and settle their messages.
	handlerCtx, cancelHandlers := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelHandlers(errShutdown)

	// done has room for every handler, so that a handler finishing after
	// Consume returned never blocks.
	done := make(chan struct{}, o.Concurrency)
	running := 0
	poll := time.NewTicker(o.Poll)
	defer poll.Stop()
	var nextPrune time.Time
	failing := false // whether the last claim failed; logs transitions only

	for ctx.Err() == nil {
		if free := o.Concurrency - running; free > 0 {
			claimed, err := l.claim(ctx, queue, free, o.Visibility, o.MaxDeliveries)
			switch {
			case err != nil && ctx.Err() == nil:
				if !failing {
					log.WarnContext(ctx, "local queue: claim failed; retrying", "error", err)
				}
				failing = true
			case err == nil && failing:
				log.InfoContext(ctx, "local queue: claiming again")
				failing = false
			}
			for _, c := range claimed {
				running++
				go l.deliver(handlerCtx, log, c, h, o, done)
			}
		}
		if now := time.Now(); now.After(nextPrune) {
			nextPrune = now.Add(min(pruneInterval, o.DedupWindow/2))
			if err := l.prune(ctx, o.DedupWindow); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "local queue: prune completed messages", "error", err)
			}
		}
		select {
		case <-ctx.Done():
		case <-done:
			running--
		case <-wake:
		case <-poll.C:
		}
	}

	if !waitHandlers(done, &running, o.DrainTimeout) {
		log.Warn("local queue: handlers still running after the drain timeout; cancelling them and giving their messages back",
			"handlers", running, "drain_timeout", o.DrainTimeout.String())
		cancelHandlers(errShutdown)
		if !waitHandlers(done, &running, o.AbortTimeout) {
			log.Warn("local queue: cancelled handlers did not return; their messages are redelivered when their locks expire",
				"handlers", running, "abort_timeout", o.AbortTimeout.String())
		}
	}
	return nil
}

// waitHandlers counts finished handlers off *running until none is left
// (true) or timeout passes (false).
func waitHandlers(done <-chan struct{}, running *int, timeout time.Duration) bool {
	if *running == 0 {
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for *running > 0 {
		select {
		case <-done:
			*running--
		case <-t.C:
			return false
		}
	}
	return true
}

// claimed is a message claimed by this consumer.
type claimed struct {
	id    uuid.UUID
	token uuid.UUID
	Delivery
}

// deadLetterExpiredSQL dead-letters the visible messages of queue $1 that
// have had $2 (MaxDeliveries) deliveries already: their last consumer
// stopped without settling them. $3 is the clock (NULL: the database's).
var deadLetterExpiredSQL = `
UPDATE queue_messages m
SET dead_lettered_at = ` + sqlNow(3) + `, claim_token = NULL,
    last_error = 'delivery limit reached: the lock of delivery ' || m.delivery_count
        || ' expired before the message was completed (consumer stopped or crashed)'
        || coalesce('; last handler error: ' || m.last_error, '')
FROM (
	SELECT id FROM queue_messages
	WHERE queue = $1 AND completed_at IS NULL AND dead_lettered_at IS NULL
	  AND visible_at <= ` + sqlNow(3) + ` AND delivery_count >= $2
	FOR UPDATE SKIP LOCKED
) x
WHERE m.id = x.id
RETURNING m.message_id, m.delivery_count`

// claimSQL claims up to $2 visible messages of queue $1 for $3 seconds,
// oldest visible first, skipping rows other consumers are claiming at the
// same moment (SKIP LOCKED) and rows at the delivery limit $4. $5 is the
// clock (NULL: the database's).
var claimSQL = `
UPDATE queue_messages m
SET claim_token = gen_random_uuid(), delivery_count = m.delivery_count + 1,
    visible_at = ` + sqlNow(5) + ` + make_interval(secs => $3)
FROM (
	SELECT id FROM queue_messages
	WHERE queue = $1 AND completed_at IS NULL AND dead_lettered_at IS NULL
	  AND visible_at <= ` + sqlNow(5) + ` AND delivery_count < $4
	ORDER BY visible_at
	LIMIT $2
	FOR UPDATE SKIP LOCKED
) x
WHERE m.id = x.id
RETURNING m.id, m.claim_token, m.message_id, m.delivery_count, m.enqueued_at, m.body, coalesce(m.traceparent, '')`

// claimTimeout bounds the queries of one claim, which ctx cannot cut short.
const claimTimeout = 30 * time.Second

// claim dead-letters the visible messages of queue that have had
// maxDeliveries deliveries already (their last consumer stopped without
// settling them), then claims up to n visible messages for visibility.
//
// The queries run on a context that ctx's end does not cancel (bounded by
// claimTimeout instead): cancelling a claim whose UPDATE had committed,
// before its rows were read, lost the messages it claimed (invisible for
// visibility, with no consumer). When ctx has ended by the time the rows
// are read, claim gives them back at once (visible, their delivery not
// counted) and returns ctx's error: a consumer that is stopping takes no
// message.
func (l *Local) claim(ctx context.Context, queue string, n int, visibility time.Duration, maxDeliveries int) ([]claimed, error) {
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	defer cancel()
	out, err := l.claimOn(qctx, queue, n, visibility, maxDeliveries)
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("claim messages: %w", context.Cause(ctx))
		if uerr := l.unclaim(qctx, out); uerr != nil {
			l.logger.WarnContext(qctx, "local queue: give back messages claimed as the consumer stopped; they are redelivered when their locks expire",
				"queue", queue, "messages", len(out), "error", uerr)
		}
		return nil, err
	}
	return out, err
}

// claimOn is claim's queries, all on ctx.
func (l *Local) claimOn(ctx context.Context, queue string, n int, visibility time.Duration, maxDeliveries int) ([]claimed, error) {
	now := l.clock()
	rows, err := l.pool.Query(ctx, deadLetterExpiredSQL, queue, maxDeliveries, now)
	if err != nil {
		return nil, fmt.Errorf("dead-letter expired messages: %w", err)
	}
	var messageID string
	var count int64
	_, err = pgx.ForEachRow(rows, []any{&messageID, &count}, func() error {
		l.logger.ErrorContext(ctx, "local queue: message dead-lettered: its last allowed delivery was never completed",
			"queue", queue, "message_id", messageID, "delivery_count", count)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dead-letter expired messages: %w", err)
	}

	rows, err = l.pool.Query(ctx, claimSQL, queue, n, visibility.Seconds(), maxDeliveries, now)
	if err != nil {
		return nil, fmt.Errorf("claim messages: %w", err)
	}
	if l.afterClaimQuery != nil {
		l.afterClaimQuery()
	}
	var c claimed
	var out []claimed
	_, err = pgx.ForEachRow(rows, []any{&c.id, &c.token, &c.MessageID, &c.DeliveryCount, &c.EnqueuedTime, &c.Body, &c.Traceparent}, func() error {
		out = append(out, c)
		c = claimed{} // Body must not be shared between messages
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim messages: %w", err)
	}
	return out, nil
}

// unclaim gives back messages claimed but never handed to a handler:
// visible at once, their delivery not counted.
func (l *Local) unclaim(ctx context.Context, cs []claimed) error {
	if len(cs) == 0 {
		return nil
	}
	ids, tokens := make([]uuid.UUID, len(cs)), make([]uuid.UUID, len(cs))
	for i, c := range cs {
		ids[i], tokens[i] = c.id, c.token
	}
	_, err := l.pool.Exec(ctx, `
		UPDATE queue_messages m
		SET claim_token = NULL, delivery_count = m.delivery_count - 1, visible_at = `+sqlNow(3)+`
		FROM unnest($1::uuid[], $2::uuid[]) AS u(id, token)
		WHERE m.id = u.id AND m.claim_token = u.token`,
		ids, tokens, l.clock())
	if err != nil {
		return fmt.Errorf("unclaim messages: %w", err)
	}
	return nil
}

// deliver runs h on c with a heartbeat and settles the message by its
// result, then signals done.
func (l *Local) deliver(ctx context.Context, log *slog.Logger, c claimed, h Handler, o ConsumerOptions, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	log = log.With("message_id", c.MessageID, "delivery_count", c.DeliveryCount)
	if c.Traceparent != "" {
		log = log.With("traceparent", c.Traceparent)
	}

	hctx, cancel := context.WithCancelCause(ctx)
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		l.heartbeat(hctx, log, c, o.Visibility, cancel)
	}()
	herr := callHandler(hctx, log, h, c.Delivery)
	lockLost := errors.Is(context.Cause(hctx), ErrLockLost)
	shutdown := errors.Is(context.Cause(hctx), errShutdown)
	cancel(nil)
	<-beating // no renewal may land after the settlement below

	// Settle even when ctx has been cancelled (shutdown): a handler that
	// finished deserves its result recorded.
	sctx, cancelSettle := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelSettle()
	var err error
	switch {
	case herr == nil:
		err = l.complete(sctx, c)
	case shutdown:
		// Interrupted, not failed: the next consumer runs it at once.
		err = l.giveBack(sctx, c)
		if err == nil {
			log.Info("local queue: delivery interrupted by shutdown; message given back", "error", herr)
		}
	case c.DeliveryCount >= int64(o.MaxDeliveries):
		err = l.deadLetter(sctx, c, herr)
		if err == nil {
			log.Error("local queue: message dead-lettered after its last allowed delivery failed", "error", herr)
		}
	default:
		backoff := max(o.Backoff(int(c.DeliveryCount)), 0)
		err = l.release(sctx, c, herr, backoff)
		if err == nil {
			log.Warn("local queue: delivery failed; redelivering later", "error", herr, "backoff", backoff)
		}
	}
	switch {
	case errors.Is(err, ErrLockLost) || (err != nil && lockLost):
		log.Warn("local queue: message lock lost before the handler finished; it is (or will be) delivered again", "handler_error", herr)
	case err != nil:
		log.Error("local queue: settle message; it is delivered again when its lock expires", "error", err, "handler_error", herr)
	}
}

// callHandler runs h, turning a panic into an error so that one bad message
// cannot take the process down; the message is then retried and
// dead-lettered like any failure.
func callHandler(ctx context.Context, log *slog.Logger, h Handler, d Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("local queue: handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, d)
}

// heartbeat renews c's lock every visibility/3 until ctx ends. When the
// claim is gone (another consumer holds the message now) it cancels the
// handler with ErrLockLost; database errors are logged and the renewal is
// tried again at the next beat.
func (l *Local) heartbeat(ctx context.Context, log *slog.Logger, c claimed, visibility time.Duration, cancel context.CancelCauseFunc) {
	t := time.NewTicker(max(visibility/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := l.extend(ctx, c, visibility)
		switch {
		case errors.Is(err, ErrLockLost):
			log.Warn("local queue: message lock lost; cancelling the handler")
			cancel(ErrLockLost)
			return
		case err != nil && ctx.Err() == nil:
			log.Warn("local queue: renew message lock", "error", err)
		}
	}
}

// extend renews c's lock for visibility from now, or returns ErrLockLost.
func (l *Local) extend(ctx context.Context, c claimed, visibility time.Duration) error {
	return l.settle(ctx, "renew lock", `
		UPDATE queue_messages SET visible_at = `+sqlNow(4)+` + make_interval(secs => $3)
		WHERE id = $1 AND claim_token = $2`,
		c.id, c.token, visibility.Seconds(), l.clock())
}

// complete marks c completed, or returns ErrLockLost.
func (l *Local) complete(ctx context.Context, c claimed) error {
	return l.settle(ctx, "complete message", `
		UPDATE queue_messages SET completed_at = `+sqlNow(3)+`, claim_token = NULL
		WHERE id = $1 AND claim_token = $2`,
		c.id, c.token, l.clock())
}

// release makes c visible again after backoff, recording herr, or returns
// ErrLockLost.
func (l *Local) release(ctx context.Context, c claimed, herr error, backoff time.Duration) error {
	return l.settle(ctx, "release message", `
		UPDATE queue_messages
		SET claim_token = NULL, visible_at = `+sqlNow(5)+` + make_interval(secs => $3), last_error = $4
		WHERE id = $1 AND claim_token = $2`,
		c.id, c.token, backoff.Seconds(), errorText(herr), l.clock())
}

// giveBack makes c visible again at once and uncounts its delivery (a
// delivery cut short by a shutdown is not a failed one), or returns
// ErrLockLost. last_error is left as it was.
func (l *Local) giveBack(ctx context.Context, c claimed) error {
	return l.settle(ctx, "give message back", `
		UPDATE queue_messages
		SET claim_token = NULL, visible_at = `+sqlNow(3)+`, delivery_count = greatest(delivery_count - 1, 0)
		WHERE id = $1 AND claim_token = $2`,
		c.id, c.token, l.clock())
}

// deadLetter dead-letters c with herr as its last error, or returns ErrLockLost.
func (l *Local) deadLetter(ctx context.Context, c claimed, herr error) error {
	return l.settle(ctx, "dead-letter message", `
		UPDATE queue_messages SET claim_token = NULL, dead_lettered_at = `+sqlNow(4)+`, last_error = $3
		WHERE id = $1 AND claim_token = $2`,
		c.id, c.token, errorText(herr), l.clock())
}

// settle runs an UPDATE guarded by a claim token and returns ErrLockLost
// when it matched no row.
func (l *Local) settle(ctx context.Context, op, sql string, args ...any) error {
	tag, err := l.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, ErrLockLost)
	}
	return nil
}

// maxErrorLength caps last_error; handler errors may quote tool output.
const maxErrorLength = 4000

// errorText is err's message as storable text: valid UTF-8, no NUL, capped.
func errorText(err error) string {
	s := strings.ReplaceAll(strings.ToValidUTF8(err.Error(), "\uFFFD"), "\x00", "\uFFFD")
	if s == "" {
		s = fmt.Sprintf("%T with an empty message", err)
	}
	if utf8.RuneCountInString(s) > maxErrorLength {
		s = string([]rune(s)[:maxErrorLength-1]) + "…"
	}
	return s
}

// prune deletes completed messages older than window, on every queue.
func (l *Local) prune(ctx context.Context, window time.Duration) error {
	_, err := l.pool.Exec(ctx, `
		DELETE FROM queue_messages WHERE completed_at < `+sqlNow(2)+` - make_interval(secs => $1)`,
		window.Seconds(), l.clock())
	return err
}

// listen wakes the consumer of queue whenever Send notifies a new message,
// until ctx ends. It holds one pool connection while listening. Polling
// covers the gaps: a lost connection is re-established after a pause.
func (l *Local) listen(ctx context.Context, queue string, wake chan<- struct{}, log *slog.Logger) {
	const retry = 5 * time.Second
	for {
		err := l.listenOnce(ctx, queue, wake)
		if ctx.Err() != nil {
			return
		}
		log.DebugContext(ctx, "local queue: listen for notifications; polling meanwhile", "error", err, "retry_in", retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

func (l *Local) listenOnce(ctx context.Context, queue string, wake chan<- struct{}) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// A connection interrupted while waiting is not fit for reuse, and it
		// is LISTENing: close it, and the pool drops it on Release.
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Conn().Close(cctx)
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	signal(wake) // anything sent before LISTEN took effect
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == queue {
			signal(wake)
		}
	}
}

// signal wakes the consumer loop without blocking; one pending wake-up is enough.
func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// Stats counts the messages of one queue by state.
type Stats struct {
	// Pending messages wait for a delivery: new, in backoff after a failed
	// delivery, or with an expired lock.
	Pending int64
	// InFlight messages are claimed by a consumer whose lock has not expired.
	InFlight int64
	// Completed messages were handled successfully and are kept for the
	// duplicate-detection window.
	Completed int64
	// DeadLettered messages reached the delivery limit and are never
	// delivered again.
	DeadLettered int64
}

// Stats returns the message counts of queue, for tests and health checks.
func (l *Local) Stats(ctx context.Context, queue string) (Stats, error) {
	var s Stats
	err := l.pool.QueryRow(ctx, `
		SELECT
			count(*) FILTER (WHERE completed_at IS NULL AND dead_lettered_at IS NULL
			                   AND (claim_token IS NULL OR visible_at <= `+sqlNow(2)+`)),
			count(*) FILTER (WHERE completed_at IS NULL AND dead_lettered_at IS NULL
			                   AND claim_token IS NOT NULL AND visible_at > `+sqlNow(2)+`),
			count(*) FILTER (WHERE completed_at IS NOT NULL),
			count(*) FILTER (WHERE dead_lettered_at IS NOT NULL)
		FROM queue_messages WHERE queue = $1`, queue, l.clock()).Scan(&s.Pending, &s.InFlight, &s.Completed, &s.DeadLettered)
	if err != nil {
		return Stats{}, fmt.Errorf("local queue stats: %w", err)
	}
	return s, nil
}
