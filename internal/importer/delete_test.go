package importer_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/postgres"
)

// gatedVideoStore holds media's Delete right after it listed the video's
// blobs, until the test lets it go on.
type gatedVideoStore struct {
	postgres.VideoStore
	listed  chan struct{}
	proceed chan struct{}
}

func (s *gatedVideoStore) BlobNames(ctx context.Context, id uuid.UUID) ([]string, error) {
	names, err := s.VideoStore.BlobNames(ctx, id)
	s.listed <- struct{}{}
	<-s.proceed
	return names, err
}

// TestDeleteOfAnImportRacingFinish reproduces issue 9 item 5: deleting a
// downloading import lists its blobs, the worker commits and records its
// file_storage row, then the rows are deleted. Observed before: 204, no
// rows, the blob still stored.
func TestDeleteOfAnImportRacingFinish(t *testing.T) {
	ctx := context.Background()
	t.Run("Finish between the listing and the deletion of the rows", func(t *testing.T) {
		gv := &gatedVideoStore{listed: make(chan struct{}), proceed: make(chan struct{})}
		o := newOrphanEnv(t, func(s postgres.VideoStore) media.Store { gv.VideoStore = s; return gv })
		atFinish, goOn := make(chan struct{}), make(chan struct{})
		o.store.before = func(context.Context) error { close(atFinish); <-goOn; return nil }
		o.store.finished = make(chan finishResult, 1)
		id := o.queue(o.src.srv.URL + "/video.mp4")
		ran := make(chan error, 1)
		go func() { ran <- o.imp.Run(ctx, id) }()
		<-atFinish // the blob is committed
		deleted := make(chan error, 1)
		go func() { deleted <- o.media.Delete(ctx, o.user, id) }()
		<-gv.listed
		close(goOn) // the worker finishes while Delete holds its list
		if err := <-ran; err != nil {
			t.Fatalf("run: %v", err)
		}
		if f := <-o.store.finished; f.done || f.err != nil {
			t.Errorf("Finish of a video being deleted: done=%v err=%v, want not done", f.done, f.err)
		}
		close(gv.proceed)
		if err := <-deleted; err != nil {
			t.Fatal(err)
		}
		assertGone(t, o, id)
	})
	t.Run("worker held before Finish, Delete runs through", func(t *testing.T) {
		o := newOrphanEnv(t, nil)
		atFinish, goOn := make(chan struct{}), make(chan struct{})
		o.store.before = func(context.Context) error { close(atFinish); <-goOn; return nil }
		o.store.finished = make(chan finishResult, 1)
		id := o.queue(o.src.srv.URL + "/video.mp4")
		ran := make(chan error, 1)
		go func() { ran <- o.imp.Run(ctx, id) }()
		<-atFinish
		if err := o.media.Delete(ctx, o.user, id); err != nil {
			t.Fatal(err)
		}
		close(goOn)
		if err := <-ran; err != nil {
			t.Fatalf("run: %v", err)
		}
		if f := <-o.store.finished; f.done || f.err != nil {
			t.Errorf("Finish of a deleted video: done=%v err=%v, want not done", f.done, f.err)
		}
		assertGone(t, o, id)
	})
	t.Run("blob committed without a row", func(t *testing.T) {
		o := newOrphanEnv(t, nil)
		id := o.importCommittedWithoutRow(t)
		if err := o.media.Delete(ctx, o.user, id); err != nil {
			t.Fatal(err)
		}
		assertGone(t, o, id)
	})
}

func assertGone(t *testing.T, o *orphanEnv, id uuid.UUID) {
	t.Helper()
	var videos int
	if err := o.db.QueryRow(context.Background(), `SELECT count(*) FROM videos WHERE id = $1`, id).Scan(&videos); err != nil {
		t.Fatal(err)
	}
	if videos != 0 {
		t.Errorf("the video row is still there")
	}
	o.assertNothingStored(t, id)
}
