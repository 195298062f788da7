package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPostgresServerStopsAndStartsOnTheSamePort: the server answers, is
// unreachable once stopped (either mode), and answers again on the same URL.
func TestPostgresServerStopsAndStartsOnTheSamePort(t *testing.T) {
	s := StartPostgresServer(t)
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		return c.Ping(ctx)
	}
	if err := ping(); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	for _, mode := range []string{"fast", "immediate"} {
		s.Stop(t, mode)
		if err := ping(); err == nil {
			t.Fatalf("server stopped (%s) still answers", mode)
		}
		s.Start(t)
		if err := ping(); err != nil {
			t.Fatalf("after restart (%s): %v", mode, err)
		}
	}
}
