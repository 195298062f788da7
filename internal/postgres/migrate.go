package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationsFS holds the schema migrations, applied in order of their numeric
// prefix. A migration, once released, is never edited: changes go in a new file.
//
//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrate applies every embedded migration that the database at databaseURL
// has not applied yet, logs each one it applies through logger, and returns
// how many it applied: 0 when the schema is already current.
//
// Several processes may call Migrate at once (every function instance does at
// start, and `handler migrate` may run alongside): a PostgreSQL session-level
// advisory lock serialises them, so each migration runs exactly once and the
// others wait (up to 5 minutes) and then find nothing to do. Each migration
// runs in its own transaction; when one fails, the error says which, and the
// count includes the migrations applied before it.
func Migrate(ctx context.Context, databaseURL string, logger *slog.Logger) (applied int, err error) {
	cfg, err := parseConfig(databaseURL)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg.ConnConfig)
	defer sqlDB.Close()
	return migrate(ctx, sqlDB, logger)
}

// MigrateDB is Migrate through db's pool, so it connects the way db does
// (for example with Entra ID tokens as passwords). The serving process uses
// it when MIGRATE_ON_START is set.
func MigrateDB(ctx context.Context, db *DB, logger *slog.Logger) (applied int, err error) {
	sqlDB := stdlib.OpenDBFromPool(db.pool.Pool)
	defer sqlDB.Close()
	return migrate(ctx, sqlDB, logger)
}

func migrate(ctx context.Context, sqlDB *sql.DB, logger *slog.Logger) (applied int, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	provider, err := newProvider(sqlDB, logger)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	results, err := provider.Up(ctx)
	if partial, ok := errors.AsType[*goose.PartialError](err); ok {
		results = partial.Applied
	}
	for _, r := range results {
		logger.InfoContext(ctx, "migration applied",
			slog.Int64("version", r.Source.Version),
			slog.String("file", path.Base(r.Source.Path)),
			slog.Duration("duration", r.Duration),
		)
	}
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// newProvider returns a goose provider for the embedded migrations that takes
// the advisory lock around every operation.
func newProvider(db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	// Poll for the lock every second (goose's default is 5 s) for up to 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("create migration lock: %w", err)
	}
	return goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker),
		// Only the migrations embedded here, never Go migrations registered
		// globally by some imported package.
		goose.WithDisableGlobalRegistry(true),
		// goose's default logger writes to stderr, which the Functions host
		// records as errors; goose logs nothing unless verbose, and this
		// package logs the applied migrations itself.
		goose.WithSlog(logger),
	)
}
