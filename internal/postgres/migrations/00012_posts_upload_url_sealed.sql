-- The YouTube resumable-upload session of a publishing post (00010's upload_url) is a capability:
-- whoever has its URL can send bytes into the session. It is now stored sealed with secretbox, as the
-- social tokens are (00009), instead of in clear text:
--
--   upload_url_ciphertext  the session URL sealed under DATA_ENCRYPTION_KEY, additional data
--                          "<post id>:upload_url" (posts.SessionAdditionalData), so a value copied into
--                          another post does not open there.
--   upload_url_key_id      the secretbox key id it is sealed under; `handler reencrypt` moves it to the
--                          current key like the social tokens.
--
-- Both are set together or neither (no session); cleared when the post is published or failed.
--
-- upload_url itself is emptied here and no longer read or written, but it is not dropped yet:
-- migrations are forward-only and a rolled-back binary runs against the newer schema
-- (docs/operations.md, "Roll back"), and the previous release still names the column in its
-- queries. A later release drops it (and anything a rolled-back binary wrote there meanwhile).
--
-- A post publishing at deploy time holds its session in clear text, which SQL cannot seal (the key is
-- not in the database). This migration drops that session and its offset: the next attempt starts a
-- new session from byte 0. Nothing was published yet, so this is still at most once, except for a
-- post whose last chunk YouTube had accepted but whose worker died before the UPDATE that records it
-- published (a window of one statement; the same holds for a sealed value that does not open, which
-- the worker also treats as no session). The down migration likewise drops sealed sessions: they
-- cannot be written back in clear text without the key.

-- +goose Up
UPDATE posts SET upload_url = NULL, upload_offset = 0 WHERE upload_url IS NOT NULL;
COMMENT ON COLUMN posts.upload_url IS 'unused since 00012 (the session is sealed in upload_url_ciphertext); dropped in a later release';
ALTER TABLE posts
    ADD COLUMN upload_url_ciphertext bytea,
    ADD COLUMN upload_url_key_id text,
    -- 28 bytes of nonce and tag around a URL of at most 4096 bytes (00010's bound).
    ADD CONSTRAINT posts_upload_url_ciphertext_check CHECK (octet_length(upload_url_ciphertext) BETWEEN 28 AND 4124),
    ADD CONSTRAINT posts_upload_url_key_id_check CHECK (upload_url_key_id <> ''),
    ADD CONSTRAINT posts_upload_url_sealed_check CHECK ((upload_url_ciphertext IS NULL) = (upload_url_key_id IS NULL));
-- `handler reencrypt`'s scan of sealed sessions: only posts in flight have one.
CREATE INDEX posts_upload_url_key_id_idx ON posts (id) WHERE upload_url_key_id IS NOT NULL;

-- +goose Down
DROP INDEX posts_upload_url_key_id_idx;
UPDATE posts SET upload_offset = 0 WHERE upload_url_ciphertext IS NOT NULL;
ALTER TABLE posts
    DROP CONSTRAINT posts_upload_url_sealed_check,
    DROP CONSTRAINT posts_upload_url_key_id_check,
    DROP CONSTRAINT posts_upload_url_ciphertext_check,
    DROP COLUMN upload_url_key_id,
    DROP COLUMN upload_url_ciphertext;
COMMENT ON COLUMN posts.upload_url IS NULL;
