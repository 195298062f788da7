package importer

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// ContainerBlobs implements Blobs on an azblob container client.
type ContainerBlobs struct {
	Client *container.Client
	Name   string
}

var _ Blobs = ContainerBlobs{}

// BlockBlob implements Blobs.
func (c ContainerBlobs) BlockBlob(name string) BlockBlob { return c.Client.NewBlockBlobClient(name) }

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
