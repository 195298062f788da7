package blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	sdkblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/media"
)

// Store implements the blob operations of upload completion, settling and
// deletion.
var _ media.Blobs = (*Store)(nil)

// blobClient is the client of the blob name, or of its snapshot when
// snapshot is not "".
func (s *Store) blobClient(name, snapshot string) (*sdkblob.Client, error) {
	bc := s.container.NewBlobClient(name)
	if snapshot == "" {
		return bc, nil
	}
	sc, err := bc.WithSnapshot(snapshot)
	if err != nil {
		return nil, fmt.Errorf("blob: snapshot client: %w", err)
	}
	return sc, nil
}

// Snapshot takes a snapshot of the blob and returns its id (a time with
// 100 ns resolution, as storage formats it). A snapshot is read-only: a SAS
// for the blob with create and write permission can neither write it nor
// delete it. media.ErrBlobNotFound when no blob was committed under name.
func (s *Store) Snapshot(ctx context.Context, name string) (string, error) {
	resp, err := s.container.NewBlobClient(name).CreateSnapshot(ctx, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return "", media.ErrBlobNotFound
	}
	if err != nil {
		return "", fmt.Errorf("blob: snapshot: %w", err)
	}
	if resp.Snapshot == nil || *resp.Snapshot == "" {
		return "", errors.New("blob: snapshot: storage returned no snapshot id")
	}
	return *resp.Snapshot, nil
}

// DeleteSnapshot deletes one snapshot of the blob. A missing snapshot is
// not an error.
func (s *Store) DeleteSnapshot(ctx context.Context, name, snapshot string) error {
	if snapshot == "" {
		return errors.New("blob: delete snapshot: no snapshot named")
	}
	sc, err := s.blobClient(name, snapshot)
	if err != nil {
		return err
	}
	if _, err := sc.Delete(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("blob: delete snapshot: %w", err)
	}
	return nil
}

// Settle makes the base blob hold exactly the bytes of snapshot again and
// leaves no other snapshot: it breaks any lease on the base blob, deletes
// every snapshot of name but this one, and copies the snapshot over the base
// blob. Promoting a snapshot over its own base blob copies no data and
// costs no capacity: the two share their blocks. Call it only once no SAS
// can write the blob any more, or the holder can undo it again.
// media.ErrBlobNotFound when the snapshot does not exist.
func (s *Store) Settle(ctx context.Context, name, snapshot string) error {
	sc, err := s.blobClient(name, snapshot)
	if err != nil {
		return err
	}
	if _, err := sc.GetProperties(ctx, nil); bloberror.HasCode(err, bloberror.BlobNotFound) {
		return media.ErrBlobNotFound
	} else if err != nil {
		return fmt.Errorf("blob: snapshot properties: %w", err)
	}
	if err := s.breakLease(ctx, name); err != nil {
		return err
	}
	pager := s.container.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:  to.Ptr(name),
		Include: container.ListBlobsInclude{Snapshots: true},
	})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("blob: list snapshots: %w", err)
		}
		for _, item := range page.Segment.BlobItems {
			// The prefix also matches longer names, which are not ours.
			if item.Name == nil || *item.Name != name || item.Snapshot == nil || *item.Snapshot == "" || *item.Snapshot == snapshot {
				continue
			}
			if err := s.DeleteSnapshot(ctx, name, *item.Snapshot); err != nil {
				return err
			}
		}
	}
	resp, err := s.container.NewBlobClient(name).StartCopyFromURL(ctx, sc.URL(), nil)
	if err != nil {
		return fmt.Errorf("blob: restore from snapshot: %w", err)
	}
	// Copies within an account usually finish before the answer; one still
	// pending is left to the next sweep, which copies again.
	if resp.CopyStatus == nil || *resp.CopyStatus != sdkblob.CopyStatusTypeSuccess {
		return fmt.Errorf("blob: restore from snapshot: copy not finished (%v)", resp.CopyStatus)
	}
	return nil
}

// breakLease breaks any lease on the blob immediately. A blob without a
// lease, or no blob at all, is not an error.
func (s *Store) breakLease(ctx context.Context, name string) error {
	id := uuid.NewString() // breaking needs no lease id
	lc, err := lease.NewBlobClient(s.container.NewBlobClient(name), &lease.BlobClientOptions{LeaseID: &id})
	if err != nil {
		return fmt.Errorf("blob: lease client: %w", err)
	}
	_, err = lc.BreakLease(ctx, &lease.BlobBreakOptions{BreakPeriod: to.Ptr(int32(0))})
	if err != nil && !bloberror.HasCode(err, bloberror.LeaseNotPresentWithLeaseOperation, bloberror.BlobNotFound) {
		return fmt.Errorf("blob: break lease: %w", err)
	}
	return nil
}

// Inspect returns the size and the first n bytes (all of them when it is
// shorter) of the blob's snapshot, or of the base blob when snapshot is "".
// media.ErrBlobNotFound when it does not exist.
func (s *Store) Inspect(ctx context.Context, name, snapshot string, n int) (int64, []byte, error) {
	bc, err := s.blobClient(name, snapshot)
	if err != nil {
		return 0, nil, err
	}
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
		if err := s.breakLease(ctx, name); err != nil {
			return err
		}
		_, err = bc.Delete(ctx, opts)
	}
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("blob: delete: %w", err)
	}
	return nil
}

// StagedBlocks returns the uncommitted blocks of the blob, as Get Block List
// lists them; none when the blob does not exist (nothing staged).
func (s *Store) StagedBlocks(ctx context.Context, name string) ([]media.StagedBlock, error) {
	resp, err := s.container.NewBlockBlobClient(name).GetBlockList(ctx, blockblob.BlockListTypeUncommitted, nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("blob: get block list: %w", err)
	}
	var out []media.StagedBlock
	for _, b := range resp.UncommittedBlocks {
		if b == nil || b.Name == nil {
			continue
		}
		var size int64
		if b.Size != nil {
			size = *b.Size
		}
		out = append(out, media.StagedBlock{ID: *b.Name, SizeBytes: size})
	}
	return out, nil
}
