package fence

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

var (
	errGone  = errors.New("gone")
	errStale = errors.New("stale")
)

// TestWatchStopsWithTheCheckCause: a failed check is retried, and the
// first check that names a cause cancels the attempt with it.
func TestWatchStopsWithTheCheckCause(t *testing.T) {
	var checks atomic.Int32
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, time.Millisecond, time.Hour, func(context.Context) (error, error) {
			if checks.Add(1) < 3 {
				return StopCause(errors.New("database blip"), errGone)
			}
			return StopCause(errGone, errGone)
		}, func(context.Context) error { return nil }, func(error) bool { return false }, cancel, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	<-done
	if !errors.Is(context.Cause(ctx), errGone) || checks.Load() != 3 {
		t.Errorf("cause %v after %d checks, want %v after 3", context.Cause(ctx), checks.Load(), errGone)
	}
}

// TestWatchChecksAtOnceWhenTheHeartbeatIsStale: a heartbeat refused as no
// longer current leads to a check without waiting for the next poll.
func TestWatchChecksAtOnceWhenTheHeartbeatIsStale(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, time.Hour, time.Millisecond,
			func(context.Context) (error, error) { return errStale, nil },
			func(context.Context) error { return errStale },
			func(err error) bool { return errors.Is(err, errStale) }, cancel, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	<-done
	if !errors.Is(context.Cause(ctx), errStale) {
		t.Errorf("cause %v, want %v", context.Cause(ctx), errStale)
	}
}

func TestStopCause(t *testing.T) {
	wrapped := errors.Join(errGone, errors.New("detail"))
	if c, err := StopCause(wrapped, errGone); c != wrapped || err != nil {
		t.Errorf("a stop: %v %v", c, err)
	}
	if c, err := StopCause(errStale, errGone); c != nil || err != errStale {
		t.Errorf("a failed check: %v %v", c, err)
	}
	if c, err := StopCause(nil, errGone); c != nil || err != nil {
		t.Errorf("all well: %v %v", c, err)
	}
}
