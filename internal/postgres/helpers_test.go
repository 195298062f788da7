package postgres

import (
	"errors"
	"io/fs"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/videofn/videofn/internal/testenv"
)

// SQLSTATE codes the tests expect.
const (
	codeUniqueViolation     = "23505"
	codeCheckViolation      = "23514"
	codeForeignKeyViolation = "23503"
	codeNotNullViolation    = "23502"
)

// testLogger returns a logger that writes to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// migratedDB returns an open DB on a fresh database with every migration
// applied. The database is dropped when the test ends.
func migratedDB(t *testing.T) *DB {
	t.Helper()
	url := testenv.Postgres(t)
	if _, err := Migrate(t.Context(), url, testLogger(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// migrationCount is the number of embedded migration files.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrationsFS, "migrations/*.sql")
	if err != nil {
		t.Fatalf("list migrations: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("no embedded migrations")
	}
	return len(files)
}

// pgError returns the PostgreSQL error code and constraint name carried by
// err, or empty strings when err is nil or not a server error.
func pgError(err error) (code, constraint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code, pgErr.ConstraintName
	}
	return "", ""
}
