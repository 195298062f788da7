-- Direct uploads are read from a blob snapshot taken when the upload is completed (issue 8): the
-- upload URL (create + write on <user>/<video>/source, valid up to 15 minutes) can still break a
-- lease and rewrite the base blob after completion, but it cannot write, delete or re-tier a
-- snapshot. So the source row names the snapshot that holds the checked bytes, and every reader
-- (playback, processing) uses it.
--
--   snapshot        the snapshot id (its time, as Blob Storage formats it) of blob_name that holds
--                   the verified file; NULL: the base blob itself holds it (imports, which no upload
--                   URL can write, and rows written before this migration).
--   settle_pending  an upload URL may have written to the base blob (or snapshotted it) since the
--                   snapshot was taken; the sweeper, once every such URL has expired, breaks any
--                   lease, deletes every other snapshot and copies the snapshot back over the base
--                   blob (they then share their blocks), and clears the flag.

-- +goose Up
ALTER TABLE file_storage
    ADD COLUMN snapshot text,
    ADD COLUMN settle_pending boolean NOT NULL DEFAULT false,
    -- Blob Storage's snapshot ids look like 2024-05-01T12:34:56.1234567Z.
    ADD CONSTRAINT file_storage_snapshot_check CHECK (char_length(snapshot) BETWEEN 1 AND 64),
    ADD CONSTRAINT file_storage_settle_check CHECK (NOT settle_pending OR snapshot IS NOT NULL);

-- The sweeper's query: source rows still to settle, oldest first.
CREATE INDEX file_storage_settle_idx ON file_storage (updated_at) WHERE settle_pending;

-- +goose Down
DROP INDEX file_storage_settle_idx;
ALTER TABLE file_storage
    DROP CONSTRAINT file_storage_settle_check,
    DROP CONSTRAINT file_storage_snapshot_check,
    DROP COLUMN settle_pending,
    DROP COLUMN snapshot;
