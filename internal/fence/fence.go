// Package fence keeps one attempt of a fenced job (an import, a clip
// render) honest while it runs: the job's row names its current attempt,
// and an attempt that is no longer current, or whose job was cancelled or
// deleted, must stop without changing anything.
package fence

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Watch checks the attempt every poll and marks it alive every beat, until
// ctx ends or the attempt must stop, which it then does with cancel(cause).
//
// check returns the cause when the attempt must stop, or an error when the
// check itself failed (logged; the next poll tries again). touch marks the
// attempt alive; an error for which stale is true means the attempt may no
// longer be current, and is followed by a check at once.
func Watch(ctx context.Context, poll, beat time.Duration, check func(context.Context) (cause, err error),
	touch func(context.Context) error, stale func(error) bool, cancel context.CancelCauseFunc, log *slog.Logger) {
	polls := time.NewTicker(poll)
	defer polls.Stop()
	beats := time.NewTicker(beat)
	defer beats.Stop()
	stop := func() bool {
		cause, err := check(ctx)
		if cause != nil {
			cancel(cause)
			return true
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("attempt check failed", "err", err.Error())
		}
		return false
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-polls.C:
			if stop() {
				return
			}
		case <-beats.C:
			err := touch(ctx)
			switch {
			case err != nil && stale(err):
				if stop() {
					return
				}
			case err != nil && ctx.Err() == nil:
				log.Warn("attempt heartbeat failed", "err", err.Error())
			}
		}
	}
}

// StopCause splits the result of a check for Watch: err itself when it is
// one of stops (the attempt must stop), else err as a failed check.
func StopCause(err error, stops ...error) (cause, checkErr error) {
	for _, s := range stops {
		if errors.Is(err, s) {
			return err, nil
		}
	}
	return nil, err
}
