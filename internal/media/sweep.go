package media

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// sweepBatch bounds the uploads one sweep cleans up, so that a backlog is
// worked off over several timer runs instead of overrunning one.
const sweepBatch = 200

// SweepUploads cleans up uploads whose upload URL expired more than the
// sweep margin ago (that is, no longer than 15 + 15 minutes after the URL
// was issued, by default):
//   - pending uploads never completed: blob and rows are deleted;
//   - uploads deleted by their owner while the URL was valid (hidden): the
//     blob is deleted again, in case it was rewritten, then the rows;
//   - refused uploads: the blob is deleted again and the file_storage row
//     dropped; the failed video stays for its owner to see;
//   - completed uploads: whatever the upload URL did to the base blob after
//     completion is undone (Blobs.Settle: other snapshots deleted, the
//     checked snapshot copied back over the base blob), so that nothing
//     written outside the checks stays stored; the video keeps reading its
//     snapshot.
//
// It returns how many videos it cleaned up. A failure on one video does not
// stop the others; the errors are returned together and the work is
// retried by the next sweep.
func (s *Service) SweepUploads(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-(s.opts.UploadURLTTL + clockSkew + s.opts.SweepMargin))
	stale, err := s.store.StaleUploads(ctx, cutoff, sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("list stale uploads: %w", err)
	}
	unsettled, err := s.store.UnsettledUploads(ctx, cutoff, sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("list unsettled uploads: %w", err)
	}
	var errs []error
	done := 0
	for _, u := range unsettled {
		if err := s.settle(ctx, u); err != nil {
			errs = append(errs, fmt.Errorf("video %s: %w", u.ID, err))
			continue
		}
		done++
	}
	for _, u := range stale {
		ok, err := s.sweep(ctx, u, cutoff)
		if err != nil {
			errs = append(errs, fmt.Errorf("video %s: %w", u.ID, err))
			continue
		}
		if ok {
			done++
		}
	}
	return done, errors.Join(errs...)
}

func (s *Service) sweep(ctx context.Context, u StaleUpload, cutoff time.Time) (bool, error) {
	if u.Status == StatusPendingUpload {
		// Claim it first, so that a completion running now either finishes
		// before (and the video is kept) or finds it gone.
		claimed, err := s.store.CancelStaleUpload(ctx, u.ID, cutoff)
		if err != nil || !claimed {
			return false, err
		}
	}
	if err := s.deleteBlobs(ctx, u.ID); err != nil {
		return false, err
	}
	if u.Status == StatusFailed {
		return true, s.store.ForgetBlobs(ctx, u.ID)
	}
	if err := s.store.DeleteVideo(ctx, u.ID); err != nil {
		return false, err
	}
	s.opts.Logger.Info("stale upload removed", "video_id", u.ID, "status", u.Status)
	return true, nil
}

// settle restores the base blob of a completed upload from its snapshot and
// clears the flag. A snapshot that is gone means the video was deleted
// meanwhile (deletion removes every snapshot): nothing is left to settle.
func (s *Service) settle(ctx context.Context, u UnsettledUpload) error {
	err := s.blobs.Settle(ctx, u.Blob, u.Snapshot)
	if err != nil && !errors.Is(err, ErrBlobNotFound) {
		return fmt.Errorf("settle blob: %w", err)
	}
	if err := s.store.UploadSettled(ctx, u.ID, u.Snapshot); err != nil {
		return err
	}
	s.opts.Logger.Info("completed upload settled", "video_id", u.ID)
	return nil
}
