package postgres

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// fixture is a small, valid object graph that constraint tests build on.
type fixture struct {
	email      string // email of user
	user       string // user id
	otherUser  string // a second user's id
	video      string // an uploaded video of user
	otherVideo string // an imported video of otherUser
	clip       string // a clip of video
	session    string // a session of user
	account    string // a social account of user
	handle     string // handle of account
}

// randomBytes returns n random bytes; 32 is the size of a SHA-256 token hash.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// seed inserts a fixture through tx and returns it.
func seed(t *testing.T, tx pgx.Tx) fixture {
	t.Helper()
	f := fixture{email: "ann@example.com", handle: "@ann"}
	row := func(dest *string, sql string, args ...any) {
		t.Helper()
		if err := tx.QueryRow(t.Context(), sql, args...).Scan(dest); err != nil {
			t.Fatalf("seed: %s: %v", sql, err)
		}
	}
	row(&f.user, `INSERT INTO users (email, password_hash, name) VALUES ($1, '$2a$04$x', 'Ann') RETURNING id`, f.email)
	row(&f.otherUser, `INSERT INTO users (email) VALUES ('bob@example.com') RETURNING id`)
	row(&f.video, `INSERT INTO videos (user_id, source, status) VALUES ($1, 'upload', 'ready') RETURNING id`, f.user)
	row(&f.otherVideo, `INSERT INTO videos (user_id, source, source_url, status)
		VALUES ($1, 'url', 'https://example.com/v.mp4', 'queued') RETURNING id`, f.otherUser)
	row(&f.clip, `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, 1.5, 10) RETURNING id`, f.video, f.user)
	row(&f.session, `INSERT INTO sessions (user_id, idle_expires_at, absolute_expires_at)
		VALUES ($1, now() + interval '1 day', now() + interval '30 days') RETURNING id`, f.user)
	row(&f.account, `INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
		VALUES ($1, 'youtube', $2, $2, $3, 'key-1') RETURNING id`, f.user, f.handle, randomBytes(60))
	return f
}

func TestConstraints(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	hash := randomBytes(32)
	tests := []struct {
		name           string
		sql            string
		args           func(f fixture) []any // nil: no arguments
		wantCode       string                // "" means the statement must succeed
		wantConstraint string
	}{
		// users
		{"duplicate email", `INSERT INTO users (email) VALUES ($1)`,
			func(f fixture) []any { return []any{f.email} }, codeUniqueViolation, "users_email_key"},
		{"upper-case email", `INSERT INTO users (email) VALUES ('Carl@Example.com')`,
			nil, codeCheckViolation, "users_email_normalized_check"},
		{"email with surrounding spaces", `INSERT INTO users (email) VALUES (' carl@example.com')`,
			nil, codeCheckViolation, "users_email_normalized_check"},
		{"email without at sign", `INSERT INTO users (email) VALUES ('carl')`,
			nil, codeCheckViolation, "users_email_format_check"},
		{"empty password hash", `INSERT INTO users (email, password_hash) VALUES ('carl@example.com', '')`,
			nil, codeCheckViolation, "users_password_hash_check"},
		{"oauth-only user without password", `INSERT INTO users (email) VALUES ('carl@example.com')`,
			nil, "", ""},

		// user_identities
		{"same provider subject linked twice", `INSERT INTO user_identities (user_id, provider, subject)
			VALUES ($1, 'google', '42'), ($2, 'google', '42')`,
			func(f fixture) []any { return []any{f.user, f.otherUser} }, codeUniqueViolation, "user_identities_provider_subject_key"},
		{"identity provider not lower case", `INSERT INTO user_identities (user_id, provider, subject) VALUES ($1, 'Google', '42')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "user_identities_provider_check"},

		// sessions and refresh_tokens
		{"revoked session without reason", `UPDATE sessions SET revoked_at = now() WHERE id = $1`,
			func(f fixture) []any { return []any{f.session} }, codeCheckViolation, "sessions_revoked_check"},
		{"unknown revocation reason", `UPDATE sessions SET revoked_at = now(), revoked_reason = 'bored' WHERE id = $1`,
			func(f fixture) []any { return []any{f.session} }, codeCheckViolation, "sessions_revoked_reason_check"},
		{"session expiring before it starts", `INSERT INTO sessions (user_id, idle_expires_at, absolute_expires_at)
			VALUES ($1, now() - interval '1 second', now() + interval '1 day')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "sessions_expiry_check"},
		{"two current refresh tokens for one session", `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $3), ($2, $3)`,
			func(f fixture) []any { return []any{randomBytes(32), randomBytes(32), f.session} },
			codeUniqueViolation, "refresh_tokens_one_current_per_session"},
		{"raw refresh token instead of its hash", `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`,
			func(f fixture) []any { return []any{[]byte(rand.Text()), f.session} }, codeCheckViolation, "refresh_tokens_token_hash_check"},
		{"rotated refresh token without successor", `INSERT INTO refresh_tokens (token_hash, session_id, rotated_at) VALUES ($1, $2, now())`,
			func(f fixture) []any { return []any{randomBytes(32), f.session} }, codeCheckViolation, "refresh_tokens_rotation_check"},
		{"refresh token of unknown session", `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, gen_random_uuid())`,
			func(f fixture) []any { return []any{randomBytes(32)} }, codeForeignKeyViolation, "refresh_tokens_session_id_fkey"},

		// auth_tokens
		{"auth token of unknown purpose", `INSERT INTO auth_tokens (token_hash, purpose, user_id, email, expires_at)
			VALUES ($1, 'login', $2, $3, now() + interval '1 hour')`,
			func(f fixture) []any { return []any{randomBytes(32), f.user, f.email} }, codeCheckViolation, "auth_tokens_purpose_check"},
		{"auth token expiring when created", `INSERT INTO auth_tokens (token_hash, purpose, user_id, email, created_at, expires_at)
			VALUES ($1, 'password_reset', $2, $3, now(), now())`,
			func(f fixture) []any { return []any{randomBytes(32), f.user, f.email} }, codeCheckViolation, "auth_tokens_expiry_check"},
		{"auth token hash reused", `INSERT INTO auth_tokens (token_hash, purpose, user_id, email, expires_at)
			VALUES ($1, 'password_reset', $2, $3, now() + interval '1 hour'), ($1, 'email_verification', $2, $3, now() + interval '1 hour')`,
			func(f fixture) []any { return []any{hash, f.user, f.email} }, codeUniqueViolation, "auth_tokens_token_hash_key"},
		{"auth token sent to a non-normalised address", `INSERT INTO auth_tokens (token_hash, purpose, user_id, email, expires_at)
			VALUES ($1, 'email_verification', $2, 'Ann@example.com', now() + interval '1 hour')`,
			func(f fixture) []any { return []any{randomBytes(32), f.user} }, codeCheckViolation, "auth_tokens_email_check"},

		// auth_events
		{"auth event with unknown outcome", `INSERT INTO auth_events (event, outcome) VALUES ('login', 'maybe')`,
			nil, codeCheckViolation, "auth_events_outcome_check"},
		{"auth event detail not an object", `INSERT INTO auth_events (event, outcome, detail) VALUES ('login', 'failure', '[]')`,
			nil, codeCheckViolation, "auth_events_detail_check"},
		{"failed login for an unknown email", `INSERT INTO auth_events (event, outcome, ip, detail)
			VALUES ('login', 'failure', '203.0.113.9', '{"email": "nobody@example.com"}')`, nil, "", ""},

		// videos
		{"bad video status", `INSERT INTO videos (user_id, source, status) VALUES ($1, 'upload', 'done')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "videos_status_check"},
		{"url video without source_url", `INSERT INTO videos (user_id, source, status) VALUES ($1, 'url', 'queued')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "videos_source_url_check"},
		{"upload video with a source_url", `INSERT INTO videos (user_id, source, source_url, status)
			VALUES ($1, 'upload', 'https://example.com/a.mp4', 'pending_upload')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "videos_source_url_check"},
		{"unknown video source", `INSERT INTO videos (user_id, source, status) VALUES ($1, 'ftp', 'queued')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "videos_source_check"},
		{"failed video without error", `UPDATE videos SET status = 'failed' WHERE id = $1`,
			func(f fixture) []any { return []any{f.video} }, codeCheckViolation, "videos_failed_error_check"},
		{"negative video size", `UPDATE videos SET size_bytes = -1 WHERE id = $1`,
			func(f fixture) []any { return []any{f.video} }, codeCheckViolation, "videos_size_bytes_check"},
		{"zero video width", `UPDATE videos SET width = 0, height = 720 WHERE id = $1`,
			func(f fixture) []any { return []any{f.video} }, codeCheckViolation, "videos_dimensions_check"},
		{"NaN video duration", `UPDATE videos SET duration_seconds = 'NaN' WHERE id = $1`,
			func(f fixture) []any { return []any{f.video} }, codeCheckViolation, "videos_duration_check"},
		{"video of unknown user", `INSERT INTO videos (user_id, source, status) VALUES (gen_random_uuid(), 'upload', 'pending_upload')`,
			nil, codeForeignKeyViolation, "videos_user_id_fkey"},
		{"url video", `INSERT INTO videos (user_id, source, source_url, status) VALUES ($1, 'url', 'https://example.com/a', 'queued')`,
			func(f fixture) []any { return []any{f.user} }, "", ""},

		// clips
		{"clip with end equal to start", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, 5, 5)`,
			func(f fixture) []any { return []any{f.video, f.user} }, codeCheckViolation, "clips_range_check"},
		{"clip with end before start", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, 5, 4.9)`,
			func(f fixture) []any { return []any{f.video, f.user} }, codeCheckViolation, "clips_range_check"},
		{"clip starting before zero", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, -1, 4)`,
			func(f fixture) []any { return []any{f.video, f.user} }, codeCheckViolation, "clips_range_check"},
		{"clip ending at infinity", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, 0, 'Infinity')`,
			func(f fixture) []any { return []any{f.video, f.user} }, codeCheckViolation, "clips_range_check"},
		{"clip with a video-only status", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds, status)
			VALUES ($1, $2, 0, 1, 'pending_upload')`,
			func(f fixture) []any { return []any{f.video, f.user} }, codeCheckViolation, "clips_status_check"},
		{"clip of another user's video", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, 0, 1)`,
			func(f fixture) []any { return []any{f.otherVideo, f.user} }, codeForeignKeyViolation, "clips_video_fkey"},
		{"clip from the first frame", `INSERT INTO clips (video_id, user_id, start_seconds, end_seconds) VALUES ($1, $2, 0, 0.04)`,
			func(f fixture) []any { return []any{f.video, f.user} }, "", ""},

		// file_storage
		{"blob with two owners", `INSERT INTO file_storage (user_id, video_id, clip_id, kind, container, blob_name)
			VALUES ($1, $2, $3, 'thumbnail', 'videos', 'a/thumb')`,
			func(f fixture) []any { return []any{f.user, f.video, f.clip} }, codeCheckViolation, "file_storage_owner_check"},
		{"blob without owner", `INSERT INTO file_storage (user_id, kind, container, blob_name) VALUES ($1, 'thumbnail', 'videos', 'a/thumb')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "file_storage_owner_check"},
		{"blob of unknown kind", `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name) VALUES ($1, $2, 'poster', 'videos', 'a/p')`,
			func(f fixture) []any { return []any{f.user, f.video} }, codeCheckViolation, "file_storage_kind_check"},
		{"clip blob owned by a video", `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name) VALUES ($1, $2, 'clip', 'videos', 'a/c')`,
			func(f fixture) []any { return []any{f.user, f.video} }, codeCheckViolation, "file_storage_kind_owner_check"},
		{"same blob recorded twice", `INSERT INTO file_storage (user_id, video_id, clip_id, kind, container, blob_name)
			VALUES ($1, $2, NULL, 'source', 'videos', 'a/source'), ($1, NULL, $3, 'clip', 'videos', 'a/source')`,
			func(f fixture) []any { return []any{f.user, f.video, f.clip} }, codeUniqueViolation, "file_storage_container_blob_key"},
		{"second source blob of a video", `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name)
			VALUES ($1, $2, 'source', 'videos', 'a/1'), ($1, $2, 'source', 'videos', 'a/2')`,
			func(f fixture) []any { return []any{f.user, f.video} }, codeUniqueViolation, "file_storage_video_kind_key"},
		{"blob of another user's video", `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name) VALUES ($1, $2, 'source', 'videos', 'b/s')`,
			func(f fixture) []any { return []any{f.user, f.otherVideo} }, codeForeignKeyViolation, "file_storage_video_fkey"},
		{"invalid container name", `INSERT INTO file_storage (user_id, video_id, kind, container, blob_name) VALUES ($1, $2, 'source', 'Videos', 'a/s')`,
			func(f fixture) []any { return []any{f.user, f.video} }, codeCheckViolation, "file_storage_container_check"},
		{"source blob and clip thumbnail", `INSERT INTO file_storage (user_id, video_id, clip_id, kind, container, blob_name, size_bytes)
			VALUES ($1, $2, NULL, 'source', 'videos', 'a/source', 1024), ($1, NULL, $3, 'thumbnail', 'videos', 'a/clip/thumb', 10)`,
			func(f fixture) []any { return []any{f.user, f.video, f.clip} }, "", ""},

		// social_accounts
		{"unknown platform", `INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
			VALUES ($1, 'myspace', '@ann', 'UCann', $2, 'key-1')`,
			func(f fixture) []any { return []any{f.user, randomBytes(60)} }, codeCheckViolation, "social_accounts_platform_check"},
		{"same account connected twice", `INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
			VALUES ($1, 'youtube', 'another handle', $2, $3, 'key-1')`,
			func(f fixture) []any { return []any{f.user, f.handle, randomBytes(60)} }, codeUniqueViolation, "social_accounts_user_platform_external_id_key"},
		{"token too short to be AES-GCM ciphertext", `INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
			VALUES ($1, 'tiktok', '@ann', 'ann', 'ya29.token', 'key-1')`,
			func(f fixture) []any { return []any{f.user} }, codeCheckViolation, "social_accounts_access_token_ciphertext_check"},
		{"account without access token", `INSERT INTO social_accounts (user_id, platform, handle, external_id, token_key_id) VALUES ($1, 'x', '@ann', 'ann', 'key-1')`,
			func(f fixture) []any { return []any{f.user} }, codeNotNullViolation, ""},

		// posts
		{"bad post status", `INSERT INTO posts (user_id, clip_id, social_account_id, scheduled_at, status) VALUES ($1, $2, $3, now(), 'sent')`,
			func(f fixture) []any { return []any{f.user, f.clip, f.account} }, codeCheckViolation, "posts_status_check"},
		{"published post without publication time", `INSERT INTO posts (user_id, clip_id, social_account_id, scheduled_at, status)
			VALUES ($1, $2, $3, now(), 'published')`,
			func(f fixture) []any { return []any{f.user, f.clip, f.account} }, codeCheckViolation, "posts_published_check"},
		{"post to another user's account", `WITH a AS (
				INSERT INTO social_accounts (user_id, platform, handle, external_id, access_token_ciphertext, token_key_id)
				VALUES ($1, 'x', '@bob', 'bob', $4, 'key-1') RETURNING id)
			INSERT INTO posts (user_id, clip_id, social_account_id, scheduled_at) SELECT $2, $3, a.id, now() FROM a`,
			func(f fixture) []any { return []any{f.otherUser, f.user, f.clip, randomBytes(60)} }, codeForeignKeyViolation, "posts_social_account_fkey"},
		{"scheduled post", `INSERT INTO posts (user_id, clip_id, social_account_id, caption, scheduled_at)
			VALUES ($1, $2, $3, 'hello', now() + interval '1 hour')`,
			func(f fixture) []any { return []any{f.user, f.clip, f.account} }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := db.Pool().Begin(t.Context())
			if err != nil {
				t.Fatalf("begin: %v", err)
			}
			defer tx.Rollback(context.WithoutCancel(t.Context()))
			f := seed(t, tx)
			var args []any
			if tt.args != nil {
				args = tt.args(f)
			}

			_, err = tx.Exec(t.Context(), tt.sql, args...)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("got error %v, want success", err)
				}
				return
			}
			gotCode, gotConstraint := pgError(err)
			if gotCode != tt.wantCode || gotConstraint != tt.wantConstraint {
				t.Errorf("got code %q constraint %q (err %v), want code %q constraint %q",
					gotCode, gotConstraint, err, tt.wantCode, tt.wantConstraint)
			}
			constraint, ok := IsUniqueViolation(err)
			if wantOK := tt.wantCode == codeUniqueViolation; ok != wantOK || (ok && constraint != tt.wantConstraint) {
				t.Errorf("IsUniqueViolation: got (%q, %v), want (%q, %v)", constraint, ok, tt.wantConstraint, wantOK)
			}
		})
	}
}

// TestRefreshTokenRotation walks a session through two rotations the way the
// auth package does, and checks that the schema lets it detect reuse of any
// earlier token.
func TestRefreshTokenRotation(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := t.Context()
	pool := db.Pool()

	var session string
	err := pool.QueryRow(ctx, `
		WITH u AS (INSERT INTO users (email) VALUES ('ann@example.com') RETURNING id)
		INSERT INTO sessions (user_id, idle_expires_at, absolute_expires_at)
		SELECT id, now() + interval '1 day', now() + interval '30 days' FROM u RETURNING id`).Scan(&session)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	first, second, third := randomBytes(32), randomBytes(32), randomBytes(32)
	if _, err := pool.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, first, session); err != nil {
		t.Fatalf("insert first token: %v", err)
	}

	// rotate retires old (only if it is still current) and inserts next, in one transaction.
	rotate := func(old, next []byte) (rotated bool, err error) {
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = now(), replaced_by = $2
				WHERE token_hash = $1 AND rotated_at IS NULL`, old, next)
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
			rotated = true
			_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, next, session)
			return err
		})
		return rotated, err
	}
	for i, step := range []struct{ old, next []byte }{{first, second}, {second, third}} {
		rotated, err := rotate(step.old, step.next)
		if err != nil || !rotated {
			t.Fatalf("rotation %d: got (%v, %v), want (true, nil)", i+1, rotated, err)
		}
	}
	// Presenting the first token again must not rotate anything...
	if rotated, err := rotate(first, randomBytes(32)); err != nil || rotated {
		t.Fatalf("rotating a retired token: got (%v, %v), want (false, nil)", rotated, err)
	}
	// ...and is recognisable as reuse, with the time it was retired for the grace window.
	var rotatedAt *time.Time
	var gotSession string
	err = pool.QueryRow(ctx, `SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1`, first).Scan(&gotSession, &rotatedAt)
	if err != nil {
		t.Fatalf("look up first token: %v", err)
	}
	if gotSession != session || rotatedAt == nil {
		t.Errorf("first token: got session %s rotated_at %v, want session %s and a rotation time", gotSession, rotatedAt, session)
	}
	var current []byte
	if err := pool.QueryRow(ctx, `SELECT token_hash FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL`, session).Scan(&current); err != nil {
		t.Fatalf("current token: %v", err)
	}
	if string(current) != string(third) {
		t.Errorf("current token is not the last one issued")
	}

	// Naming a successor that is never inserted fails the deferred foreign key at commit.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = now(), replaced_by = $2
			WHERE token_hash = $1`, third, randomBytes(32))
		return err
	})
	if code, constraint := pgError(err); code != codeForeignKeyViolation || constraint != "refresh_tokens_replaced_by_fkey" {
		t.Errorf("dangling replaced_by: got code %q constraint %q (err %v), want %q refresh_tokens_replaced_by_fkey",
			code, constraint, err, codeForeignKeyViolation)
	}
}

// TestDeleteUserCascades deletes a user that owns one row of every kind and
// checks what is left: nothing of theirs except the audit trail, detached.
func TestDeleteUserCascades(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := t.Context()
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	f := seed(t, tx)
	first, second := randomBytes(32), randomBytes(32)
	extra := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO user_identities (user_id, provider, subject, email, email_verified) VALUES ($1, 'google', '42', $2, true)`, []any{f.user, f.email}},
		{`INSERT INTO refresh_tokens (token_hash, session_id, rotated_at, replaced_by) VALUES ($1, $3, now(), $2), ($2, $3, NULL, NULL)`, []any{first, second, f.session}},
		{`INSERT INTO auth_tokens (token_hash, purpose, user_id, email, expires_at) VALUES ($1, 'email_verification', $2, $3, now() + interval '1 day')`, []any{randomBytes(32), f.user, f.email}},
		{`INSERT INTO auth_events (user_id, event, outcome, ip, user_agent) VALUES ($1, 'login', 'success', '198.51.100.7', 'test')`, []any{f.user}},
		{`INSERT INTO file_storage (user_id, video_id, kind, container, blob_name) VALUES ($1, $2, 'source', 'videos', 'ann/source')`, []any{f.user, f.video}},
		{`INSERT INTO file_storage (user_id, clip_id, kind, container, blob_name) VALUES ($1, $2, 'clip', 'videos', 'ann/clip')`, []any{f.user, f.clip}},
		{`INSERT INTO posts (user_id, clip_id, social_account_id, scheduled_at) VALUES ($1, $2, $3, now())`, []any{f.user, f.clip, f.account}},
	}
	for _, e := range extra {
		if _, err := tx.Exec(ctx, e.sql, e.args...); err != nil {
			t.Fatalf("seed: %s: %v", e.sql, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}

	if _, err := db.Pool().Exec(ctx, `DELETE FROM users WHERE id = $1`, f.user); err != nil {
		t.Fatalf("delete user: %v", err)
	}

	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"users left", `SELECT count(*) FROM users`, 1}, // the other user
		{"videos left", `SELECT count(*) FROM videos WHERE user_id <> '` + f.otherUser + `'`, 0},
		{"other user's video kept", `SELECT count(*) FROM videos WHERE user_id = '` + f.otherUser + `'`, 1},
		{"clips left", `SELECT count(*) FROM clips`, 0},
		{"sessions left", `SELECT count(*) FROM sessions`, 0},
		{"refresh tokens left", `SELECT count(*) FROM refresh_tokens`, 0},
		{"identities left", `SELECT count(*) FROM user_identities`, 0},
		{"auth tokens left", `SELECT count(*) FROM auth_tokens`, 0},
		{"file storage rows left", `SELECT count(*) FROM file_storage`, 0},
		{"social accounts left", `SELECT count(*) FROM social_accounts`, 0},
		{"posts left", `SELECT count(*) FROM posts`, 0},
		{"auth events kept, detached", `SELECT count(*) FROM auth_events WHERE user_id IS NULL AND event = 'login'`, 1},
		{"auth events still attached", `SELECT count(*) FROM auth_events WHERE user_id IS NOT NULL`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			if err := db.Pool().QueryRow(ctx, tt.query).Scan(&got); err != nil {
				t.Fatalf("count: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestUpdatedAtTrigger checks that updates stamp updated_at, and that an
// update which sets updated_at itself keeps the value it wrote.
func TestUpdatedAtTrigger(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	ctx := t.Context()
	pool := db.Pool()

	var id string
	var created, updated time.Time
	err := pool.QueryRow(ctx, `INSERT INTO users (email) VALUES ('ann@example.com') RETURNING id, created_at, updated_at`).Scan(&id, &created, &updated)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	// now() is the transaction's start time: a later transaction sees a later one.
	var gotCreated, gotUpdated time.Time
	err = pool.QueryRow(ctx, `UPDATE users SET name = 'Ann' WHERE id = $1 RETURNING created_at, updated_at`, id).Scan(&gotCreated, &gotUpdated)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !gotCreated.Equal(created) {
		t.Errorf("created_at: got %v, want unchanged %v", gotCreated, created)
	}
	if !gotUpdated.After(updated) {
		t.Errorf("updated_at: got %v, want after %v", gotUpdated, updated)
	}

	backdated := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	err = pool.QueryRow(ctx, `UPDATE users SET updated_at = $2 WHERE id = $1 RETURNING updated_at`, id, backdated).Scan(&gotUpdated)
	if err != nil {
		t.Fatalf("backdate: %v", err)
	}
	if !gotUpdated.Equal(backdated) {
		t.Errorf("explicit updated_at: got %v, want %v", gotUpdated, backdated)
	}
}
