-- Every attempt at a URL import gets a number (issue 9): StartDownload increments import_attempt and
-- the worker that got the number is the import's only current attempt. Its heartbeat, its finish and
-- its failure change the row only while import_attempt still holds its number, and its watch stops it
-- once the number moved on; the number is also in its block IDs, so two attempts never overwrite
-- each other's staged blocks. This replaces the session advisory lock, which a transaction-mode
-- pooler (PgBouncer) does not keep and which a lost session released under a running worker.
--
--   import_attempt  the number of the current (latest) attempt; 0 before the first one. Uploads keep 0.

-- +goose Up
ALTER TABLE videos ADD COLUMN import_attempt bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT videos_import_attempt_check CHECK (import_attempt >= 0);

-- +goose Down
ALTER TABLE videos DROP COLUMN import_attempt;
