package processing

import (
	"bytes"
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// ContainerBlobs implements Blobs on an azblob container client.
type ContainerBlobs struct {
	Client *container.Client
	Name   string
}

var _ Blobs = ContainerBlobs{}

// PutBlock implements Blobs: Put Block then Put Block List of that one
// block, so the blob is replaced whole or not at all.
func (c ContainerBlobs) PutBlock(ctx context.Context, name, blockID string, data []byte, contentType string) error {
	b := c.Client.NewBlockBlobClient(name)
	if _, err := b.StageBlock(ctx, blockID, streaming.NopCloser(bytes.NewReader(data)), nil); err != nil {
		return fmt.Errorf("stage block: %w", err)
	}
	_, err := b.CommitBlockList(ctx, []string{blockID}, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &contentType},
	})
	if err != nil {
		return fmt.Errorf("commit block list: %w", err)
	}
	return nil
}

// DeleteBlob implements Blobs.
func (c ContainerBlobs) DeleteBlob(ctx context.Context, name string) error {
	_, err := c.Client.NewBlobClient(name).Delete(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// ContainerName implements Blobs.
func (c ContainerBlobs) ContainerName() string { return c.Name }
