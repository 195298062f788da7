package postgres

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/media"
)

func newUser(t *testing.T, db *DB, email string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := db.pool.QueryRow(t.Context(), `INSERT INTO users (email) VALUES ($1) RETURNING id`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func newUpload(userID uuid.UUID, size int64) media.NewUpload {
	id := uuid.New()
	return media.NewUpload{
		ID: id, UserID: userID, Title: "t.mp4", ContentType: "video/mp4", SizeBytes: size,
		Container: "videos", BlobName: userID.String() + "/" + id.String() + "/source",
	}
}

// TestQuotaHoldsUnderConcurrency: the quota check and the insert are
// serialised per user, so concurrent uploads cannot overshoot it together.
func TestQuotaHoldsUnderConcurrency(t *testing.T) {
	db := migratedDB(t)
	store := VideoStore{DB: db}
	alice, bob := newUser(t, db, "alice@example.com"), newUser(t, db, "bob@example.com")

	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for range 12 {
		wg.Go(func() {
			_, err := store.CreateUpload(t.Context(), newUpload(alice, 100), 300)
			var q *media.QuotaError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.As(err, &q):
				refused++
			default:
				t.Errorf("CreateUpload: %v", err)
			}
		})
	}
	wg.Wait()
	if created != 3 || refused != 9 {
		t.Errorf("created %d and refused %d uploads of 100 bytes with a 300-byte quota; want 3 and 9", created, refused)
	}
	// Another user's quota is their own.
	if _, err := store.CreateUpload(t.Context(), newUpload(bob, 300), 300); err != nil {
		t.Errorf("bob: %v", err)
	}
}

func TestVideoStoreLifecycle(t *testing.T) {
	db := migratedDB(t)
	store := VideoStore{DB: db}
	ctx := t.Context()
	alice := newUser(t, db, "alice@example.com")

	v, err := store.CreateUpload(ctx, newUpload(alice, 1000), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != media.StatusPendingUpload || *v.SizeBytes != 1000 || v.SourceBlob == "" || v.ContentType != "video/mp4" {
		t.Fatalf("created: %+v", v)
	}
	if _, err := store.Video(ctx, uuid.New(), v.ID); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("another user's Video: %v", err)
	}
	const snap = "2026-01-02T03:04:05.1234567Z"
	done, err := store.CompleteUpload(ctx, v.ID, snap, 900, "video/quicktime", 10_000)
	if err != nil || done.Status != media.StatusReady || *done.SizeBytes != 900 || done.ContentType != "video/quicktime" || done.SourceSnapshot != snap {
		t.Fatalf("CompleteUpload = %+v, %v", done, err)
	}
	if _, err := store.CompleteUpload(ctx, v.ID, snap, 900, "video/mp4", 10_000); !errors.Is(err, media.ErrNotPending) {
		t.Errorf("second CompleteUpload: %v, want ErrNotPending", err)
	}
	if _, err := store.FailUpload(ctx, v.ID, "x"); !errors.Is(err, media.ErrNotPending) {
		t.Errorf("FailUpload of a ready video: %v, want ErrNotPending", err)
	}
	var stored int64
	db.pool.QueryRow(ctx, `SELECT size_bytes FROM file_storage WHERE video_id = $1`, v.ID).Scan(&stored)
	if stored != 900 {
		t.Errorf("file_storage size %d, want the stored 900", stored)
	}
	// Its base blob is settled once the upload URLs have expired.
	if list, err := store.UnsettledUploads(ctx, time.Now().Add(-time.Hour), 10); err != nil || len(list) != 0 {
		t.Errorf("UnsettledUploads before the cutoff = %+v, %v", list, err)
	}
	list, err := store.UnsettledUploads(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(list) != 1 || list[0] != (media.UnsettledUpload{ID: v.ID, Blob: v.SourceBlob, Snapshot: snap}) {
		t.Fatalf("UnsettledUploads = %+v, %v", list, err)
	}
	if err := store.UploadSettled(ctx, v.ID, snap); err != nil {
		t.Fatal(err)
	}
	if list, err := store.UnsettledUploads(ctx, time.Now().Add(time.Hour), 10); err != nil || len(list) != 0 {
		t.Errorf("UnsettledUploads after UploadSettled = %+v, %v", list, err)
	}
	if got, _ := store.Video(ctx, alice, v.ID); got.SourceSnapshot != snap {
		t.Errorf("settled video reads snapshot %q, want %q", got.SourceSnapshot, snap)
	}

	if err := store.HideUpload(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Video(ctx, alice, v.ID); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("hidden video still visible: %v", err)
	}
	if list, err := store.Videos(ctx, alice, media.Position{}, 10); err != nil || len(list) != 0 {
		t.Errorf("hidden video listed: %v %v", list, err)
	}
	stale, err := store.StaleUploads(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(stale) != 1 || stale[0].ID != v.ID || stale[0].Status != media.StatusCancelled {
		t.Errorf("StaleUploads = %+v, %v", stale, err)
	}
	if err := store.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	var rows int
	db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM videos) + (SELECT count(*) FROM file_storage)`).Scan(&rows)
	if rows != 0 {
		t.Errorf("%d rows left after DeleteVideo", rows)
	}
}

func TestCancelStaleUploadLosesToACompletion(t *testing.T) {
	db := migratedDB(t)
	store := VideoStore{DB: db}
	ctx := t.Context()
	alice := newUser(t, db, "alice@example.com")
	v, err := store.CreateUpload(ctx, newUpload(alice, 10), 100)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := store.CancelStaleUpload(ctx, v.ID, time.Now().Add(-time.Hour)); err != nil || ok {
		t.Errorf("cancelled a fresh upload: %v %v", ok, err)
	}
	if _, err := store.CompleteUpload(ctx, v.ID, "2026-01-02T03:04:05.0000000Z", 10, "video/mp4", 100); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.CancelStaleUpload(ctx, v.ID, time.Now().Add(time.Hour)); err != nil || ok {
		t.Errorf("cancelled a completed upload: %v %v", ok, err)
	}
}
