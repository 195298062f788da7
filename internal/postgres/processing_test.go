package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/processing"
)

// readyVideo inserts a ready upload with its source row and processing
// pending, as CompleteUpload leaves it.
func readyVideo(t *testing.T, db *DB, user uuid.UUID) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if _, err := db.pool.Exec(t.Context(), `
		WITH v AS (
			INSERT INTO videos (id, user_id, source, status, content_type, size_bytes, processing_status, processing_updated_at)
			VALUES ($1, $2, 'upload', 'ready', 'video/mp4', 10, 'pending', now()) RETURNING id
		)
		INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes, snapshot)
		SELECT $2, id, 'source', 'videos', $2::text || '/' || id::text || '/source', 'video/mp4', 10, '2026-11-30T07:00:00.1234567Z' FROM v`,
		id, user); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestProcessingAttemptsAreFenced(t *testing.T) {
	db := migratedDB(t)
	s := ProcessingStore{DB: db}
	ctx := t.Context()
	var user uuid.UUID
	if err := db.pool.QueryRow(ctx, `INSERT INTO users (email) VALUES ('p@example.com') RETURNING id`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	id := readyVideo(t, db, user)

	job, a1, ok, err := s.StartProcessing(ctx, id)
	if err != nil || !ok || a1 != 1 || job.UserID != user || job.SourceSnapshot == "" || job.ContentType != "video/mp4" {
		t.Fatalf("first start: %+v attempt %d ok %v err %v", job, a1, ok, err)
	}
	// A redelivery takes over: the first attempt can record nothing.
	_, a2, ok, err := s.StartProcessing(ctx, id)
	if err != nil || !ok || a2 != 2 {
		t.Fatalf("second start: attempt %d ok %v err %v", a2, ok, err)
	}
	m := processing.Metadata{DurationSeconds: 3, SizeBytes: 10, Width: 320, Height: 240, FrameRate: 25, VideoCodec: "h264"}
	poster := &processing.Poster{Container: "videos", BlobName: processing.PosterBlobName(user, id), ContentType: "image/jpeg", SizeBytes: 5}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"finish by the old attempt", s.FinishProcessing(ctx, id, a1, m, poster), processing.ErrNotCurrent},
		{"fail by the old attempt", s.FailProcessing(ctx, id, a1, "no"), processing.ErrNotCurrent},
		{"finish by the current attempt", s.FinishProcessing(ctx, id, a2, m, poster), nil},
		{"finish again", s.FinishProcessing(ctx, id, a2, m, poster), processing.ErrNotCurrent},
		{"fail after done", s.FailProcessing(ctx, id, a2, "no"), processing.ErrNotCurrent},
	} {
		if !errors.Is(c.err, c.want) || (c.want == nil && c.err != nil) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if _, _, ok, err := s.StartProcessing(ctx, id); ok || err != nil {
		t.Errorf("start after done: ok %v err %v, want nothing to do", ok, err)
	}
	var rows int
	var status string
	if err := db.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM file_storage WHERE video_id = $1 AND kind = 'thumbnail'), processing_status
		FROM videos WHERE id = $1`, id).Scan(&rows, &status); err != nil || rows != 1 || status != "done" {
		t.Errorf("thumbnail rows %d, status %q (%v); want 1, done", rows, status, err)
	}

	t.Run("a video deleted meanwhile", func(t *testing.T) {
		id := readyVideo(t, db, user)
		_, a, _, err := s.StartProcessing(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.pool.Exec(ctx, `DELETE FROM videos WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishProcessing(ctx, id, a, m, poster); !errors.Is(err, processing.ErrGone) {
			t.Errorf("finish: %v, want ErrGone", err)
		}
	})
	t.Run("the sweeper requeues, then gives up", func(t *testing.T) {
		id := readyVideo(t, db, user)
		if _, _, _, err := s.StartProcessing(ctx, id); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour)
		stale, err := s.StaleProcessing(ctx, later, later, 10)
		if err != nil || len(stale) != 1 || stale[0].ID != id || stale[0].Status != "processing" || stale[0].Attempts != 1 {
			t.Fatalf("stale: %+v %v", stale, err)
		}
		if _, ok, err := s.RequeueProcessing(ctx, stale[0]); !ok || err != nil {
			t.Fatalf("requeue: %v %v", ok, err)
		}
		if _, ok, _ := s.RequeueProcessing(ctx, stale[0]); ok {
			t.Error("a second requeue of the same listing succeeded")
		}
		stale, _ = s.StaleProcessing(ctx, later, later, 10)
		if err := s.GiveUpProcessing(ctx, stale[0], processing.GaveUpReason); err != nil {
			t.Fatal(err)
		}
		var status, reason string
		db.pool.QueryRow(ctx, `SELECT processing_status, processing_error FROM videos WHERE id = $1`, id).Scan(&status, &reason)
		if status != "failed" || reason != processing.GaveUpReason {
			t.Errorf("after giving up: %q %q", status, reason)
		}
	})
}
