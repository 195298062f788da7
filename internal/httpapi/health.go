package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Pinger is a dependency that can report whether it is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to Pinger.
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

// checkTimeout bounds each dependency check so that health answers quickly
// even when a dependency hangs.
const checkTimeout = 2 * time.Second

// Notice is a fact GET /api/health reports next to the checks without
// letting it change the answer's status, such as how strongly imports are
// sandboxed: a degraded sandbox is not an outage, but must be visible.
type Notice struct {
	OK     bool   // "ok" when true, "degraded" otherwise
	Detail string // one line, no secrets
}

type checkResult struct {
	Status    string `json:"status"` // "ok" or "error"; notices: "ok" or "degraded"
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

type healthResponse struct {
	Status string                 `json:"status"` // "ok" or "unavailable"
	Checks map[string]checkResult `json:"checks"`
}

// health checks every dependency concurrently. It answers 200 when all are
// reachable and 503 otherwise. Causes are logged; the client sees only
// "unreachable". Notices are added as they are and never change the status.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	resp := healthResponse{Status: "ok", Checks: make(map[string]checkResult, len(s.checks)+len(s.notices))}
	for name, n := range s.notices {
		res := checkResult{Status: "ok", Detail: n.Detail}
		if !n.OK {
			res.Status = "degraded"
		}
		resp.Checks[name] = res
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, p := range s.checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			defer cancel()
			start := time.Now()
			err := p.Ping(ctx)
			res := checkResult{Status: "ok", LatencyMS: time.Since(start).Milliseconds()}
			if err != nil {
				res.Status, res.Error = "error", "unreachable"
				s.logger.Warn("health check failed", "check", name, "err", err.Error())
			}
			mu.Lock()
			resp.Checks[name] = res
			if err != nil {
				resp.Status = "unavailable"
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	status := http.StatusOK
	if resp.Status != "ok" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, resp)
	return nil
}
