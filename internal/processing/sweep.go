package processing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Stale is a video whose processing is pending or running for too long.
type Stale struct {
	ID        uuid.UUID
	Status    string // StatusPending or StatusProcessing
	UpdatedAt time.Time
	Attempts  Attempt // attempts started so far
}

// SweepStore is the persistence of the sweeper.
type SweepStore interface {
	// StaleProcessing lists up to limit videos whose processing has been
	// pending since before pendingBefore or processing since before
	// processingBefore, oldest first.
	StaleProcessing(ctx context.Context, pendingBefore, processingBefore time.Time, limit int) ([]Stale, error)
	// RequeueProcessing sets s back to pending, touching its clock, if it
	// is unchanged since listed; it returns the new clock, or false.
	RequeueProcessing(ctx context.Context, s Stale) (time.Time, bool, error)
	// GiveUpProcessing marks s failed with reason if it is unchanged since
	// listed.
	GiveUpProcessing(ctx context.Context, s Stale, reason string) error
}

// Sweeper heals processing that no worker is running (a lost message, a
// killed worker, a dead-lettered message): it sends the probe again, and
// after MaxAttempts attempts fails the processing with a reason.
type Sweeper struct {
	Store SweepStore
	Queue Queue
	// PendingTimeout: pending this long, the probe is sent again; default
	// 2 min.
	PendingTimeout time.Duration
	// StaleWorker: processing this long (a run takes at most
	// Options.Timeout), the attempt is taken as dead; default 10 min.
	StaleWorker time.Duration
	// MaxAttempts started attempts fail the processing; default 5.
	MaxAttempts int
}

// sweepBatch bounds the videos one sweep handles.
const sweepBatch = 200

// GaveUpReason is the processing_error of a video the sweeper gave up on.
const GaveUpReason = "the video could not be processed after several attempts"

// Sweep implements the processing part of the sweeper timer.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (string, error) {
	pending, worker, maxAttempts := s.PendingTimeout, s.StaleWorker, s.MaxAttempts
	if pending == 0 {
		pending = 2 * time.Minute
	}
	if worker == 0 {
		worker = 10 * time.Minute
	}
	if maxAttempts == 0 {
		maxAttempts = 5
	}
	stale, err := s.Store.StaleProcessing(ctx, now.Add(-pending), now.Add(-worker), sweepBatch)
	if err != nil {
		return "", fmt.Errorf("stale processing: %w", err)
	}
	var resent, failed int
	var errs []error
	for _, st := range stale {
		if st.Attempts >= Attempt(maxAttempts) {
			if err := s.Store.GiveUpProcessing(ctx, st, GaveUpReason); err != nil {
				errs = append(errs, err)
				continue
			}
			failed++
			continue
		}
		since, ok, err := s.Store.RequeueProcessing(ctx, st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := s.Queue.resendProbe(ctx, st.ID, since); err != nil {
			errs = append(errs, err)
			continue
		}
		resent++
	}
	return fmt.Sprintf("%d probes sent again, %d processings given up", resent, failed), errors.Join(errs...)
}
