package importer_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/postgres"
)

// gatedStore is the worker's real store with Finish under the test's
// control: Finish can fail (as on a database blip) without reaching
// PostgreSQL, or wait at a gate, and its outcomes are reported.
type gatedStore struct {
	importer.Store
	// before runs first in each Finish; a non-nil error is returned as
	// Finish's, without calling the real Finish.
	before func(ctx context.Context) error
	// finished receives what the real Finish returned.
	finished chan finishResult
}

type finishResult struct {
	done bool
	err  error
}

func (s *gatedStore) Finish(ctx context.Context, id uuid.UUID, a importer.Attempt, r importer.Result, quotaBytes int64) (bool, error) {
	if s.before != nil {
		if err := s.before(ctx); err != nil {
			return false, err
		}
	}
	done, err := s.Store.Finish(ctx, id, a, r, quotaBytes)
	if s.finished != nil {
		s.finished <- finishResult{done, err}
	}
	return done, err
}

// failOnce makes the first Finish fail as a database blip would, after the
// blob was committed.
func failOnce() func(context.Context) error {
	failed := false
	return func(context.Context) error {
		if failed {
			return nil
		}
		failed = true
		return errors.New("finish import: conn closed (test)")
	}
}

// orphanEnv is an importer whose Finish the test controls, the API side of
// imports and the media service, on the same database and container.
type orphanEnv struct {
	*env
	src   *source
	store *gatedStore
	imp   *importer.Importer
	svc   *importer.Service
	media *media.Service
}

const orphanQuota = 64 << 20

func newOrphanEnv(t *testing.T, mediaStore func(postgres.VideoStore) media.Store) *orphanEnv {
	t.Helper()
	src := newSource(t, "")
	e := newEnv(t, []netip.AddrPort{src.addr(t)}, 100<<20)
	logger := slog.New(slog.DiscardHandler)
	gs := &gatedStore{Store: postgres.ImportStore{DB: e.pg}}
	blobs := importer.ContainerBlobs{Client: e.store.Container(), Name: e.store.ContainerName()}
	imp := importer.New(importer.Options{
		MaxBytes: 100 << 20, QuotaBytes: orphanQuota, BlockSize: 1 << 20, InFlight: 3, Allow: []netip.AddrPort{src.addr(t)},
		Sandbox: confined(), ProgressInterval: 50 * time.Millisecond, CancelPoll: 100 * time.Millisecond,
	}, gs, blobs, e.progress, logger)
	svc := importer.NewService(importer.ServiceOptions{Queue: "imports"}, postgres.ImportService{DB: e.pg}, blobs,
		failingSender{}, e.progress, nil, logger)
	signer, err := blob.NewSigner(e.store, blob.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ms media.Store = postgres.VideoStore{DB: e.pg}
	if mediaStore != nil {
		ms = mediaStore(postgres.VideoStore{DB: e.pg})
	}
	m := media.NewService(media.Options{Container: e.store.ContainerName(), UploadMaxBytes: 1 << 20, QuotaBytes: orphanQuota, Logger: logger},
		ms, signer, e.store)
	return &orphanEnv{env: e, src: src, store: gs, imp: imp, svc: svc, media: m}
}

// importCommittedWithoutRow runs an import whose Finish fails once after
// the commit: the delivery asks for a retry, and the blob is stored with
// no file_storage row.
func (o *orphanEnv) importCommittedWithoutRow(t *testing.T) uuid.UUID {
	t.Helper()
	o.store.before = failOnce()
	id := o.queue(o.src.srv.URL + "/video.mp4")
	if err := o.imp.Run(context.Background(), id); err == nil {
		t.Fatal("a failed Finish did not ask for a redelivery")
	}
	if got := o.blobBytes(id); len(got) != len(o.src.mp4) {
		t.Fatalf("committed blob: %d bytes, want %d", len(got), len(o.src.mp4))
	}
	if v := o.video(id); v.Status != "downloading" {
		t.Fatalf("status after the failed Finish: %q", v.Status)
	}
	return id
}

// assertNothingStored checks that the user stores nothing: no blob of the
// video, no file_storage row, the whole quota free.
func (o *orphanEnv) assertNothingStored(t *testing.T, id uuid.UUID) {
	t.Helper()
	if b := o.blobBytes(id); b != nil {
		t.Errorf("the import's blob is still stored (%d bytes)", len(b))
	}
	var rows int
	if err := o.db.QueryRow(context.Background(), `SELECT count(*) FROM file_storage WHERE user_id = $1`, o.user).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d file_storage rows left", rows)
	}
	free, err := postgres.ImportStore{DB: o.pg}.FreeBytes(context.Background(), o.user, uuid.Nil, orphanQuota)
	if err != nil {
		t.Fatal(err)
	}
	if free != orphanQuota {
		t.Errorf("%d of %d quota bytes free", free, orphanQuota)
	}
}

// TestCommittedBlobOfAnImportThatEndsWithoutRowIsDeleted reproduces issue 9
// item 4: the blob is committed, Finish fails, and the import then ends
// cancelled or failed. Observed before: a 3 MB blob, the video cancelled,
// no file_storage row, the bytes stored forever outside the quota.
func TestCommittedBlobOfAnImportThatEndsWithoutRowIsDeleted(t *testing.T) {
	ctx := context.Background()
	t.Run("cancelled through the API, worker gone", func(t *testing.T) {
		o := newOrphanEnv(t, nil)
		id := o.importCommittedWithoutRow(t)
		if err := o.svc.Cancel(ctx, o.user, id); err != nil {
			t.Fatal(err)
		}
		o.assertNothingStored(t, id)
	})
	t.Run("cancelled, then the message is delivered again", func(t *testing.T) {
		o := newOrphanEnv(t, nil)
		id := o.importCommittedWithoutRow(t)
		// As if the API's own deletion had failed.
		if _, err := o.db.Exec(ctx, `UPDATE videos SET status = 'cancelled' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if err := o.imp.Run(ctx, id); err != nil {
			t.Fatal(err)
		}
		o.assertNothingStored(t, id)
	})
	t.Run("permanent failure on the retry", func(t *testing.T) {
		o := newOrphanEnv(t, nil)
		id := o.importCommittedWithoutRow(t)
		// The source is gone by the time the message comes back.
		if _, err := o.db.Exec(ctx, `UPDATE videos SET source_url = $2 WHERE id = $1`, id, o.src.srv.URL+"/missing.mp4"); err != nil {
			t.Fatal(err)
		}
		if err := o.imp.Run(ctx, id); err != nil {
			t.Fatal(err)
		}
		if v := o.video(id); v.Status != "failed" {
			t.Fatalf("status %q", v.Status)
		}
		o.assertNothingStored(t, id)
	})
	t.Run("failed by the sweeper, the message never delivered again", func(t *testing.T) {
		o := newOrphanEnv(t, nil)
		id := o.importCommittedWithoutRow(t)
		now := time.Now()
		if _, err := o.svc.Sweep(ctx, now.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if v := o.video(id); v.Status != "failed" {
			t.Fatalf("status after the sweep: %q", v.Status)
		}
		// A worker may still be writing a failed import for up to an hour:
		// the blob is collected after that.
		if _, err := o.svc.Sweep(ctx, now.Add(6*time.Hour)); err != nil {
			t.Fatal(err)
		}
		o.assertNothingStored(t, id)
	})
}

// TestFinishIsNotAbortedByTheDelivery: once the blob is committed, a
// delivery cancelled at that moment (the host giving up, shutdown) must not
// abort the Finish that records it.
func TestFinishIsNotAbortedByTheDelivery(t *testing.T) {
	o := newOrphanEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.store.before = func(context.Context) error { cancel(); return nil }
	id := o.queue(o.src.srv.URL + "/video.mp4")
	if err := o.imp.Run(ctx, id); err != nil {
		t.Fatalf("run: %v", err)
	}
	if v := o.video(id); v.Status != "ready" {
		t.Errorf("status %q, want ready: the committed import was not recorded", v.Status)
	}
}
