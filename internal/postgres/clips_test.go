package postgres

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/clips"
)

// probedVideo inserts a ready, probed import of userID.
func probedVideo(t *testing.T, db *DB, userID uuid.UUID, duration *float64) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := db.pool.QueryRow(t.Context(), `
		INSERT INTO videos (user_id, source, source_url, status, duration_seconds)
		VALUES ($1, 'url', 'https://example.com/v', 'ready', $2) RETURNING id`, userID, duration).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func newClip(userID, videoID uuid.UUID) clips.Clip {
	id := uuid.New()
	return clips.Clip{ID: id, UserID: userID, VideoID: videoID, StartSeconds: 1, EndSeconds: 3, Aspect: clips.AspectOriginal,
		BlobName: clips.BlobName(userID, videoID, id)}
}

func noCheck(float64) error { return nil }

// TestClipInFlightLimitHoldsUnderConcurrency: the count and the insert are
// serialised per user, so concurrent creations cannot pass the limit.
func TestClipInFlightLimitHoldsUnderConcurrency(t *testing.T) {
	db := migratedDB(t)
	store := ClipStore{DB: db}
	alice := newUser(t, db, "alice@example.com")
	ten := 10.0
	video := probedVideo(t, db, alice, &ten)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := store.CreateClip(t.Context(), newClip(alice, video), 3, noCheck)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, clips.ErrTooManyClips):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created != 3 || refused != 5 {
		t.Errorf("%d created, %d refused; want 3 and 5", created, refused)
	}
}

func TestCreateClipChecksTheVideo(t *testing.T) {
	db := migratedDB(t)
	store := ClipStore{DB: db}
	alice, bob := newUser(t, db, "alice@example.com"), newUser(t, db, "bob@example.com")
	ten := 10.0
	video := probedVideo(t, db, alice, &ten)
	unprobed := probedVideo(t, db, alice, nil)
	if _, err := store.CreateClip(t.Context(), newClip(bob, video), 3, noCheck); !errors.Is(err, clips.ErrVideoNotFound) {
		t.Errorf("another user's video: %v", err)
	}
	if _, err := store.CreateClip(t.Context(), newClip(alice, unprobed), 3, noCheck); !errors.Is(err, clips.ErrVideoNotReady) {
		t.Errorf("unprobed video: %v", err)
	}
	var seen float64
	tooLong := errors.New("too long")
	_, err := store.CreateClip(t.Context(), newClip(alice, video), 3, func(d float64) error { seen = d; return tooLong })
	if !errors.Is(err, tooLong) || seen != 10 {
		t.Errorf("range check: %v, saw duration %v", err, seen)
	}
	if _, err := (ClipStore{DB: db}).Clip(t.Context(), bob, uuid.New()); !errors.Is(err, clips.ErrNotFound) {
		t.Errorf("missing clip: %v", err)
	}
}

// TestClipAttemptsAreFenced: once a newer attempt started, the older one
// can neither finish nor fail the clip, nor beat for it; the current one
// finishes it with its file_storage row, and a ready clip starts no attempt.
func TestClipAttemptsAreFenced(t *testing.T) {
	db := migratedDB(t)
	store := ClipStore{DB: db}
	alice := newUser(t, db, "alice@example.com")
	ten := 10.0
	video := probedVideo(t, db, alice, &ten)
	c, err := store.CreateClip(t.Context(), newClip(alice, video), 3, noCheck)
	if err != nil {
		t.Fatal(err)
	}
	first, ok, err := store.StartRender(t.Context(), c.ID)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	second, ok, err := store.StartRender(t.Context(), c.ID)
	if err != nil || !ok || second != first+1 {
		t.Fatal(second, ok, err)
	}
	res := clips.Result{DurationSeconds: 2, Width: 320, Height: 240, Size: 1000, Container: "videos", BlobName: c.BlobName}
	if err := store.Finish(t.Context(), c.ID, first, res, 0); !errors.Is(err, clips.ErrNotCurrent) {
		t.Errorf("old attempt finish: %v", err)
	}
	if err := store.Fail(t.Context(), c.ID, first, "x"); !errors.Is(err, clips.ErrNotCurrent) {
		t.Errorf("old attempt fail: %v", err)
	}
	if err := store.Touch(t.Context(), c.ID, first); !errors.Is(err, clips.ErrNotCurrent) {
		t.Errorf("old attempt touch: %v", err)
	}
	if err := store.Finish(t.Context(), c.ID, second, res, 999); !errors.Is(err, clips.ErrQuota) {
		t.Errorf("over quota: %v", err)
	}
	if err := store.Finish(t.Context(), c.ID, second, res, 0); err != nil {
		t.Fatal(err)
	}
	got, err := store.Clip(t.Context(), alice, c.ID)
	if err != nil || got.Status != clips.StatusReady || *got.SizeBytes != 1000 || *got.Width != 320 {
		t.Fatalf("%+v %v", got, err)
	}
	var stored int64
	db.pool.QueryRow(t.Context(), `SELECT size_bytes FROM file_storage WHERE clip_id = $1 AND kind = 'clip'`, c.ID).Scan(&stored)
	if stored != 1000 {
		t.Errorf("file_storage counts %d bytes", stored)
	}
	if _, ok, err := store.StartRender(t.Context(), c.ID); ok || err != nil {
		t.Errorf("a ready clip started again: %v %v", ok, err)
	}
	names, err := (VideoStore{DB: db}).BlobNames(t.Context(), video)
	if err != nil || len(names) != 1 || names[0] != c.BlobName {
		t.Errorf("video blob names %v %v", names, err)
	}
}

// TestStaleClips: queued too long, or processing without a heartbeat, are
// found; a requeue loses to a change made since the read.
func TestStaleClips(t *testing.T) {
	db := migratedDB(t)
	store := ClipStore{DB: db}
	alice := newUser(t, db, "alice@example.com")
	ten := 10.0
	video := probedVideo(t, db, alice, &ten)
	c, err := store.CreateClip(t.Context(), newClip(alice, video), 3, noCheck)
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	stale, err := store.StaleClips(t.Context(), future, future, 10)
	if err != nil || len(stale) != 1 {
		t.Fatalf("%v %v", stale, err)
	}
	if _, _, err := store.StartRender(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := store.Requeue(t.Context(), stale[0]); ok || err != nil {
		t.Errorf("requeue of a changed clip: %v %v", ok, err)
	}
	if err := store.FailStale(t.Context(), c.ID, "gave up"); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Clip(t.Context(), alice, c.ID); got.Status != clips.StatusFailed || got.Error != "gave up" {
		t.Errorf("%+v", got)
	}
}
