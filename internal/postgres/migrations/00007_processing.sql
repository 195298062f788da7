-- Video processing (issue 11): once a video is ready (upload completed, import finished) the
-- video-processor probes it with ffprobe and renders a poster JPEG. The video stays playable
-- throughout; processing has its own state next to status.
--
--   processing_status      NULL: nothing to process (not ready yet); 'pending': a probe message is
--                          due or on its way (set in the transaction that makes the video ready;
--                          the sweeper re-sends it while it stays pending); 'processing': an
--                          attempt is running; 'done'; 'failed' (processing_error says why, in words
--                          safe for the owner).
--   processing_attempt     the number of the current attempt (fencing, like import_attempt): only
--                          that attempt may finish or fail the processing; its number is in the
--                          poster's block ids.
--   processing_updated_at  when processing_status last changed or the attempt last said it was alive;
--                          the sweeper's clock.
--   frame_rate, video_codec, audio_codec, bit_rate  what the probe found (with duration_seconds,
--                          width and height, which the initial schema has).

-- +goose Up
ALTER TABLE videos
    ADD COLUMN processing_status text,
    ADD COLUMN processing_error text,
    ADD COLUMN processing_attempt bigint NOT NULL DEFAULT 0,
    ADD COLUMN processing_updated_at timestamptz,
    ADD COLUMN frame_rate double precision,
    ADD COLUMN video_codec text,
    ADD COLUMN audio_codec text,
    ADD COLUMN bit_rate bigint,
    ADD CONSTRAINT videos_processing_status_check CHECK (processing_status IN ('pending', 'processing', 'done', 'failed')),
    ADD CONSTRAINT videos_processing_failed_check CHECK (processing_status IS DISTINCT FROM 'failed' OR processing_error IS NOT NULL),
    ADD CONSTRAINT videos_processing_error_check CHECK (char_length(processing_error) <= 1000),
    ADD CONSTRAINT videos_processing_clock_check CHECK (processing_status IS NULL OR processing_updated_at IS NOT NULL),
    ADD CONSTRAINT videos_processing_attempt_check CHECK (processing_attempt >= 0),
    ADD CONSTRAINT videos_frame_rate_check CHECK (frame_rate > 0 AND frame_rate < 'Infinity'),
    ADD CONSTRAINT videos_codec_check CHECK (char_length(video_codec) BETWEEN 1 AND 64 AND char_length(audio_codec) BETWEEN 1 AND 64),
    ADD CONSTRAINT videos_bit_rate_check CHECK (bit_rate > 0);

-- The sweeper's query: processing pending or running for too long, oldest first.
CREATE INDEX videos_processing_idx ON videos (processing_updated_at) WHERE processing_status IN ('pending', 'processing');

-- Videos that were ready before this migration are processed too: the sweeper sends their probes.
UPDATE videos SET processing_status = 'pending', processing_updated_at = now() WHERE status = 'ready';

-- +goose Down
DROP INDEX videos_processing_idx;
ALTER TABLE videos
    DROP CONSTRAINT videos_bit_rate_check,
    DROP CONSTRAINT videos_codec_check,
    DROP CONSTRAINT videos_frame_rate_check,
    DROP CONSTRAINT videos_processing_attempt_check,
    DROP CONSTRAINT videos_processing_clock_check,
    DROP CONSTRAINT videos_processing_error_check,
    DROP CONSTRAINT videos_processing_failed_check,
    DROP CONSTRAINT videos_processing_status_check,
    DROP COLUMN bit_rate,
    DROP COLUMN audio_codec,
    DROP COLUMN video_codec,
    DROP COLUMN frame_rate,
    DROP COLUMN processing_updated_at,
    DROP COLUMN processing_attempt,
    DROP COLUMN processing_error,
    DROP COLUMN processing_status;
