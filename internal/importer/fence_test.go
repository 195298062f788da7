package importer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/postgres"
)

// importerOn returns an importer of e's services on db whose yt-dlp waits
// on a silent source for as long as a test holds it.
func (e *env) importerOn(db *postgres.DB, allow []netip.AddrPort) *importer.Importer {
	return importer.New(importer.Options{
		MaxBytes: 100 << 20, BlockSize: 1 << 20, InFlight: 3, Allow: allow, Sandbox: confined(),
		ProgressInterval: 50 * time.Millisecond, CancelPoll: 100 * time.Millisecond,
		SocketTimeout: 10 * time.Minute,
	}, postgres.ImportStore{DB: db}, importer.ContainerBlobs{Client: e.store.Container(), Name: e.store.ContainerName()}, e.progress,
		slog.New(slog.DiscardHandler))
}

// waitStaging waits until the import has staged bytes; it fails the test
// when the run ends first or nothing is staged within a minute (a safety
// net for a hung import, not a measurement).
func (e *env) waitStaging(id uuid.UUID, done <-chan error) {
	e.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if p, ok, _ := e.progress.Get(context.Background(), id); ok && p.BytesUploaded > 0 {
			return
		}
		select {
		case err := <-done:
			e.t.Fatalf("import %s ended before staging anything: %v", id, err)
		case <-deadline:
			e.t.Fatalf("import %s staged nothing within 60 s", id)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestSupersededAttemptStopsAndKeepsTheWinnersBlob reproduces issue 9's
// first item: attempt A loses its database session mid-import and a second
// delivery (the queue's lock was lost too) starts attempt B. Before, A
// (whose advisory lock had gone with its session) kept running, committed
// and finished; B then committed the same block IDs, found the video ready
// and deleted the blob: a ready video with a file_storage row and no bytes.
// Now B's attempt fences A: A stops on its own (its source still holding
// it half-way) and touches nothing, and the video B finishes keeps exactly
// the source bytes. The same holds for any second delivery while A runs
// (the newest delivery takes the import over).
func TestSupersededAttemptStopsAndKeepsTheWinnersBlob(t *testing.T) {
	src := newSource(t, "")
	e := newEnv(t, []netip.AddrPort{src.addr(t)}, 100<<20)
	imp := e.importerOn(e.pg, []netip.AddrPort{src.addr(t)})
	ctx := context.Background()
	id := e.queue(src.srv.URL + "/slow.mp4")

	a := make(chan error, 1)
	go func() { a <- imp.Run(ctx, id) }()
	e.waitStaging(id, a)
	releaseA := src.splitGate() // B's requests wait at a gate of their own

	// A's session ends (server restart, reset connection): before the fix
	// this released A's advisory lock; now no session holds anything.
	const advisory = `FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
	if _, err := e.db.Exec(ctx, `SELECT pg_terminate_backend(pid) `+advisory); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		var held int
		if err := e.db.QueryRow(ctx, `SELECT count(*) `+advisory).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the terminated session still holds its advisory lock after 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b := make(chan error, 1)
	go func() { b <- imp.Run(ctx, id) }()

	select {
	case err := <-a:
		if err != nil {
			t.Errorf("the superseded attempt asked for redelivery: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("the superseded attempt A did not stop within 60 s of attempt B's start")
		releaseA() // let A run to its end, as it did before the fence
		if err := <-a; err != nil {
			t.Logf("attempt A: %v", err)
		}
	}
	releaseA()
	if v := e.video(id); v.Status != "downloading" {
		t.Errorf("after attempt A ended: %+v, want still downloading (attempt B's)", v)
	}

	src.release()
	select {
	case err := <-b:
		if err != nil {
			t.Fatalf("attempt B: %v", err)
		}
	case <-time.After(120 * time.Second):
		t.Fatal("attempt B did not finish within 120 s")
	}
	v := e.video(id)
	if v.Status != "ready" || v.Size != int64(len(src.big)) {
		t.Errorf("video %+v, want ready with %d bytes", v, len(src.big))
	}
	if got := e.blobBytes(id); !bytes.Equal(got, src.big) {
		t.Errorf("the ready video's blob has %d bytes, want exactly the %d source bytes", len(got), len(src.big))
	}
	var rows int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM file_storage WHERE video_id = $1 AND size_bytes = $2`, id, len(src.big)).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("file_storage rows: %d %v", rows, err)
	}
}

// TestImportsShareAOneConnectionPool reproduces issue 9's second item: the
// advisory lock held a pooled connection for the whole import while
// StartDownload needed another, so with pool_max_conns no larger than the
// imports running, every import waited for a connection (observed: forever;
// with the pool's 15 s bound, the imports failed instead). An import now
// needs one connection at a time, for one short statement.
func TestImportsShareAOneConnectionPool(t *testing.T) {
	src := newSource(t, "")
	e := newEnv(t, []netip.AddrPort{src.addr(t)}, 100<<20)
	ctx := context.Background()
	u, err := url.Parse(e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	imp := e.importerOn(db, []netip.AddrPort{src.addr(t)})

	ids := []uuid.UUID{e.queue(src.srv.URL + "/slow.mp4"), e.queue(src.srv.URL + "/slow.mp4")}
	done := []chan error{make(chan error, 1), make(chan error, 1)}
	for i, id := range ids {
		go func() { done[i] <- imp.Run(ctx, id) }()
	}
	// Both are in flight at once (the source holds each half-way).
	for i, id := range ids {
		e.waitStaging(id, done[i])
	}
	src.release()
	for i, id := range ids {
		select {
		case err := <-done[i]:
			if err != nil {
				t.Errorf("import %d: %v", i, err)
			}
		case <-time.After(120 * time.Second):
			t.Fatalf("import %d did not finish within 120 s: deadlocked on the pool", i)
		}
		if v := e.video(id); v.Status != "ready" || !bytes.Equal(e.blobBytes(id), src.big) {
			t.Errorf("import %d: %+v", i, v)
		}
	}
}

// TestOnlyTheCurrentAttemptCounts: each StartDownload of a queued or
// downloading import hands out a new attempt, which fences the one before;
// an attempt that is no longer current changes nothing and is told so.
func TestOnlyTheCurrentAttemptCounts(t *testing.T) {
	e := newEnv(t, nil, 1<<20)
	ctx := context.Background()
	store := postgres.ImportStore{DB: e.pg}
	res := importer.Result{Title: "t", ContentType: "video/mp4", Size: 10, Container: "videos", BlobName: "b"}
	id := e.queue("https://videos.example.com/v.mp4")

	a1, ok, err := store.StartDownload(ctx, id)
	if err != nil || !ok {
		t.Fatalf("first attempt: %v %v", ok, err)
	}
	a2, ok, err := store.StartDownload(ctx, id)
	if err != nil || !ok || a2 == a1 {
		t.Fatalf("second delivery: %v %v %v (first %v), want a new attempt", a2, ok, err, a1)
	}
	if status, cur, err := store.Status(ctx, id); err != nil || status != "downloading" || cur != a2 {
		t.Errorf("status %q attempt %v %v, want downloading, %v", status, cur, err, a2)
	}
	if err := store.Touch(ctx, id, a1); !errors.Is(err, importer.ErrNotCurrent) {
		t.Errorf("Touch by the superseded attempt: %v", err)
	}
	if err := store.Fail(ctx, id, a1, "x"); !errors.Is(err, importer.ErrNotCurrent) {
		t.Errorf("Fail by the superseded attempt: %v", err)
	}
	if done, err := store.Finish(ctx, id, a1, res, 0); done || !errors.Is(err, importer.ErrNotCurrent) {
		t.Errorf("Finish by the superseded attempt: %v %v", done, err)
	}
	if v := e.video(id); v.Status != "downloading" {
		t.Fatalf("after the superseded attempt's calls: %+v", v)
	}
	if err := store.Touch(ctx, id, a2); err != nil {
		t.Errorf("Touch by the current attempt: %v", err)
	}
	if done, err := store.Finish(ctx, id, a2, res, 0); !done || err != nil {
		t.Fatalf("Finish by the current attempt: %v %v", done, err)
	}
	// The winner finished: the loser learns it is not current (so it
	// deletes nothing), and the import never starts again.
	if done, err := store.Finish(ctx, id, a1, res, 0); done || !errors.Is(err, importer.ErrNotCurrent) {
		t.Errorf("late Finish by the superseded attempt: %v %v", done, err)
	}
	if err := store.Fail(ctx, id, a2, "x"); !errors.Is(err, importer.ErrNotCurrent) {
		t.Errorf("Fail after the finish: %v", err)
	}
	if _, ok, _ := store.StartDownload(ctx, id); ok {
		t.Error("a ready import started again")
	}
	if v := e.video(id); v.Status != "ready" {
		t.Errorf("%+v", v)
	}
}
