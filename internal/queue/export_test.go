package queue

import (
	"context"
	"time"
)

// This file gives the external tests (package queue_test, which must be
// external because it imports internal/postgres, and internal/postgres
// imports packages that import this one) access to the claim primitives,
// so that they can play a consumer that crashed or lost its lock.

// Claim is a message claimed directly, without a consumer.
type Claim struct{ c claimed }

// Delivery returns the delivery the claim made.
func (c Claim) Delivery() Delivery { return c.c.Delivery }

// SameClaim reports whether c and d hold the same claim token.
func (c Claim) SameClaim(d Claim) bool { return c.c.token == d.c.token }

// ClaimForTest claims up to n messages as Consume does.
func (l *Local) ClaimForTest(ctx context.Context, queue string, n int, visibility time.Duration, maxDeliveries int) ([]Claim, error) {
	cs, err := l.claim(ctx, queue, n, visibility, maxDeliveries)
	out := make([]Claim, len(cs))
	for i, c := range cs {
		out[i] = Claim{c}
	}
	return out, err
}

func (l *Local) CompleteForTest(ctx context.Context, c Claim) error { return l.complete(ctx, c.c) }

func (l *Local) ReleaseForTest(ctx context.Context, c Claim, herr error, backoff time.Duration) error {
	return l.release(ctx, c.c, herr, backoff)
}

func (l *Local) DeadLetterForTest(ctx context.Context, c Claim, herr error) error {
	return l.deadLetter(ctx, c.c, herr)
}

func (l *Local) ExtendForTest(ctx context.Context, c Claim, visibility time.Duration) error {
	return l.extend(ctx, c.c, visibility)
}

// The consumer's queries, for plan checks.
var (
	ClaimSQL             = claimSQL
	DeadLetterExpiredSQL = deadLetterExpiredSQL
)

// SetClockForTest makes every query of l use now instead of the database's
// clock, so that a test expires locks and backoffs by moving it.
func (l *Local) SetClockForTest(now func() time.Time) { l.now = now }

// SetAfterClaimQueryForTest makes every claim of l call f after its UPDATE
// returned and before its rows are read.
func (l *Local) SetAfterClaimQueryForTest(f func()) { l.afterClaimQuery = f }
