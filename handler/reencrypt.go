package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/videofn/videofn/internal/config"
	"github.com/videofn/videofn/internal/postgres"
)

// reencryptBatch is how many rows one transaction re-seals.
const reencryptBatch = 100

// reencrypt runs `handler reencrypt`: every stored secretbox value moves to
// DATA_ENCRYPTION_KEY (postgres.Reencrypt), opening what is under
// DATA_ENCRYPTION_KEY_PREVIOUS. It exits with an error when a row did not
// open, so DATA_ENCRYPTION_KEY_PREVIOUS is not removed while still needed.
func reencrypt(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	box, err := dataBox(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	db, err := postgres.Open(ctx, cfg.DatabaseURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := postgres.Reencrypt(ctx, db, box, reencryptBatch, func(c postgres.ReencryptCounts) {
		fmt.Fprintf(stdout, "%s: %d moved so far\n", c.Table, c.Moved)
	})
	failed := 0
	for _, c := range counts {
		fmt.Fprintf(stdout, "%s: %d moved to key %s, %d failed to open\n", c.Table, c.Moved, box.Primary(), c.Failed)
		failed += c.Failed
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("reencrypt: %d row(s) did not open under DATA_ENCRYPTION_KEY or DATA_ENCRYPTION_KEY_PREVIOUS; keep the previous key until they are resolved", failed)
	}
	return nil
}
