-- Scheduled posts (issue 12). A post publishes a video OR a clip (exactly one) to a connected social
-- account at scheduled_at. It is published at most once, like imports and clips (00005, 00008):
--
--   attempt      the number of the current (latest) attempt at publishing; 0 before the first. The
--                worker claims a due post scheduled -> publishing and takes a new number in one UPDATE;
--                its progress, finish and failure change the row only while attempt still holds it.
--   lease_until  until when the current attempt is taken as alive; the claim sets it and every
--                confirmed chunk renews it. A redelivered message that finds the post publishing with a
--                live lease does nothing; after the lease (a crashed worker) the next claim takes the
--                post over and resumes the same upload session.
--   upload_url   the platform's resumable upload session (YouTube's Location), kept so that a re-run
--                asks the platform how much it has and continues instead of uploading a second video.
--                Cleared when the post is published or failed.
--   upload_offset bytes the platform confirmed so far (progress; the platform's answer wins on resume).
--   title, privacy, external_url
--                what the platform shows; external_url is the published post's page.

-- +goose Up
ALTER TABLE posts
    ALTER COLUMN clip_id DROP NOT NULL,
    ADD COLUMN video_id uuid,
    ADD COLUMN title text NOT NULL DEFAULT '',
    ADD COLUMN privacy text NOT NULL DEFAULT 'private',
    ADD COLUMN attempt bigint NOT NULL DEFAULT 0,
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN upload_url text,
    ADD COLUMN upload_offset bigint NOT NULL DEFAULT 0,
    ADD COLUMN external_url text,
    ADD CONSTRAINT posts_video_fkey FOREIGN KEY (video_id, user_id) REFERENCES videos (id, user_id) ON DELETE CASCADE,
    ADD CONSTRAINT posts_target_check CHECK (num_nonnulls(video_id, clip_id) = 1),
    ADD CONSTRAINT posts_title_check CHECK (char_length(title) <= 100),
    ADD CONSTRAINT posts_privacy_check CHECK (privacy IN ('public', 'unlisted', 'private')),
    ADD CONSTRAINT posts_attempt_check CHECK (attempt >= 0),
    ADD CONSTRAINT posts_upload_offset_check CHECK (upload_offset >= 0),
    ADD CONSTRAINT posts_upload_url_check CHECK (char_length(upload_url) <= 4096),
    ADD CONSTRAINT posts_external_url_check CHECK (char_length(external_url) <= 2048),
    ADD CONSTRAINT posts_publishing_lease_check CHECK (status <> 'publishing' OR lease_until IS NOT NULL);

-- Foreign key lookups when a video is deleted.
CREATE INDEX posts_video_id_idx ON posts (video_id) WHERE video_id IS NOT NULL;
-- The sweeper's scan of attempts whose lease ran out; it replaces the scan by updated_at (00001),
-- which a post's progress updates would keep moving.
CREATE INDEX posts_publishing_lease_idx ON posts (lease_until) WHERE status = 'publishing';
DROP INDEX posts_status_updated_idx;

-- +goose Down
CREATE INDEX posts_status_updated_idx ON posts (status, updated_at);
DROP INDEX posts_publishing_lease_idx;
DROP INDEX posts_video_id_idx;
DELETE FROM posts WHERE clip_id IS NULL;
ALTER TABLE posts
    DROP CONSTRAINT posts_publishing_lease_check,
    DROP COLUMN external_url, DROP COLUMN upload_offset, DROP COLUMN upload_url, DROP COLUMN lease_until,
    DROP COLUMN attempt, DROP COLUMN privacy, DROP COLUMN title, DROP COLUMN video_id,
    ALTER COLUMN clip_id SET NOT NULL;
