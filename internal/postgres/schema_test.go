package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// wantSchema lists every table, constraint, index and trigger the migrations
// create in schema public, one "table kind name" per line. Keep it in step
// with the migrations: the test fails on anything missing and on anything
// unlisted, so that no object appears without a reviewer noticing.
var wantSchema = strings.Fields(`
users table users
users primary_key users_pkey
users unique users_email_key
users check users_email_normalized_check
users check users_email_format_check
users check users_password_hash_check
users check users_name_check
users trigger users_set_updated_at

user_identities table user_identities
user_identities primary_key user_identities_pkey
user_identities foreign_key user_identities_user_id_fkey
user_identities unique user_identities_provider_subject_key
user_identities check user_identities_provider_check
user_identities check user_identities_subject_check
user_identities index user_identities_user_id_idx

sessions table sessions
sessions primary_key sessions_pkey
sessions foreign_key sessions_user_id_fkey
sessions check sessions_expiry_check
sessions check sessions_revoked_check
sessions check sessions_revoked_reason_check
sessions index sessions_user_id_idx
sessions index sessions_absolute_expires_at_idx
sessions index sessions_idle_expires_at_idx
sessions index sessions_revoked_at_idx

refresh_tokens table refresh_tokens
refresh_tokens primary_key refresh_tokens_pkey
refresh_tokens foreign_key refresh_tokens_session_id_fkey
refresh_tokens foreign_key refresh_tokens_replaced_by_fkey
refresh_tokens check refresh_tokens_token_hash_check
refresh_tokens check refresh_tokens_rotation_check
refresh_tokens unique_index refresh_tokens_one_current_per_session
refresh_tokens index refresh_tokens_session_id_idx

auth_tokens table auth_tokens
auth_tokens primary_key auth_tokens_pkey
auth_tokens foreign_key auth_tokens_user_id_fkey
auth_tokens unique auth_tokens_token_hash_key
auth_tokens check auth_tokens_token_hash_check
auth_tokens check auth_tokens_purpose_check
auth_tokens check auth_tokens_email_check
auth_tokens check auth_tokens_expiry_check
auth_tokens index auth_tokens_user_purpose_idx
auth_tokens index auth_tokens_expires_at_idx

auth_events table auth_events
auth_events primary_key auth_events_pkey
auth_events foreign_key auth_events_user_id_fkey
auth_events check auth_events_event_check
auth_events check auth_events_outcome_check
auth_events check auth_events_detail_check
auth_events index auth_events_user_created_idx
auth_events index auth_events_created_at_idx

videos table videos
videos primary_key videos_pkey
videos foreign_key videos_user_id_fkey
videos unique videos_id_user_key
videos check videos_source_check
videos check videos_source_url_check
videos check videos_source_url_length_check
videos check videos_status_check
videos check videos_failed_error_check
videos check videos_title_check
videos check videos_size_bytes_check
videos check videos_duration_check
videos check videos_dimensions_check
videos check videos_import_attempt_check
videos check videos_processing_status_check
videos check videos_processing_failed_check
videos check videos_processing_error_check
videos check videos_processing_clock_check
videos check videos_processing_attempt_check
videos check videos_frame_rate_check
videos check videos_codec_check
videos check videos_bit_rate_check
videos index videos_processing_idx
videos index videos_user_created_idx
videos index videos_status_updated_idx
videos index videos_active_imports_idx
videos index videos_import_blob_cleanup_idx
videos trigger videos_set_updated_at

clips table clips
clips primary_key clips_pkey
clips foreign_key clips_user_id_fkey
clips foreign_key clips_video_fkey
clips unique clips_id_user_key
clips check clips_range_check
clips check clips_status_check
clips check clips_failed_error_check
clips check clips_title_check
clips check clips_duration_check
clips check clips_aspect_check
clips check clips_attempt_check
clips check clips_dimensions_check
clips check clips_size_bytes_check
clips check clips_blob_name_check
clips index clips_user_in_flight_idx
clips index clips_video_created_idx
clips index clips_user_id_idx
clips index clips_status_updated_idx
clips trigger clips_set_updated_at

file_storage table file_storage
file_storage primary_key file_storage_pkey
file_storage foreign_key file_storage_user_id_fkey
file_storage foreign_key file_storage_video_fkey
file_storage foreign_key file_storage_clip_fkey
file_storage unique file_storage_container_blob_key
file_storage check file_storage_owner_check
file_storage check file_storage_kind_check
file_storage check file_storage_kind_owner_check
file_storage check file_storage_container_check
file_storage check file_storage_blob_name_check
file_storage check file_storage_size_bytes_check
file_storage check file_storage_snapshot_check
file_storage check file_storage_settle_check
file_storage index file_storage_settle_idx
file_storage unique_index file_storage_video_kind_key
file_storage unique_index file_storage_clip_kind_key
file_storage index file_storage_user_id_idx
file_storage trigger file_storage_set_updated_at

social_accounts table social_accounts
social_accounts primary_key social_accounts_pkey
social_accounts foreign_key social_accounts_user_id_fkey
social_accounts unique social_accounts_id_user_key
social_accounts unique social_accounts_user_platform_external_id_key
social_accounts check social_accounts_platform_check
social_accounts check social_accounts_handle_check
social_accounts check social_accounts_access_token_ciphertext_check
social_accounts check social_accounts_refresh_token_ciphertext_check
social_accounts check social_accounts_token_key_id_check
social_accounts trigger social_accounts_set_updated_at
social_accounts check social_accounts_status_check
social_accounts check social_accounts_external_id_check
social_accounts check social_accounts_display_name_check
social_accounts check social_accounts_avatar_url_check
social_oauth_states table social_oauth_states
social_oauth_states primary_key social_oauth_states_pkey
social_oauth_states foreign_key social_oauth_states_user_id_fkey
social_oauth_states check social_oauth_states_state_hash_check
social_oauth_states check social_oauth_states_verifier_ciphertext_check
social_oauth_states check social_oauth_states_verifier_key_id_check
social_oauth_states index social_oauth_states_expires_at_idx

posts table posts
posts primary_key posts_pkey
posts foreign_key posts_user_id_fkey
posts foreign_key posts_clip_fkey
posts foreign_key posts_social_account_fkey
posts unique posts_social_account_external_id_key
posts check posts_status_check
posts check posts_published_check
posts check posts_failed_error_check
posts check posts_caption_check
posts foreign_key posts_video_fkey
posts check posts_target_check
posts check posts_title_check
posts check posts_privacy_check
posts check posts_attempt_check
posts check posts_upload_offset_check
posts check posts_upload_url_check
posts check posts_external_url_check
posts check posts_publishing_lease_check
posts check posts_upload_url_ciphertext_check
posts check posts_upload_url_key_id_check
posts check posts_upload_url_sealed_check
posts index posts_due_idx
posts index posts_user_created_idx
posts index posts_clip_id_idx
posts index posts_video_id_idx
posts index posts_publishing_lease_idx
posts index posts_upload_url_key_id_idx
posts trigger posts_set_updated_at

queue_messages table queue_messages
queue_messages primary_key queue_messages_pkey
queue_messages unique queue_messages_queue_message_id_key
queue_messages check queue_messages_queue_check
queue_messages check queue_messages_message_id_check
queue_messages check queue_messages_body_check
queue_messages check queue_messages_delivery_count_check
queue_messages check queue_messages_settled_check
queue_messages check queue_messages_dead_letter_error_check
queue_messages check queue_messages_traceparent_check
queue_messages index queue_messages_claim_idx
queue_messages index queue_messages_completed_at_idx

mail_outbox table mail_outbox
mail_outbox primary_key mail_outbox_pkey
mail_outbox foreign_key mail_outbox_user_id_fkey
mail_outbox check mail_outbox_kind_check
mail_outbox check mail_outbox_email_check
mail_outbox check mail_outbox_user_agent_check
mail_outbox check mail_outbox_state_check
mail_outbox check mail_outbox_attempts_check
mail_outbox check mail_outbox_last_error_check
mail_outbox check mail_outbox_finished_check
mail_outbox index mail_outbox_pending_idx
mail_outbox index mail_outbox_finished_at_idx
mail_outbox index mail_outbox_user_id_idx
`)

// schemaObjectsQuery lists the same "table kind name" triples from the
// catalog. NOT NULL constraints (catalogued from PostgreSQL 18 on) are left
// out: they are part of the column definitions.
const schemaObjectsQuery = `
WITH tables AS (
    SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'goose_db_version'
)
SELECT t.relname, 'table', t.relname FROM tables t
UNION ALL
SELECT t.relname,
       CASE c.contype WHEN 'p' THEN 'primary_key' WHEN 'u' THEN 'unique' WHEN 'f' THEN 'foreign_key'
                      WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' ELSE 'constraint_' || c.contype::text END,
       c.conname
FROM pg_constraint c JOIN tables t ON t.oid = c.conrelid
WHERE c.contype <> 'n'
UNION ALL
SELECT t.relname, CASE WHEN x.indisunique THEN 'unique_index' ELSE 'index' END, i.relname
FROM pg_index x JOIN tables t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
WHERE NOT EXISTS (  -- indexes that implement a constraint are listed as that constraint
    SELECT 1 FROM pg_constraint c
    WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')
)
UNION ALL
SELECT t.relname, 'trigger', g.tgname FROM pg_trigger g JOIN tables t ON t.oid = g.tgrelid
WHERE NOT g.tgisinternal`

func TestSchemaObjects(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)

	if len(wantSchema)%3 != 0 {
		t.Fatalf("wantSchema has %d words, want triples", len(wantSchema))
	}
	want := map[string]bool{}
	for i := 0; i < len(wantSchema); i += 3 {
		want[strings.Join(wantSchema[i:i+3], " ")] = true
	}

	rows, err := db.Pool().Query(t.Context(), schemaObjectsQuery)
	if err != nil {
		t.Fatalf("list schema objects: %v", err)
	}
	got := map[string]bool{}
	var table, kind, name string
	_, err = pgx.ForEachRow(rows, []any{&table, &kind, &name}, func() error {
		got[table+" "+kind+" "+name] = true
		return nil
	})
	if err != nil {
		t.Fatalf("list schema objects: %v", err)
	}

	var missing, unexpected []string
	for obj := range want {
		if !got[obj] {
			missing = append(missing, obj)
		}
	}
	for obj := range got {
		if !want[obj] {
			unexpected = append(unexpected, obj)
		}
	}
	slices.Sort(missing)
	slices.Sort(unexpected)
	for _, obj := range missing {
		t.Errorf("missing from the database: %s", obj)
	}
	for _, obj := range unexpected {
		t.Errorf("in the database but not in wantSchema: %s", obj)
	}
}

// TestSchemaColumnTypes checks the conventions every table follows: UUID
// keys generated by the database and timestamptz for every point in time.
func TestSchemaColumnTypes(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	rows, err := db.Pool().Query(t.Context(), `
		SELECT table_name, column_name, data_type, coalesce(column_default, '')
		FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version'
		  AND (column_name = 'id' OR column_name LIKE '%\_id' OR column_name LIKE '%\_at')`)
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
	var table, column, dataType, def string
	_, err = pgx.ForEachRow(rows, []any{&table, &column, &dataType, &def}, func() error {
		switch {
		case column == "id":
			if dataType != "uuid" || def != "gen_random_uuid()" {
				t.Errorf("%s.id: got %s default %q, want uuid default gen_random_uuid()", table, dataType, def)
			}
		case strings.HasSuffix(column, "_at"):
			if dataType != "timestamp with time zone" {
				t.Errorf("%s.%s: got %s, want timestamptz", table, column, dataType)
			}
		case column == "token_key_id" || column == "verifier_key_id" || column == "upload_url_key_id" ||
			column == "external_id" || column == "message_id":
			// Not references: an encryption key name, a platform's id and a queue MessageId.
		default:
			if dataType != "uuid" {
				t.Errorf("%s.%s: got %s, want uuid", table, column, dataType)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
}

// TestQueryPathsUseIndexes plans the queries the issues imply and checks that
// each is answered by the index meant for it. Sequential scans are disabled
// because the tables are empty, which would otherwise make them the cheapest.
func TestQueryPathsUseIndexes(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	const id = `'00000000-0000-4000-8000-000000000000'::uuid`
	const hash = `'\x0000000000000000000000000000000000000000000000000000000000000000'::bytea`
	tests := []struct {
		name      string
		query     string
		wantIndex string
	}{
		{"user by email", `SELECT * FROM users WHERE email = 'a@example.com'`, "users_email_key"},
		{"identity by provider subject", `SELECT * FROM user_identities WHERE provider = 'google' AND subject = '123'`, "user_identities_provider_subject_key"},
		{"live sessions of a user", `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout_all' WHERE user_id = ` + id + ` AND revoked_at IS NULL`, "sessions_user_id_idx"},
		{"ended sessions: absolute lifetime", `DELETE FROM sessions WHERE absolute_expires_at < now() OR idle_expires_at < now() OR revoked_at < now()`, "sessions_absolute_expires_at_idx"},
		{"ended sessions: idle lifetime", `DELETE FROM sessions WHERE absolute_expires_at < now() OR idle_expires_at < now() OR revoked_at < now()`, "sessions_idle_expires_at_idx"},
		{"ended sessions: revoked", `DELETE FROM sessions WHERE absolute_expires_at < now() OR idle_expires_at < now() OR revoked_at < now()`, "sessions_revoked_at_idx"},
		{"refresh token by hash", `SELECT * FROM refresh_tokens WHERE token_hash = ` + hash, "refresh_tokens_pkey"},
		{"current refresh token of a session", `SELECT * FROM refresh_tokens WHERE session_id = ` + id + ` AND rotated_at IS NULL`, "refresh_tokens_one_current_per_session"},
		{"consume auth token", `UPDATE auth_tokens SET consumed_at = now() WHERE token_hash = ` + hash + ` AND purpose = 'password_reset' AND consumed_at IS NULL AND expires_at > now()`, "auth_tokens_token_hash_key"},
		{"outstanding auth tokens of a user", `UPDATE auth_tokens SET consumed_at = now() WHERE user_id = ` + id + ` AND purpose = 'email_verification' AND consumed_at IS NULL`, "auth_tokens_user_purpose_idx"},
		{"expired auth tokens", `DELETE FROM auth_tokens WHERE expires_at < now()`, "auth_tokens_expires_at_idx"},
		{"auth events of a user", `SELECT * FROM auth_events WHERE user_id = ` + id + ` ORDER BY created_at DESC LIMIT 50`, "auth_events_user_created_idx"},
		{"auth events retention", `DELETE FROM auth_events WHERE created_at < now() - interval '1 year'`, "auth_events_created_at_idx"},
		{"video page", `SELECT * FROM videos WHERE user_id = ` + id + ` AND (created_at, id) < (now(), ` + id + `) ORDER BY created_at DESC, id DESC LIMIT 20`, "videos_user_created_idx"},
		{"active imports of a user", `SELECT count(*) FROM videos WHERE user_id = ` + id + ` AND status IN ('queued', 'downloading')`, "videos_active_imports_idx"},
		{"stale pending uploads", `SELECT id FROM videos WHERE status = 'pending_upload' AND updated_at < now() - interval '30 minutes'`, "videos_status_updated_idx"},
		{"clips of a video", `SELECT * FROM clips WHERE video_id = ` + id + ` ORDER BY created_at`, "clips_video_created_idx"},
		{"stuck clips", `SELECT id FROM clips WHERE status = 'processing' AND updated_at < now() - interval '1 hour'`, "clips_status_updated_idx"},
		{"blobs of a video", `SELECT * FROM file_storage WHERE video_id = ` + id, "file_storage_video_kind_key"},
		{"blobs of a clip", `SELECT * FROM file_storage WHERE clip_id = ` + id, "file_storage_clip_kind_key"},
		{"storage quota", `SELECT sum(size_bytes) FROM file_storage WHERE user_id = ` + id, "file_storage_user_id_idx"},
		{"social accounts of a user", `SELECT * FROM social_accounts WHERE user_id = ` + id, "social_accounts_user_platform_external_id_key"},
		{"expired oauth states", `DELETE FROM social_oauth_states WHERE expires_at < now() - interval '1 hour'`, "social_oauth_states_expires_at_idx"},
		{"due posts", `SELECT id FROM posts WHERE status = 'scheduled' AND scheduled_at <= now() ORDER BY scheduled_at LIMIT 10 FOR UPDATE SKIP LOCKED`, "posts_due_idx"},
		{"post page", `SELECT * FROM posts WHERE user_id = ` + id + ` ORDER BY created_at DESC, id DESC LIMIT 20`, "posts_user_created_idx"},
		{"stuck posts", `SELECT id, status, attempt FROM posts WHERE status = 'publishing' AND lease_until < now() ORDER BY lease_until LIMIT 200`, "posts_publishing_lease_idx"},
		{"posts of a video", `SELECT id FROM posts WHERE video_id = ` + id, "posts_video_id_idx"},
		{"overdue mails", `SELECT id FROM mail_outbox WHERE state = 'pending' AND next_attempt_at < now() - interval '2 minutes' LIMIT 100`, "mail_outbox_pending_idx"},
		{"settled mails past retention", `DELETE FROM mail_outbox WHERE finished_at < now() - interval '7 days'`, "mail_outbox_finished_at_idx"},
		{"mails of a user", `DELETE FROM mail_outbox WHERE user_id = ` + id, "mail_outbox_user_id_idx"},
		{"posts of a clip", `SELECT id FROM posts WHERE clip_id = ` + id, "posts_clip_id_idx"},
		{"upload sessions to re-encrypt", `SELECT id, upload_url_key_id, upload_url_ciphertext FROM posts
			WHERE upload_url_key_id IS NOT NULL AND upload_url_key_id <> 'k1' AND NOT (id::text = ANY('{}'::text[]))
			ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`, "posts_upload_url_key_id_idx"},
	}
	conn, err := db.Pool().Acquire(t.Context())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(t.Context(), "SET enable_seqscan = off"); err != nil {
		t.Fatalf("disable seqscan: %v", err)
	}
	defer conn.Exec(context.WithoutCancel(t.Context()), "RESET enable_seqscan")

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := conn.Query(t.Context(), "EXPLAIN (COSTS OFF) "+tt.query)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			plan := strings.Join(lines, "\n")
			if !slices.Contains(strings.Fields(plan), tt.wantIndex) {
				t.Errorf("plan does not use %s:\n%s", tt.wantIndex, plan)
			}
		})
	}
}
