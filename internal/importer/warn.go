package importer

import (
	"log/slog"
	"sync"
	"time"
)

// progressWarnInterval is the least time between two "progress not
// written" warnings, as for the rate limiter's degraded warnings.
const progressWarnInterval = 5 * time.Second

// throttledWarn logs a warning at most once per every, with the number of
// warnings suppressed since the previous one, so that a Redis outage does
// not write a line per progress update of every import.
type throttledWarn struct {
	every time.Duration
	now   func() time.Time

	mu         sync.Mutex
	last       time.Time // zero until the first warning
	suppressed int
}

func (w *throttledWarn) warn(log *slog.Logger, msg string, err error) {
	w.mu.Lock()
	now := w.now()
	if !w.last.IsZero() && now.Sub(w.last) < w.every {
		w.suppressed++
		w.mu.Unlock()
		return
	}
	suppressed := w.suppressed
	w.last, w.suppressed = now, 0
	w.mu.Unlock()
	log.Warn(msg, "err", err.Error(), "suppressed", suppressed)
}
