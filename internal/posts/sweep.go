package posts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Stale is a post the sweeper looks at: due but still scheduled (its
// message may be lost) or publishing under an expired lease (its worker
// crashed, or its message was dead-lettered).
type Stale struct {
	ID      uuid.UUID
	Status  string
	Attempt Attempt
}

// SweepStore is the persistence of the sweeper.
type SweepStore interface {
	// StalePosts lists up to limit posts scheduled for before dueBefore
	// and posts publishing whose lease ended before now, oldest first.
	StalePosts(ctx context.Context, dueBefore, now time.Time, limit int) ([]Stale, error)
	// GiveUpPost marks s failed with reason if it is unchanged since listed.
	GiveUpPost(ctx context.Context, s Stale, reason string) error
}

// Sweeper heals posts no worker is publishing: it sends their message
// again (the claim makes a duplicate harmless), and fails a post after
// MaxAttempts attempts.
type Sweeper struct {
	Store SweepStore
	Queue Queue
	// Grace: a post due this long and still scheduled gets its message
	// again; default 1 min.
	Grace time.Duration
	// MaxAttempts started attempts fail the post; default 5.
	MaxAttempts int
}

// GaveUpReason is the error of a post the sweeper gave up on.
const GaveUpReason = "the post could not be published after several attempts"

const sweepBatch = 200

// Sweep implements the posts part of the sweeper timer.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (string, error) {
	grace, maxAttempts := s.Grace, s.MaxAttempts
	if grace <= 0 {
		grace = time.Minute
	}
	if maxAttempts <= 0 {
		maxAttempts = 5
	}
	stale, err := s.Store.StalePosts(ctx, now.Add(-grace), now, sweepBatch)
	if err != nil {
		return "", fmt.Errorf("stale posts: %w", err)
	}
	var resent, failed int
	var errs []error
	for _, st := range stale {
		if st.Status == StatusPublishing && st.Attempt >= Attempt(maxAttempts) {
			if err := s.Store.GiveUpPost(ctx, st, GaveUpReason); err != nil {
				errs = append(errs, err)
				continue
			}
			failed++
			continue
		}
		if err := s.Queue.resend(ctx, st.ID, now); err != nil {
			errs = append(errs, err)
			continue
		}
		resent++
	}
	return fmt.Sprintf("%d publish messages sent again, %d posts given up", resent, failed), errors.Join(errs...)
}
