-- Clips are rendered by the video-processing queue (issue 11): ffmpeg cuts a range of a ready video
-- through a read URL and its output is staged into the clip's own blob. Like imports (00005), every
-- attempt at a clip gets a number: the worker that got it is the clip's only current attempt, its
-- finish and failure change the row only while clip attempt still holds its number, and the number is
-- in its block IDs, so two attempts never overwrite each other's staged blocks.
--
--   aspect      'original' (the source's frame) or '9:16' (a centred vertical crop, scaled to at most
--               1080x1920).
--   attempt     the number of the current (latest) attempt; 0 before the first one.
--   width, height, size_bytes
--               of the rendered file, probed back once it is stored; NULL until the clip is ready.
--   blob_name   the clip's blob: fixed at creation (<user>/<video>/clips/<clip>.mp4), so a redelivered
--               message renders into the same blob and deletion knows it before it exists. Its
--               file_storage row (kind 'clip') is written when the clip is ready.

-- +goose Up
ALTER TABLE clips
    ADD COLUMN aspect text NOT NULL DEFAULT 'original',
    ADD COLUMN attempt bigint NOT NULL DEFAULT 0,
    ADD COLUMN width integer,
    ADD COLUMN height integer,
    ADD COLUMN size_bytes bigint,
    ADD COLUMN blob_name text,
    ADD CONSTRAINT clips_aspect_check CHECK (aspect IN ('original', '9:16')),
    ADD CONSTRAINT clips_attempt_check CHECK (attempt >= 0),
    ADD CONSTRAINT clips_dimensions_check CHECK (width > 0 AND height > 0),
    ADD CONSTRAINT clips_size_bytes_check CHECK (size_bytes >= 0),
    ADD CONSTRAINT clips_blob_name_check CHECK (char_length(blob_name) BETWEEN 1 AND 1024);

-- The per-user in-flight count (CLIPS_IN_FLIGHT_PER_USER) and the sweeper's queued/processing scan.
CREATE INDEX clips_user_in_flight_idx ON clips (user_id) WHERE status IN ('queued', 'processing');

-- +goose Down
DROP INDEX clips_user_in_flight_idx;
ALTER TABLE clips DROP COLUMN blob_name, DROP COLUMN size_bytes, DROP COLUMN height, DROP COLUMN width,
    DROP COLUMN attempt, DROP COLUMN aspect;
