-- Initial schema of videofn.
--
-- Conventions used throughout:
--   * Keys are UUIDs from gen_random_uuid() (core since PostgreSQL 13, no extension needed), so ids can
--     be handed to clients and queue messages without revealing row counts or ordering.
--   * Every point in time is timestamptz.
--   * Every constraint and index is named, because application code and tests refer to them by name
--     (postgres.IsUniqueViolation returns the constraint name; the HTTP layer maps names to API errors).
--     Names follow <table>_<what>_{key,check,fkey,idx}.
--   * Vocabulary columns (status, source, kind, ...) are text with a CHECK list rather than enum types:
--     adding a value to a CHECK is a plain, transactional ALTER TABLE.
--   * Rows that belong to a user carry user_id even when it could be derived through a parent, so that
--     every "own rows only" query filters on one indexed column. Where a child also points at a parent,
--     a composite foreign key (parent_id, user_id) -> parent (id, user_id) makes it impossible to attach
--     a row to another user's parent, whatever the application code does.

-- +goose Up

-- set_updated_at keeps updated_at current on every UPDATE that changes the row. An UPDATE that sets
-- updated_at itself keeps the value it wrote (sweeper tests backdate rows this way).
-- +goose StatementBegin
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- ---------------------------------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE users (
    id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- Stored normalised (trimmed, lower case) so that a plain unique constraint is the case-insensitive
    -- uniqueness rule; the CHECK rejects any writer that forgot to normalise instead of silently
    -- allowing "A@x.io" next to "a@x.io".
    email               text        NOT NULL,
    -- bcrypt hash; NULL for accounts created through OAuth that never set a password.
    password_hash       text,
    name                text        NOT NULL DEFAULT '',
    email_verified_at   timestamptz,
    -- Sessions and access tokens issued before this instant are invalid (password change / reset).
    password_changed_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_normalized_check CHECK (email = lower(btrim(email))),
    CONSTRAINT users_email_format_check CHECK (char_length(email) <= 254 AND email LIKE '_%@_%'),
    CONSTRAINT users_password_hash_check CHECK (password_hash IS NULL OR password_hash <> ''),
    CONSTRAINT users_name_check CHECK (char_length(name) <= 200)
);

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- An external identity (Google sign-in) linked to a user. Login looks the user up by (provider, subject)
-- first; email and email_verified record what the provider asserted when the link was made, which is
-- what justified linking to an existing account.
CREATE TABLE user_identities (
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id        uuid        NOT NULL,
    provider       text        NOT NULL,
    subject        text        NOT NULL,
    email          text,
    email_verified boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_identities_pkey PRIMARY KEY (id),
    CONSTRAINT user_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_identities_provider_subject_key UNIQUE (provider, subject),
    -- A format rather than a closed list: adding a provider should not need a migration.
    CONSTRAINT user_identities_provider_check CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$'),
    CONSTRAINT user_identities_subject_check CHECK (subject <> '' AND char_length(subject) <= 255)
);

CREATE INDEX user_identities_user_id_idx ON user_identities (user_id);

-- A login session: one per sign-in on one device. The refresh token presented by the browser is not
-- stored here but in refresh_tokens, which keeps every token the session ever had.
-- A session is usable while revoked_at IS NULL AND now() < idle_expires_at AND now() < absolute_expires_at;
-- each refresh moves idle_expires_at forward (the application caps it at absolute_expires_at).
CREATE TABLE sessions (
    id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id             uuid        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz NOT NULL DEFAULT now(),
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    revoked_at          timestamptz,
    revoked_reason      text,
    ip                  inet,
    -- Not length-checked: it comes from the client, and a long header must not make login fail.
    -- The application truncates it.
    user_agent          text,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT sessions_expiry_check CHECK (idle_expires_at > created_at AND absolute_expires_at > created_at),
    -- A reason is recorded exactly when the session is revoked.
    CONSTRAINT sessions_revoked_check CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
    CONSTRAINT sessions_revoked_reason_check CHECK (revoked_reason IN (
        'logout', 'logout_all', 'password_change', 'password_reset', 'refresh_token_reuse', 'identity_linked', 'admin'
    ))
);

-- logout-all and password change/reset revoke the live sessions of one user.
CREATE INDEX sessions_user_id_idx ON sessions (user_id) INCLUDE (revoked_at);
-- The cleanup job deletes sessions that ended before a cutoff, however they ended (their refresh tokens go
-- with them): WHERE absolute_expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1, one index per arm.
CREATE INDEX sessions_absolute_expires_at_idx ON sessions (absolute_expires_at);
CREATE INDEX sessions_idle_expires_at_idx ON sessions (idle_expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token a session was ever given, stored as SHA-256 of the random token (never the token).
--   * rotated_at IS NULL marks the one current token of the session (at most one: partial unique index).
--   * Refreshing sets rotated_at and replaced_by on the presented token and inserts its successor, in
--     one transaction (update first, then insert: the unique index sees one current token at all times,
--     and the replaced_by foreign key is deferred to commit so it may name the row inserted next).
--   * Rows are kept until the session is deleted, so presenting ANY earlier token of the session is
--     recognised as reuse and revokes the session.
--   * rotated_at lets the application accept a token rotated a few seconds ago (two tabs refreshing at
--     once) without treating it as theft, e.g. by answering that request without a new refresh cookie.
CREATE TABLE refresh_tokens (
    token_hash  bytea       NOT NULL,
    session_id  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at  timestamptz,
    replaced_by bytea,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_replaced_by_fkey FOREIGN KEY (replaced_by) REFERENCES refresh_tokens (token_hash)
        DEFERRABLE INITIALLY DEFERRED,
    -- 32 bytes: a SHA-256 digest. Makes storing the raw (base64 text) token by mistake fail loudly.
    CONSTRAINT refresh_tokens_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_rotation_check CHECK (
        (rotated_at IS NULL) = (replaced_by IS NULL) AND replaced_by IS DISTINCT FROM token_hash
    )
);

CREATE UNIQUE INDEX refresh_tokens_one_current_per_session ON refresh_tokens (session_id) WHERE rotated_at IS NULL;
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- Single-use, purpose-bound tokens sent by email. Consuming one is a single conditional UPDATE
-- (... SET consumed_at = now() WHERE token_hash = $1 AND purpose = $2 AND consumed_at IS NULL
-- AND expires_at > now() RETURNING ...), so a token works once, only for its purpose, and the
-- application also compares email with the user's current address.
CREATE TABLE auth_tokens (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    token_hash  bytea       NOT NULL,
    purpose     text        NOT NULL,
    user_id     uuid        NOT NULL,
    -- The address the token was sent to, normalised like users.email.
    email       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz,
    CONSTRAINT auth_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT auth_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT auth_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT auth_tokens_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT auth_tokens_purpose_check CHECK (purpose IN ('email_verification', 'password_reset')),
    CONSTRAINT auth_tokens_email_check CHECK (email = lower(btrim(email))),
    CONSTRAINT auth_tokens_expiry_check CHECK (expires_at > created_at)
);

-- Issuing a token invalidates the user's outstanding tokens of the same purpose; resend limits count them.
CREATE INDEX auth_tokens_user_purpose_idx ON auth_tokens (user_id, purpose, created_at DESC);
-- The cleanup job deletes expired tokens.
CREATE INDEX auth_tokens_expires_at_idx ON auth_tokens (expires_at);

-- Append-only audit log. user_id becomes NULL when the user is deleted: the trail of what happened
-- (and from where) outlives the account. Failed logins for unknown emails have user_id NULL from the
-- start and keep the attempted address in detail.
CREATE TABLE auth_events (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid,
    event      text        NOT NULL,
    outcome    text        NOT NULL,
    ip         inet,
    user_agent text,
    detail     jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_events_pkey PRIMARY KEY (id),
    CONSTRAINT auth_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL,
    -- snake_case event names (login, refresh_token_reuse, password_reset, oauth_link, ...); a format
    -- rather than a list so that auditing a new event needs no migration.
    CONSTRAINT auth_events_event_check CHECK (event ~ '^[a-z][a-z0-9_.]{0,63}$'),
    CONSTRAINT auth_events_outcome_check CHECK (outcome IN ('success', 'failure')),
    CONSTRAINT auth_events_detail_check CHECK (jsonb_typeof(detail) = 'object')
);

CREATE INDEX auth_events_user_created_idx ON auth_events (user_id, created_at DESC);
-- Retention: the cleanup job deletes events older than the retention period.
CREATE INDEX auth_events_created_at_idx ON auth_events (created_at);

-- ---------------------------------------------------------------------------------------------------
-- Media
-- ---------------------------------------------------------------------------------------------------

-- A video, uploaded directly (source 'upload') or imported from a URL (source 'url').
-- Lifecycles: upload  pending_upload -> processing | ready | failed (| cancelled)
--             url     queued -> downloading -> processing | ready | failed | cancelled
CREATE TABLE videos (
    id               uuid             NOT NULL DEFAULT gen_random_uuid(),
    user_id          uuid             NOT NULL,
    title            text             NOT NULL DEFAULT '',
    source           text             NOT NULL,
    source_url       text,
    status           text             NOT NULL,
    -- Readable reason of a failure, safe to show to the owner.
    error            text,
    content_type     text,
    size_bytes       bigint,
    duration_seconds double precision,
    width            integer,
    height           integer,
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT videos_pkey PRIMARY KEY (id),
    CONSTRAINT videos_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- Target of the composite (video_id, user_id) foreign keys of clips and file_storage.
    CONSTRAINT videos_id_user_key UNIQUE (id, user_id),
    CONSTRAINT videos_source_check CHECK (source IN ('upload', 'url')),
    -- An import has a URL, an upload has none.
    CONSTRAINT videos_source_url_check CHECK ((source = 'url') = (source_url IS NOT NULL)),
    CONSTRAINT videos_source_url_length_check CHECK (char_length(source_url) <= 4096),
    CONSTRAINT videos_status_check CHECK (status IN (
        'pending_upload', 'queued', 'downloading', 'processing', 'ready', 'failed', 'cancelled'
    )),
    CONSTRAINT videos_failed_error_check CHECK (status <> 'failed' OR error IS NOT NULL),
    CONSTRAINT videos_title_check CHECK (char_length(title) <= 500),
    CONSTRAINT videos_size_bytes_check CHECK (size_bytes >= 0),
    -- float8 admits NaN and Infinity, which sort above every number: "< 'Infinity'" rejects both.
    CONSTRAINT videos_duration_check CHECK (duration_seconds >= 0 AND duration_seconds < 'Infinity'),
    CONSTRAINT videos_dimensions_check CHECK (width > 0 AND height > 0)
);

CREATE TRIGGER videos_set_updated_at BEFORE UPDATE ON videos
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- GET /api/videos: own videos, newest first, keyset pagination on (created_at, id).
-- Also serves the user_id foreign key.
CREATE INDEX videos_user_created_idx ON videos (user_id, created_at DESC, id DESC);
-- Sweepers: pending uploads past the SAS lifetime, imports queued or downloading for too long.
CREATE INDEX videos_status_updated_idx ON videos (status, updated_at);
-- Per-user limit on concurrent imports: count(*) WHERE user_id = $1 AND status IN ('queued', 'downloading').
CREATE INDEX videos_active_imports_idx ON videos (user_id) WHERE status IN ('queued', 'downloading');

-- A clip cut from a video, rendered asynchronously by the video processor.
CREATE TABLE clips (
    id               uuid             NOT NULL DEFAULT gen_random_uuid(),
    video_id         uuid             NOT NULL,
    user_id          uuid             NOT NULL,
    title            text             NOT NULL DEFAULT '',
    start_seconds    double precision NOT NULL,
    end_seconds      double precision NOT NULL,
    status           text             NOT NULL DEFAULT 'queued',
    duration_seconds double precision,
    error            text,
    created_at       timestamptz      NOT NULL DEFAULT now(),
    updated_at       timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT clips_pkey PRIMARY KEY (id),
    CONSTRAINT clips_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- The clip's owner is the video's owner.
    CONSTRAINT clips_video_fkey FOREIGN KEY (video_id, user_id) REFERENCES videos (id, user_id) ON DELETE CASCADE,
    CONSTRAINT clips_id_user_key UNIQUE (id, user_id),
    -- 0 <= start < end, with NaN and Infinity excluded (see videos_duration_check).
    CONSTRAINT clips_range_check CHECK (
        start_seconds >= 0 AND start_seconds < end_seconds AND end_seconds < 'Infinity'
    ),
    CONSTRAINT clips_status_check CHECK (status IN ('queued', 'processing', 'ready', 'failed', 'cancelled')),
    CONSTRAINT clips_failed_error_check CHECK (status <> 'failed' OR error IS NOT NULL),
    CONSTRAINT clips_title_check CHECK (char_length(title) <= 500),
    CONSTRAINT clips_duration_check CHECK (duration_seconds >= 0 AND duration_seconds < 'Infinity')
);

CREATE TRIGGER clips_set_updated_at BEFORE UPDATE ON clips
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- GET /api/videos/{id}/clips; also serves the (video_id, user_id) foreign key.
CREATE INDEX clips_video_created_idx ON clips (video_id, created_at);
CREATE INDEX clips_user_id_idx ON clips (user_id);
-- Sweeper for clips stuck in queued/processing.
CREATE INDEX clips_status_updated_idx ON clips (status, updated_at);

-- One row per blob the platform stores, linked to exactly one owner entity, so that deleting a video or
-- clip can list every blob to remove and the per-user quota is one SUM(size_bytes).
CREATE TABLE file_storage (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    video_id     uuid,
    clip_id      uuid,
    kind         text        NOT NULL,
    container    text        NOT NULL,
    blob_name    text        NOT NULL,
    content_type text,
    size_bytes   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT file_storage_pkey PRIMARY KEY (id),
    CONSTRAINT file_storage_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- Composite keys: a blob row always belongs to the owner of its video or clip. With MATCH SIMPLE
    -- (the default) a NULL video_id or clip_id leaves the corresponding key unchecked.
    CONSTRAINT file_storage_video_fkey FOREIGN KEY (video_id, user_id) REFERENCES videos (id, user_id) ON DELETE CASCADE,
    CONSTRAINT file_storage_clip_fkey FOREIGN KEY (clip_id, user_id) REFERENCES clips (id, user_id) ON DELETE CASCADE,
    CONSTRAINT file_storage_owner_check CHECK (num_nonnulls(video_id, clip_id) = 1),
    CONSTRAINT file_storage_kind_check CHECK (kind IN ('source', 'thumbnail', 'clip')),
    -- A video's source is a video blob and a rendered clip a clip blob; thumbnails may belong to either.
    CONSTRAINT file_storage_kind_owner_check CHECK (
        (kind <> 'source' OR video_id IS NOT NULL) AND (kind <> 'clip' OR clip_id IS NOT NULL)
    ),
    CONSTRAINT file_storage_container_blob_key UNIQUE (container, blob_name),
    -- Azure container naming rules; blob names are at most 1024 characters.
    CONSTRAINT file_storage_container_check CHECK (container ~ '^[a-z0-9](-?[a-z0-9])+$' AND char_length(container) <= 63),
    CONSTRAINT file_storage_blob_name_check CHECK (char_length(blob_name) BETWEEN 1 AND 1024),
    CONSTRAINT file_storage_size_bytes_check CHECK (size_bytes >= 0)
);

CREATE TRIGGER file_storage_set_updated_at BEFORE UPDATE ON file_storage
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One blob of each kind per owner: a redelivered import or a retried render finds and reuses its row.
-- These also serve the video and clip foreign keys (video_id = $1 implies video_id IS NOT NULL).
CREATE UNIQUE INDEX file_storage_video_kind_key ON file_storage (video_id, kind) WHERE video_id IS NOT NULL;
CREATE UNIQUE INDEX file_storage_clip_kind_key ON file_storage (clip_id, kind) WHERE clip_id IS NOT NULL;
-- Storage quota: SUM(size_bytes) WHERE user_id = $1, answered from the index alone.
CREATE INDEX file_storage_user_id_idx ON file_storage (user_id) INCLUDE (size_bytes);

-- ---------------------------------------------------------------------------------------------------
-- Social publishing
-- ---------------------------------------------------------------------------------------------------

-- A connected account on a social platform. Its OAuth tokens are encrypted by the application
-- (AES-256-GCM, nonce prepended) before they reach this table; the *_ciphertext names and the minimum
-- length (12-byte nonce + 16-byte tag) make storing a plaintext token an obvious mistake.
-- token_key_id names the key that encrypted them, so keys can be rotated.
CREATE TABLE social_accounts (
    id                       uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id                  uuid        NOT NULL,
    platform                 text        NOT NULL,
    handle                   text        NOT NULL,
    access_token_ciphertext  bytea       NOT NULL,
    refresh_token_ciphertext bytea,
    token_key_id             text        NOT NULL,
    token_expires_at         timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT social_accounts_pkey PRIMARY KEY (id),
    CONSTRAINT social_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT social_accounts_id_user_key UNIQUE (id, user_id),
    CONSTRAINT social_accounts_user_platform_handle_key UNIQUE (user_id, platform, handle),
    CONSTRAINT social_accounts_platform_check CHECK (platform IN (
        'youtube', 'tiktok', 'instagram', 'x', 'facebook', 'linkedin'
    )),
    CONSTRAINT social_accounts_handle_check CHECK (handle = btrim(handle) AND char_length(handle) BETWEEN 1 AND 100),
    CONSTRAINT social_accounts_access_token_ciphertext_check CHECK (octet_length(access_token_ciphertext) >= 28),
    CONSTRAINT social_accounts_refresh_token_ciphertext_check CHECK (octet_length(refresh_token_ciphertext) >= 28),
    CONSTRAINT social_accounts_token_key_id_check CHECK (token_key_id <> '')
);

CREATE TRIGGER social_accounts_set_updated_at BEFORE UPDATE ON social_accounts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- The user_id foreign key and GET /api/social-accounts use the leading column of
-- social_accounts_user_platform_handle_key.

-- A clip scheduled for publication on a social account. Deleting the clip or disconnecting the account
-- deletes its posts: a post cannot be published without either.
CREATE TABLE posts (
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id           uuid        NOT NULL,
    clip_id           uuid        NOT NULL,
    social_account_id uuid        NOT NULL,
    caption           text        NOT NULL DEFAULT '',
    scheduled_at      timestamptz NOT NULL,
    status            text        NOT NULL DEFAULT 'scheduled',
    error             text,
    -- The platform's id of the published post.
    external_id       text,
    published_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT posts_pkey PRIMARY KEY (id),
    CONSTRAINT posts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- The clip and the account both belong to the post's user.
    CONSTRAINT posts_clip_fkey FOREIGN KEY (clip_id, user_id) REFERENCES clips (id, user_id) ON DELETE CASCADE,
    CONSTRAINT posts_social_account_fkey FOREIGN KEY (social_account_id, user_id)
        REFERENCES social_accounts (id, user_id) ON DELETE CASCADE,
    CONSTRAINT posts_status_check CHECK (status IN ('scheduled', 'publishing', 'published', 'failed', 'cancelled')),
    CONSTRAINT posts_published_check CHECK (status <> 'published' OR published_at IS NOT NULL),
    CONSTRAINT posts_failed_error_check CHECK (status <> 'failed' OR error IS NOT NULL),
    CONSTRAINT posts_caption_check CHECK (char_length(caption) <= 10000),
    -- One local row per published platform post.
    CONSTRAINT posts_social_account_external_id_key UNIQUE (social_account_id, external_id)
);

CREATE TRIGGER posts_set_updated_at BEFORE UPDATE ON posts
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The publisher picks due posts: WHERE status = 'scheduled' AND scheduled_at <= now() ORDER BY scheduled_at.
CREATE INDEX posts_due_idx ON posts (scheduled_at) WHERE status = 'scheduled';
-- GET /api/posts: own posts, newest first, keyset pagination; also serves the user_id foreign key.
CREATE INDEX posts_user_created_idx ON posts (user_id, created_at DESC, id DESC);
-- Sweeper for posts stuck in 'publishing'.
CREATE INDEX posts_status_updated_idx ON posts (status, updated_at);
-- Foreign key lookups when a clip is deleted. Disconnecting an account uses the leading column of
-- posts_social_account_external_id_key.
CREATE INDEX posts_clip_id_idx ON posts (clip_id);

-- +goose Down
DROP TABLE posts;
DROP TABLE social_accounts;
DROP TABLE file_storage;
DROP TABLE clips;
DROP TABLE videos;
DROP TABLE auth_events;
DROP TABLE auth_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE user_identities;
DROP TABLE users;
DROP FUNCTION set_updated_at();
