-- Connected social accounts (issue 12). 00001 created social_accounts with a handle and the two sealed
-- tokens; this adds what the connect flow learns from the platform and the account's health:
--
--   external_id     the platform's id of the account (YouTube: the channel id). One row per (user,
--                   platform, external_id): connecting the same channel again updates its row.
--   display_name, avatar_url
--                   shown in the settings page; refreshed on every connect.
--   scopes          the scopes the platform granted (it may grant fewer than asked).
--   status          'active', or 'needs_reconnect' once the platform refused a token refresh: the user
--                   must connect again before anything can be published.
--   token_key_id    (00001) the secretbox key id both tokens are sealed under; they are always sealed
--                   together, so one id serves both. The additional data of each is "<row id>:<column>".
--
-- social_oauth_states holds an authorization in progress: the SHA-256 of the state sent to the
-- platform, the user who started it (the callback carries no Bearer token; this row authenticates it),
-- the PKCE verifier, sealed like the tokens (additional data "<state hash hex>:verifier"), and an expiry.
-- A callback deletes its row as it reads it, so a state works once.

-- +goose Up
ALTER TABLE social_accounts
    ADD COLUMN external_id text,
    ADD COLUMN display_name text NOT NULL DEFAULT '',
    ADD COLUMN avatar_url text NOT NULL DEFAULT '',
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{}',
    ADD COLUMN status text NOT NULL DEFAULT 'active',
    ADD CONSTRAINT social_accounts_status_check CHECK (status IN ('active', 'needs_reconnect')),
    ADD CONSTRAINT social_accounts_external_id_check CHECK (char_length(external_id) BETWEEN 1 AND 200),
    ADD CONSTRAINT social_accounts_display_name_check CHECK (char_length(display_name) <= 200),
    ADD CONSTRAINT social_accounts_avatar_url_check CHECK (char_length(avatar_url) <= 2048);
UPDATE social_accounts SET external_id = handle WHERE external_id IS NULL;
ALTER TABLE social_accounts
    ALTER COLUMN external_id SET NOT NULL,
    ADD CONSTRAINT social_accounts_user_platform_external_id_key UNIQUE (user_id, platform, external_id);
-- The handle is a display value now (a channel's @handle, or its id when it has none); two channels
-- may not share an external id, but nothing else about them must differ.
ALTER TABLE social_accounts DROP CONSTRAINT social_accounts_user_platform_handle_key;

CREATE TABLE social_oauth_states (
    state_hash          bytea       NOT NULL,
    user_id             uuid        NOT NULL,
    platform            text        NOT NULL,
    verifier_ciphertext bytea       NOT NULL,
    verifier_key_id     text        NOT NULL,
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT social_oauth_states_pkey PRIMARY KEY (state_hash),
    CONSTRAINT social_oauth_states_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT social_oauth_states_state_hash_check CHECK (octet_length(state_hash) = 32),
    CONSTRAINT social_oauth_states_verifier_ciphertext_check CHECK (octet_length(verifier_ciphertext) >= 28),
    CONSTRAINT social_oauth_states_verifier_key_id_check CHECK (verifier_key_id <> '')
);
CREATE INDEX social_oauth_states_expires_at_idx ON social_oauth_states (expires_at);

-- +goose Down
DROP TABLE social_oauth_states;
ALTER TABLE social_accounts
    ADD CONSTRAINT social_accounts_user_platform_handle_key UNIQUE (user_id, platform, handle);
ALTER TABLE social_accounts
    DROP CONSTRAINT social_accounts_user_platform_external_id_key,
    DROP COLUMN status,
    DROP COLUMN scopes,
    DROP COLUMN avatar_url,
    DROP COLUMN display_name,
    DROP COLUMN external_id;
