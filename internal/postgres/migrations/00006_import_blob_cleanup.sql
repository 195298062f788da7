-- An import's blob (<user>/<video>/source) is committed before the video is marked ready. When that
-- record fails (database blip, shutdown) and the import then ends cancelled or failed, the blob has no
-- file_storage row: nothing would ever delete it, and it is outside the quota (issue 9). The worker,
-- the cancel API and deletion delete it, and the sweeper makes sure of it once no worker of the import
-- can still be writing it.
--
--   blob_deleted_at  when the sweeper deleted the blob of this cancelled or failed URL import; NULL:
--                    not yet (and for every other video). Rows cancelled or failed before this
--                    migration are swept once, which removes the blobs already orphaned.

-- +goose Up
ALTER TABLE videos ADD COLUMN blob_deleted_at timestamptz;

-- The sweeper's query: cancelled or failed imports whose blob is still to delete, oldest first.
CREATE INDEX videos_import_blob_cleanup_idx ON videos (updated_at)
    WHERE source = 'url' AND status IN ('cancelled', 'failed') AND blob_deleted_at IS NULL;

-- +goose Down
DROP INDEX videos_import_blob_cleanup_idx;
ALTER TABLE videos DROP COLUMN blob_deleted_at;
