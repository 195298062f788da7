// Package pgtest gives tests a fresh PostgreSQL database with the project's
// schema applied. It lives apart from testenv because it imports the
// postgres package, whose own tests use testenv.
package pgtest

import (
	"context"
	"testing"

	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/testenv"
)

// Migrated creates an empty database for the calling test (dropped at
// cleanup), applies every migration, and returns its URL and an open pool
// (closed at cleanup). The test fails when PostgreSQL is unreachable.
func Migrated(t testing.TB) (url string, db *postgres.DB) {
	t.Helper()
	url = testenv.Postgres(t)
	if _, err := postgres.Migrate(context.Background(), url, nil); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(db.Close)
	return url, db
}
