package importer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// BlockBlob is the part of *blockblob.Client the stager uses.
type BlockBlob interface {
	StageBlock(ctx context.Context, base64BlockID string, body io.ReadSeekCloser, options *blockblob.StageBlockOptions) (blockblob.StageBlockResponse, error)
	CommitBlockList(ctx context.Context, base64BlockIDs []string, options *blockblob.CommitBlockListOptions) (blockblob.CommitBlockListResponse, error)
}

var _ BlockBlob = (*blockblob.Client)(nil)

// maxBlocks is Blob Storage's limit of committed blocks per blob.
const maxBlocks = 50_000

// defaultBlockSize is the block size unless Options.BlockSize says
// otherwise: with maxBlocks, a blob of up to ~390 GiB
// (config.ImportMaxBytesLimit).
const defaultBlockSize = 8 << 20

// blockID returns the base64 ID of block i of attempt a: "at", the attempt
// (8 bytes) and i (4 bytes), big-endian. Within an attempt the IDs are
// deterministic; two attempts never share one, so an attempt cannot
// overwrite the blocks another staged into the same blob. Blob Storage
// requires every block ID of a blob to have the same length: these are 14
// bytes (20 base64 characters) whatever a and i, the length of the
// "block-%08d" IDs used before, so blocks left by an older import in flight
// do not make the blob refuse the new ones.
func blockID(a Attempt, i int) string {
	raw := binary.BigEndian.AppendUint64([]byte("at"), uint64(a))
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(raw, uint32(i)))
}

// ErrTooLarge is returned when the stream passes the byte cap.
var ErrTooLarge = errors.New("the media is larger than the import limit")

// stager reads a stream in blocks and stages them, several at once.
type stager struct {
	blob BlockBlob
	// attempt is in the block IDs (blockID).
	attempt   Attempt
	blockSize int
	inFlight  int
	maxBytes  int64
	// onStaged is called after each block is acknowledged by storage, with
	// the total acknowledged so far.
	onStaged func(acked int64)
}

// stage reads r to the end (or to the cap) and stages every block. It
// returns the block IDs in order and the number of bytes staged. Memory is
// bounded by (inFlight+1) x blockSize. A stream longer than maxBytes fails
// with ErrTooLarge; one that would need more than maxBlocks blocks (when
// maxBytes is above what a blob can hold) fails for good with a permanent
// error: retrying could never store it.
func (s *stager) stage(ctx context.Context, r io.Reader) ([]string, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	buffers := make(chan []byte, s.inFlight+1)
	for range s.inFlight + 1 {
		buffers <- make([]byte, s.blockSize)
	}
	sem := make(chan struct{}, s.inFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked int64

	var ids []string
	var total int64
	var readErr error
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			break
		}
		var buf []byte
		select {
		case buf = <-buffers:
		case <-ctx.Done():
		}
		if buf == nil {
			break
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			total += int64(n)
			if total > s.maxBytes {
				readErr = ErrTooLarge
				buffers <- buf
				break
			}
			if len(ids) == maxBlocks {
				readErr = permanent{fmt.Sprintf("the media is larger than the %d bytes one stored video can hold", int64(s.blockSize)*maxBlocks)}
				buffers <- buf
				break
			}
			id := blockID(s.attempt, i)
			ids = append(ids, id)
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem; buffers <- buf }()
				body := readSeekNopCloser{bytes.NewReader(buf[:n])}
				if _, err := s.blob.StageBlock(ctx, id, body, nil); err != nil {
					cancel(fmt.Errorf("stage block %d: %w", i, err))
					return
				}
				mu.Lock()
				acked += int64(n)
				a := acked
				mu.Unlock()
				if s.onStaged != nil {
					s.onStaged(a)
				}
			})
		} else {
			buffers <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("read media: %w", err)
			break
		}
	}
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return nil, total, cause
	}
	if readErr != nil {
		return nil, total, readErr
	}
	if err := ctx.Err(); err != nil {
		return nil, total, err
	}
	return ids, total, nil
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

// StageOptions configure Stage.
type StageOptions struct {
	// Attempt is in the block IDs: blocks of two attempts never collide.
	Attempt   int64
	BlockSize int // default 8 MiB
	InFlight  int // blocks staged at once, default 4
	// MaxBytes caps the stream: past it Stage fails with ErrTooLarge.
	MaxBytes int64
	// OnStaged is called after each block is acknowledged, with the total
	// acknowledged so far.
	OnStaged func(acked int64)
}

// Stage reads r to the end and stages it into blob in blocks, the way the
// importer does (other workers that stream a pipe into a blob share it). It
// returns the block IDs to commit, in order, and the bytes staged.
func Stage(ctx context.Context, blob BlockBlob, r io.Reader, o StageOptions) ([]string, int64, error) {
	if o.BlockSize == 0 {
		o.BlockSize = defaultBlockSize
	}
	if o.InFlight == 0 {
		o.InFlight = 4
	}
	st := &stager{blob: blob, attempt: Attempt(o.Attempt), blockSize: o.BlockSize, inFlight: o.InFlight,
		maxBytes: o.MaxBytes, onStaged: o.OnStaged}
	return st.stage(ctx, r)
}
