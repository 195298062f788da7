package posts

import (
	"context"
	"fmt"
	"io"

	sdkblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// BlobRanges reads ranges of the media container's blobs.
type BlobRanges struct {
	Client *container.Client
}

var _ BlobSource = BlobRanges{}

// OpenRange implements BlobSource: one ranged GET, streamed.
func (b BlobRanges) OpenRange(ctx context.Context, name, snapshot string, offset, count int64) (io.ReadCloser, error) {
	c := b.Client.NewBlobClient(name)
	if snapshot != "" {
		var err error
		if c, err = c.WithSnapshot(snapshot); err != nil {
			return nil, fmt.Errorf("blob %s snapshot %s: %w", name, snapshot, err)
		}
	}
	resp, err := c.DownloadStream(ctx, &sdkblob.DownloadStreamOptions{Range: sdkblob.HTTPRange{Offset: offset, Count: count}})
	if err != nil {
		return nil, fmt.Errorf("read blob %s bytes %d+%d: %w", name, offset, count, err)
	}
	return resp.Body, nil
}
