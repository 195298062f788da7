package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/videofn/videofn/internal/testenv"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	want := migrationCount(t)

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	got, err := Migrate(t.Context(), url, logger)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if got != want {
		t.Errorf("first Migrate applied %d, want %d", got, want)
	}
	if n := strings.Count(logs.String(), `"msg":"migration applied"`); n != want {
		t.Errorf("logged %d applied migrations, want %d; logs:\n%s", n, want, logs.String())
	}
	if !strings.Contains(logs.String(), `"file":"00001_init.sql"`) {
		t.Errorf("logs do not name 00001_init.sql:\n%s", logs.String())
	}

	logs.Reset()
	got, err = Migrate(t.Context(), url, logger)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if got != 0 {
		t.Errorf("second Migrate applied %d, want 0", got)
	}
	if logs.Len() != 0 {
		t.Errorf("second Migrate logged %q, want nothing", logs.String())
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	want := migrationCount(t)

	const instances = 4
	var (
		wg      sync.WaitGroup
		applied [instances]int
		errs    [instances]error
	)
	for i := range instances {
		wg.Go(func() {
			applied[i], errs[i] = Migrate(t.Context(), url, testLogger(t))
		})
	}
	wg.Wait()

	total := 0
	for i := range instances {
		if errs[i] != nil {
			t.Errorf("instance %d: Migrate: %v", i, errs[i])
		}
		total += applied[i]
	}
	if total != want {
		t.Errorf("instances applied %v migrations in total = %d, want %d (each exactly once)", applied, total, want)
	}

	db, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	var rows int
	err = db.Pool().QueryRow(t.Context(),
		"SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&rows)
	if err != nil {
		t.Fatalf("count applied versions: %v", err)
	}
	if rows != want {
		t.Errorf("goose_db_version has %d applied versions, want %d", rows, want)
	}
}

func TestMigrateDownUp(t *testing.T) {
	t.Parallel()
	// The Down sections must undo their Up sections exactly: after migrating
	// down to zero only goose's own table is left, and Up works again.
	url, sqlDB, provider := migratedProvider(t)
	if _, err := provider.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("DownTo(0): %v", err)
	}

	var leftover []string
	rows, err := sqlDB.QueryContext(t.Context(), `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relname NOT LIKE 'goose_db_version%'
		UNION ALL
		SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public'`)
	if err != nil {
		t.Fatalf("list leftovers: %v", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("scan: %v", err)
		}
		leftover = append(leftover, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list leftovers: %v", err)
	}
	if len(leftover) != 0 {
		t.Errorf("after migrating down, left in schema public: %v", leftover)
	}

	got, err := Migrate(t.Context(), url, testLogger(t))
	if err != nil {
		t.Fatalf("Migrate after down: %v", err)
	}
	if want := migrationCount(t); got != want {
		t.Errorf("Migrate after down applied %d, want %d", got, want)
	}
}

func TestMigrateUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	start := time.Now()
	n, err := Migrate(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable", nil)
	if err == nil {
		t.Fatal("Migrate with PostgreSQL unreachable: got nil error")
	}
	if n != 0 {
		t.Errorf("applied %d, want 0", n)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("Migrate took %v to fail, want it bounded by the connect timeout", elapsed)
	}
}

// TestMigrateSealedUploadSessionsDropsClearText: 00012 cannot seal a
// clear-text upload session (the key is not in the database), so a post
// publishing at deploy time loses it and its offset, and keeps its status
// and lease: the next attempt starts a new session. No clear-text URL is
// left; the emptied column stays for the previous release (forward-only
// migrations).
func TestMigrateSealedUploadSessionsDropsClearText(t *testing.T) {
	t.Parallel()
	_, sqlDB, provider := migratedProvider(t)
	if _, err := provider.DownTo(t.Context(), 11); err != nil {
		t.Fatalf("DownTo(11): %v", err)
	}
	const session = "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=secret-session"
	var postID string
	err := sqlDB.QueryRowContext(t.Context(), `
		WITH u AS (INSERT INTO users (email) VALUES ('ann@example.com') RETURNING id),
		a AS (INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
			SELECT id, 'youtube', 'ch', 'ch', decode(repeat('00', 32), 'hex'), 'k1' FROM u RETURNING id, user_id),
		v AS (INSERT INTO videos (user_id, title, source, source_url, status, content_type, size_bytes)
			SELECT id, 'v', 'url', 'https://example.com/v', 'ready', 'video/mp4', 100 FROM u RETURNING id, user_id)
		INSERT INTO posts (user_id, video_id, social_account_id, scheduled_at, status, attempt, lease_until, upload_url, upload_offset)
		SELECT v.user_id, v.id, a.id, now(), 'publishing', 1, now() + interval '5 minutes', $1, 524288 FROM v, a
		RETURNING id`, session).Scan(&postID)
	if err != nil {
		t.Fatalf("insert a publishing post: %v", err)
	}
	if _, err := provider.Up(t.Context()); err != nil {
		t.Fatalf("Up: %v", err)
	}
	var status string
	var offset int64
	var clear *string
	var sealed []byte
	var keyID *string
	var lease bool
	err = sqlDB.QueryRowContext(t.Context(), `
		SELECT status, upload_offset, upload_url, upload_url_ciphertext, upload_url_key_id, lease_until IS NOT NULL FROM posts WHERE id = $1`,
		postID).Scan(&status, &offset, &clear, &sealed, &keyID, &lease)
	if err != nil {
		t.Fatalf("select post: %v", err)
	}
	if status != "publishing" || !lease || offset != 0 || clear != nil || sealed != nil || keyID != nil {
		t.Errorf("after 00012: status %s, lease %v, offset %d, clear %v, sealed %x, key %v; want publishing under its lease with no session",
			status, lease, offset, clear, sealed, keyID)
	}
}

// TestMigrateUploadExpiresAt: 00013 gives each pending upload the expiry
// it was reported with before (updated_at plus 15 minutes, whole seconds),
// and nothing to other videos.
func TestMigrateUploadExpiresAt(t *testing.T) {
	t.Parallel()
	_, sqlDB, provider := migratedProvider(t)
	if _, err := provider.DownTo(t.Context(), 12); err != nil {
		t.Fatalf("DownTo(12): %v", err)
	}
	rows, err := sqlDB.QueryContext(t.Context(), `
		WITH u AS (INSERT INTO users (email) VALUES ('ann@example.com') RETURNING id)
		INSERT INTO videos (user_id, title, source, source_url, status, content_type, size_bytes, updated_at)
		SELECT id, s.title, s.source, s.url, s.status, 'video/mp4', 100, '2026-01-02 03:04:05.678+00' FROM u,
			(VALUES ('pending', 'upload', NULL, 'pending_upload'), ('ready', 'upload', NULL, 'ready'),
				('import', 'url', 'https://example.com/v', 'downloading')) AS s (title, source, url, status)
		RETURNING id, title`)
	if err != nil {
		t.Fatalf("insert videos: %v", err)
	}
	ids := map[string]string{}
	for rows.Next() {
		var id, title string
		if err := rows.Scan(&id, &title); err != nil {
			t.Fatal(err)
		}
		ids[title] = id
	}
	if err := rows.Err(); err != nil || len(ids) != 3 {
		t.Fatalf("inserted %v: %v", ids, err)
	}
	if _, err := provider.Up(t.Context()); err != nil {
		t.Fatalf("Up: %v", err)
	}
	want := map[string]*time.Time{"pending": new(time.Date(2026, 1, 2, 3, 19, 5, 0, time.UTC)), "ready": nil, "import": nil}
	for title, w := range want {
		var got *time.Time
		if err := sqlDB.QueryRowContext(t.Context(), `SELECT upload_expires_at FROM videos WHERE id = $1`, ids[title]).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (w == nil) || got != nil && !got.Equal(*w) {
			t.Errorf("%s: upload_expires_at %v, want %v", title, got, w)
		}
	}
}

// migratedProvider migrates a fresh test database up and returns a
// database/sql handle on it (closed at cleanup) and a goose provider, to
// migrate it down and up again.
func migratedProvider(t *testing.T) (url string, sqlDB *sql.DB, provider *goose.Provider) {
	t.Helper()
	url = testenv.Postgres(t)
	if _, err := Migrate(t.Context(), url, testLogger(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	cfg, err := parseConfig(url)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	sqlDB = stdlib.OpenDB(*cfg.ConnConfig)
	t.Cleanup(func() { sqlDB.Close() })
	provider, err = newProvider(sqlDB, testLogger(t))
	if err != nil {
		t.Fatalf("newProvider: %v", err)
	}
	return url, sqlDB, provider
}
