-- When the latest upload URL of a pending upload stops working, as it was signed (internal/media):
-- GET /api/uploads/{id} reports it so a client knows when to renew. It was derived from updated_at,
-- which is the database's clock, while the URL's expiry comes from the instance's clock; the two
-- disagreed by a second in CI, and by any skew between the machines in production. NULL for imports.
-- Pending uploads already there get the bound they were reported with before: updated_at plus the
-- default (and largest) lifetime of 15 minutes (media.MaxUploadURLLifetime).

-- +goose Up
ALTER TABLE videos ADD COLUMN upload_expires_at timestamptz;
UPDATE videos SET upload_expires_at = date_trunc('second', updated_at + interval '15 minutes')
WHERE source = 'upload' AND status = 'pending_upload';

-- +goose Down
ALTER TABLE videos DROP COLUMN upload_expires_at;
