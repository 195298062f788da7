package clips

import (
	"context"

	"github.com/google/uuid"
)

// Job is a clip with what the renderer needs to know about its video.
type Job struct {
	Clip
	VideoStatus    string
	ContentType    string // of the source
	SourceBlob     string
	SourceSnapshot string // the checked snapshot of an upload; "" for an import
}

// Result is a rendered, committed clip.
type Result struct {
	DurationSeconds float64
	Width, Height   int
	Size            int64
	Container       string
	BlobName        string
}

// RenderStore is the persistence the renderer needs; each method is one
// short statement or transaction.
type RenderStore interface {
	// RenderJob returns the clip and its video, or ErrNotFound.
	RenderJob(ctx context.Context, id uuid.UUID) (Job, error)
	// StartRender moves a queued or processing clip to processing under a
	// new attempt number (fencing the attempt before it); ok is false, and
	// nothing changes, in any other state.
	StartRender(ctx context.Context, id uuid.UUID) (a Attempt, ok bool, err error)
	// Status returns the clip's status and current attempt, or ErrNotFound.
	Status(ctx context.Context, id uuid.UUID) (string, Attempt, error)
	// Touch records that attempt a is alive; ErrNotCurrent when it is not
	// the current one any more.
	Touch(ctx context.Context, id uuid.UUID, a Attempt) error
	// FreeBytes returns how much of quotaBytes the user leaves free.
	FreeBytes(ctx context.Context, userID uuid.UUID, quotaBytes int64) (int64, error)
	// Finish marks the clip ready with its file_storage row, atomically,
	// if a is current and the clip in flight (ErrNotCurrent otherwise),
	// and if it fits in quotaBytes (ErrQuota; 0: no quota). ErrNotFound
	// when the clip is gone.
	Finish(ctx context.Context, id uuid.UUID, a Attempt, r Result, quotaBytes int64) error
	// Fail marks the clip failed with a readable message if a is current
	// and the clip in flight; ErrNotCurrent otherwise.
	Fail(ctx context.Context, id uuid.UUID, a Attempt, message string) error
}
