package blob

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	sdkblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/media"
)

// Store implements the blob operations of upload completion and deletion.
var _ media.Blobs = (*Store)(nil)

// Lease durations Blob Storage accepts, besides infinite (-1).
const (
	minLease = 15 * time.Second
	maxLease = 60 * time.Second
)

func (s *Store) leaseClient(name, leaseID string) (*lease.BlobClient, error) {
	return lease.NewBlobClient(s.container.NewBlobClient(name), &lease.BlobClientOptions{LeaseID: &leaseID})
}

// Lock leases the blob for d (clamped to 15-60 s) under a new random lease
// id, which it returns. While the lease lasts, nothing can write or delete
// the blob without that id: not even the holder of an upload SAS.
// media.ErrBlobNotFound when no blob was committed under name,
// media.ErrBlobLocked when it is already leased.
func (s *Store) Lock(ctx context.Context, name string, d time.Duration) (string, error) {
	id := uuid.NewString()
	lc, err := s.leaseClient(name, id)
	if err != nil {
		return "", fmt.Errorf("blob: lease client: %w", err)
	}
	d = min(max(d, minLease), maxLease)
	_, err = lc.AcquireLease(ctx, int32(d/time.Second), nil)
	switch {
	case bloberror.HasCode(err, bloberror.BlobNotFound):
		return "", media.ErrBlobNotFound
	case bloberror.HasCode(err, bloberror.LeaseAlreadyPresent):
		return "", media.ErrBlobLocked
	case err != nil:
		return "", fmt.Errorf("blob: acquire lease: %w", err)
	}
	return id, nil
}

// LockForever turns the lease leaseID into one that never expires. It
// renews the lease first, which storage refuses when the lease expired and
// the blob was written since: what was checked under the lease is then
// still what is stored.
func (s *Store) LockForever(ctx context.Context, name, leaseID string) error {
	lc, err := s.leaseClient(name, leaseID)
	if err != nil {
		return fmt.Errorf("blob: lease client: %w", err)
	}
	if _, err := lc.RenewLease(ctx, nil); err != nil {
		return fmt.Errorf("blob: renew lease: %w", err)
	}
	if _, err := lc.AcquireLease(ctx, -1, nil); err != nil {
		return fmt.Errorf("blob: acquire infinite lease: %w", err)
	}
	return nil
}

// Unlock breaks any lease on the blob immediately. A blob without a lease,
// or no blob at all, is not an error.
func (s *Store) Unlock(ctx context.Context, name string) error {
	lc, err := s.leaseClient(name, uuid.NewString()) // breaking needs no lease id
	if err != nil {
		return fmt.Errorf("blob: lease client: %w", err)
	}
	_, err = lc.BreakLease(ctx, &lease.BlobBreakOptions{BreakPeriod: to.Ptr(int32(0))})
	if err != nil && !bloberror.HasCode(err, bloberror.LeaseNotPresentWithLeaseOperation, bloberror.BlobNotFound) {
		return fmt.Errorf("blob: break lease: %w", err)
	}
	return nil
}

// Inspect returns the blob's size and its first n bytes (all of them when
// it is shorter). media.ErrBlobNotFound when it does not exist.
func (s *Store) Inspect(ctx context.Context, name string, n int) (int64, []byte, error) {
	bc := s.container.NewBlobClient(name)
	props, err := bc.GetProperties(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return 0, nil, media.ErrBlobNotFound
	}
	if err != nil {
		return 0, nil, fmt.Errorf("blob: get properties: %w", err)
	}
	var size int64
	if props.ContentLength != nil {
		size = *props.ContentLength
	}
	if size == 0 || n <= 0 {
		return size, nil, nil
	}
	resp, err := bc.DownloadStream(ctx, &sdkblob.DownloadStreamOptions{
		Range: sdkblob.HTTPRange{Offset: 0, Count: int64(n)},
	})
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return 0, nil, media.ErrBlobNotFound
	}
	if err != nil {
		return 0, nil, fmt.Errorf("blob: download head: %w", err)
	}
	defer resp.Body.Close()
	head, err := io.ReadAll(io.LimitReader(resp.Body, int64(n)))
	if err != nil {
		return 0, nil, fmt.Errorf("blob: read head: %w", err)
	}
	return size, head, nil
}

// Delete deletes the blob and its snapshots, breaking a lease if there is
// one. Deleting a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, name string) error {
	bc := s.container.NewBlobClient(name)
	opts := &sdkblob.DeleteOptions{DeleteSnapshots: to.Ptr(sdkblob.DeleteSnapshotsOptionTypeInclude)}
	_, err := bc.Delete(ctx, opts)
	if bloberror.HasCode(err, bloberror.LeaseIDMissing) {
		if err := s.Unlock(ctx, name); err != nil {
			return err
		}
		_, err = bc.Delete(ctx, opts)
	}
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("blob: delete: %w", err)
	}
	return nil
}
