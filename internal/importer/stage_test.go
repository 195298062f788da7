package importer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/videofn/videofn/internal/config"
)

// memBlob is a BlockBlob in memory: it keeps the staged blocks by id.
type memBlob struct {
	mu     sync.Mutex
	blocks map[string][]byte
}

func (b *memBlob) StageBlock(ctx context.Context, id string, body io.ReadSeekCloser, _ *blockblob.StageBlockOptions) (blockblob.StageBlockResponse, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return blockblob.StageBlockResponse{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.blocks == nil {
		b.blocks = map[string][]byte{}
	}
	b.blocks[id] = data
	return blockblob.StageBlockResponse{}, nil
}

func (b *memBlob) CommitBlockList(context.Context, []string, *blockblob.CommitBlockListOptions) (blockblob.CommitBlockListResponse, error) {
	return blockblob.CommitBlockListResponse{}, errors.New("not used")
}

// TestStageAboveTheBlockLimit: with a byte cap above what maxBlocks blocks
// hold (IMPORT_MAX_BYTES set too high), a stream that fits still imports,
// and one that needs more than maxBlocks blocks fails for good (a permanent
// error, recorded on the video) instead of failing the same way on every
// redelivery until the message is dead-lettered.
func TestStageAboveTheBlockLimit(t *testing.T) {
	const blockSize = 4
	capacity := int64(blockSize) * maxBlocks
	t.Run("a stream that fits", func(t *testing.T) {
		blob := &memBlob{}
		st := &stager{blob: blob, blockSize: blockSize, inFlight: 2, maxBytes: capacity * 10}
		ids, n, err := st.stage(context.Background(), strings.NewReader("0123456789"))
		if err != nil || n != 10 || len(ids) != 3 {
			t.Fatalf("got %d ids, %d bytes, %v; want 3 blocks of 10 bytes, no error", len(ids), n, err)
		}
	})
	t.Run("a stream of exactly maxBlocks blocks", func(t *testing.T) {
		st := &stager{blob: &memBlob{}, blockSize: blockSize, inFlight: 2, maxBytes: capacity * 10}
		ids, n, err := st.stage(context.Background(), bytes.NewReader(make([]byte, capacity)))
		if err != nil || n != capacity || len(ids) != maxBlocks {
			t.Fatalf("got %d ids, %d bytes, %v; want %d blocks, no error", len(ids), n, err, maxBlocks)
		}
	})
	t.Run("one byte more", func(t *testing.T) {
		st := &stager{blob: &memBlob{}, blockSize: blockSize, inFlight: 2, maxBytes: capacity * 10}
		_, _, err := st.stage(context.Background(), bytes.NewReader(make([]byte, capacity+1)))
		var perm permanent
		if !errors.As(err, &perm) {
			t.Fatalf("got %v (%T), want a permanent failure", err, err)
		}
		if errors.Is(err, ErrTooLarge) {
			t.Errorf("got ErrTooLarge, which reports the import limit (%d bytes), not the blob's", capacity*10)
		}
	})
}

// TestImportLimitMatchesTheBlockSize keeps config's bound on
// IMPORT_MAX_BYTES equal to what the importer can store by default.
func TestImportLimitMatchesTheBlockSize(t *testing.T) {
	if got := int64(New(Options{}, nil, nil, nil, nil).opts.BlockSize) * maxBlocks; got != config.ImportMaxBytesLimit {
		t.Errorf("default block size x %d = %d, config.ImportMaxBytesLimit = %d", maxBlocks, got, config.ImportMaxBytesLimit)
	}
}
