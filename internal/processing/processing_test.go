package processing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/jobs"
	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/processing"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/sandbox"
	"github.com/videofn/videofn/internal/testenv"
	"github.com/videofn/videofn/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { mediatest.MainWithHandler(m) }

const processingQueue = "video-processing"

// env is PostgreSQL, Azurite, the media service (uploads) and the
// video-processor fed by the local queue, as the handler wires them.
type env struct {
	t      *testing.T
	db     *pgx.Conn
	store  *blob.Store
	media  *media.Service
	local  *queue.Local
	probes processing.Queue
	sweep  *processing.Sweeper
	user   uuid.UUID
	// handled receives the outcome of every delivery the consumer made.
	handled chan delivery
}

type delivery struct {
	videoID uuid.UUID
	err     error
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dbURL, db := pgtest.Migrated(t)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureContainer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Container().Delete(context.Background(), nil) })
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	local := queue.NewLocal(db.Pool(), logger)
	probes := processing.Queue{Sender: local, Name: processingQueue}
	svc := media.NewService(media.Options{Container: store.ContainerName(), UploadMaxBytes: 1 << 30, QuotaBytes: 1 << 32,
		Probes: probes, Logger: logger}, postgres.VideoStore{DB: db}, signer, store)
	tools, err := mediatool.New(mediatool.Options{Storage: store.Container().URL(), Sandbox: sandbox.Launcher{Self: mediatest.HandlerBinary()}.Wrap})
	if err != nil {
		t.Fatal(err)
	}
	pstore := postgres.ProcessingStore{DB: db}
	dispatcher := &processing.Dispatcher{
		Probes: processing.New(processing.Options{}, pstore, signer,
			processing.ContainerBlobs{Client: store.Container(), Name: store.ContainerName()}, tools, logger),
		Logger: logger,
	}
	e := &env{t: t, db: conn, store: store, media: svc, local: local, probes: probes, user: uuid.Nil,
		sweep: &processing.Sweeper{Store: pstore, Queue: probes}, handled: make(chan delivery, 16)}
	h := jobs.LocalHandler(dispatcher)
	consumeCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		local.Consume(consumeCtx, processingQueue, func(ctx context.Context, d queue.Delivery) error {
			err := h(ctx, d)
			msg, _ := httpapi.DecodeQueueMessage(d.Body)
			e.handled <- delivery{videoID: msg.VideoID, err: err}
			return err
		}, queue.ConsumerOptions{Poll: 50 * time.Millisecond, Backoff: func(int) time.Duration { return 50 * time.Millisecond }})
	}()
	t.Cleanup(func() { stop(); <-done })
	if err := conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ('proc@example.com') RETURNING id`).Scan(&e.user); err != nil {
		t.Fatal(err)
	}
	return e
}

// upload plays a direct upload of data through the media service, which
// sends the probe when it completes.
func (e *env) upload(data []byte) uuid.UUID {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.media.StartUpload(ctx, e.user, media.UploadRequest{Filename: "clip.mp4", ContentType: "video/mp4", SizeBytes: int64(len(data))})
	if err != nil {
		e.t.Fatal(err)
	}
	if status, body, err := mediatest.Upload(http.DefaultClient, u.URL, data, 4<<20, "video/mp4"); err != nil || status != http.StatusCreated {
		e.t.Fatalf("upload: %d %s %v", status, body, err)
	}
	v, err := e.media.CompleteUpload(ctx, e.user, u.Video.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if v.Status != media.StatusReady || v.ProcessingStatus != processing.StatusPending {
		e.t.Fatalf("completed video: status %q, processing %q; want ready, pending", v.Status, v.ProcessingStatus)
	}
	return v.ID
}

// await waits for the consumer to handle a message for id and fails on an
// error (a transient failure would be redelivered, which these tests do
// not expect).
func (e *env) await(id uuid.UUID) {
	e.t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case d := <-e.handled:
			if d.videoID != id {
				continue
			}
			if d.err != nil {
				e.t.Fatalf("processing %s asked for redelivery: %v", id, d.err)
			}
			return
		case <-timeout:
			e.t.Fatalf("no delivery for %s within 2 min", id)
		}
	}
}

// row is what the video row says about processing.
type row struct {
	Status, Error          string
	Attempt                int64
	Duration, FrameRate    *float64
	Width, Height          *int
	Size, BitRate          *int64
	VideoCodec, AudioCodec *string
}

func (e *env) video(id uuid.UUID) row {
	e.t.Helper()
	var r row
	err := e.db.QueryRow(context.Background(), `
		SELECT coalesce(processing_status, ''), coalesce(processing_error, ''), processing_attempt, duration_seconds,
			frame_rate, width, height, size_bytes, bit_rate, video_codec, audio_codec
		FROM videos WHERE id = $1`, id).Scan(&r.Status, &r.Error, &r.Attempt, &r.Duration, &r.FrameRate,
		&r.Width, &r.Height, &r.Size, &r.BitRate, &r.VideoCodec, &r.AudioCodec)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// posters counts the video's poster blobs and thumbnail rows.
func (e *env) posters(id uuid.UUID) (blobs int, rows int) {
	e.t.Helper()
	ctx := context.Background()
	name := processing.PosterBlobName(e.user, id)
	pager := e.store.Container().NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &name})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		blobs += len(page.Segment.BlobItems)
	}
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM file_storage WHERE video_id = $1 AND kind = 'thumbnail'`, id).Scan(&rows); err != nil {
		e.t.Fatal(err)
	}
	return blobs, rows
}

// fixture is a 3 s 320x240 H.264 + AAC MP4 and ffprobe's duration of it,
// run directly on the local file.
func fixture(t *testing.T) ([]byte, float64) {
	t.Helper()
	path := mediatest.ThreeSecondMP4(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, mediatest.Duration(t, path)
}

func TestProbeAndPosterThroughTheQueue(t *testing.T) {
	e := newEnv(t)
	data, duration := fixture(t)
	id := e.upload(data)
	e.await(id)

	r := e.video(id)
	if r.Status != processing.StatusDone || r.Error != "" {
		t.Fatalf("processing %q (%q), want done", r.Status, r.Error)
	}
	if r.Duration == nil || math.Abs(*r.Duration-duration) > 0.1 {
		t.Errorf("duration %v, want %v ± 0.1 (ffprobe on the local file)", r.Duration, duration)
	}
	got := fmt.Sprint(*r.Size, *r.Width, *r.Height, *r.VideoCodec, *r.AudioCodec, *r.FrameRate)
	if want := fmt.Sprint(len(data), 320, 240, "h264", "aac", 25.0); got != want {
		t.Errorf("size width height codecs frame rate = %s, want %s", got, want)
	}
	if r.BitRate == nil || *r.BitRate <= 0 {
		t.Errorf("bit rate %v, want > 0", r.BitRate)
	}

	// The API's video carries a read URL of the poster, a decodable JPEG
	// of the video's size or smaller.
	v, _, err := e.media.Video(context.Background(), e.user, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.ThumbnailURL == "" {
		t.Fatal("the processed video has no thumbnail URL")
	}
	resp, err := http.Get(v.ThumbnailURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("GET thumbnail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := jpeg.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the poster is not a JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() > 320 || b.Dy() > 240 || b.Dx() == 0 {
		t.Errorf("poster %dx%d, want at most 320x240", b.Dx(), b.Dy())
	}
	var rowSize int64
	if err := e.db.QueryRow(context.Background(), `SELECT size_bytes FROM file_storage WHERE video_id = $1 AND kind = 'thumbnail'`, id).Scan(&rowSize); err != nil || rowSize != int64(len(body)) {
		t.Errorf("thumbnail row size %d (%v), want the blob's %d (counted in the quota)", rowSize, err, len(body))
	}

	t.Run("redelivery does no double work", func(t *testing.T) {
		// The same message delivered again (a new MessageId, so the
		// queue does not drop it as a duplicate).
		body, _ := json.Marshal(httpapi.QueueMessage{VideoID: id, Task: processing.TaskProbe})
		if err := e.local.Send(context.Background(), processingQueue, queue.Message{ID: "redelivery:" + id.String(), Body: body}); err != nil {
			t.Fatal(err)
		}
		e.await(id)
		if again := e.video(id); again.Attempt != r.Attempt || again.Status != processing.StatusDone {
			t.Errorf("after redelivery: attempt %d status %q, want %d done (nothing run again)", again.Attempt, again.Status, r.Attempt)
		}
		if blobs, rows := e.posters(id); blobs != 1 || rows != 1 {
			t.Errorf("%d poster blobs, %d thumbnail rows; want 1, 1", blobs, rows)
		}
	})
	t.Run("a sweeper resend of pending processing leaves one poster", func(t *testing.T) {
		// As if the done were lost: pending again since long ago.
		if _, err := e.db.Exec(context.Background(), `
			UPDATE videos SET processing_status = 'pending', processing_updated_at = now() - interval '1 hour' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		sum, err := e.sweep.Sweep(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		e.await(id)
		again := e.video(id)
		if again.Status != processing.StatusDone || again.Attempt != r.Attempt+1 {
			t.Errorf("after the sweeper (%s): status %q attempt %d, want done, %d", sum, again.Status, again.Attempt, r.Attempt+1)
		}
		if blobs, rows := e.posters(id); blobs != 1 || rows != 1 {
			t.Errorf("%d poster blobs, %d thumbnail rows; want 1, 1", blobs, rows)
		}
	})
	t.Run("deleting the video deletes its poster", func(t *testing.T) {
		if err := e.media.Delete(context.Background(), e.user, id); err != nil {
			t.Fatal(err)
		}
		// The rows of an upload whose upload URL may still be valid stay
		// (hidden) until the sweeper; the blobs go at once.
		if blobs, _ := e.posters(id); blobs != 0 {
			t.Errorf("%d poster blobs after the deletion; want none", blobs)
		}
	})
}

// stored writes data straight to a blob as a ready video's source (what
// no upload's first-bytes check would let through) and sends its probe.
func (e *env) stored(data []byte) uuid.UUID {
	e.t.Helper()
	ctx := context.Background()
	id := uuid.New()
	name := e.user.String() + "/" + id.String() + "/source"
	if _, err := e.store.Container().NewBlockBlobClient(name).UploadBuffer(ctx, data, nil); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.Exec(ctx, `
		WITH v AS (
			INSERT INTO videos (id, user_id, source, status, content_type, size_bytes, processing_status, processing_updated_at)
			VALUES ($1, $2, 'upload', 'ready', 'video/mp4', $5, 'pending', now()) RETURNING id
		)
		INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
		SELECT $2, id, 'source', $3, $4, 'video/mp4', $5 FROM v`, id, e.user, e.store.ContainerName(), name, len(data)); err != nil {
		e.t.Fatal(err)
	}
	if err := e.probes.EnqueueProbe(ctx, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestUnreadableVideoFailsWithAReason(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name  string
		video func() uuid.UUID
	}{
		// Passes completion's first-bytes check (an ftyp box), then garbage.
		{"an ftyp box then garbage, uploaded", func() uuid.UUID { return e.upload(mediatest.MP4Like(256 << 10)) }},
		{"a text file stored as a video", func() uuid.UUID {
			return e.stored(bytes.Repeat([]byte("this is a text file, not a video\n"), 1000))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := c.video()
			e.await(id)
			r := e.video(id)
			if r.Status != processing.StatusFailed || r.Error == "" {
				t.Fatalf("processing %q (%q), want failed with a reason", r.Status, r.Error)
			}
			t.Logf("processing_error: %s", r.Error)
			if r.Duration != nil || r.Width != nil || r.VideoCodec != nil {
				t.Errorf("metadata written for an unreadable video: %+v", r)
			}
			if blobs, rows := e.posters(id); blobs != 0 || rows != 0 {
				t.Errorf("%d poster blobs, %d thumbnail rows; want none", blobs, rows)
			}
			v, _, err := e.media.Video(context.Background(), e.user, id)
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != media.StatusReady || v.ProcessingError != r.Error || v.ThumbnailURL != "" {
				t.Errorf("API video: status %q, processing error %q, thumbnail %q; want ready (still playable), the reason, none", v.Status, v.ProcessingError, v.ThumbnailURL)
			}
		})
	}
}

func TestDispatcherAcknowledgesWhatItCannotProcess(t *testing.T) {
	d := &processing.Dispatcher{Probes: nil, Logger: slog.New(slog.DiscardHandler)}
	clip := uuid.New()
	for _, c := range []struct {
		name    string
		msg     httpapi.QueueMessage
		wantErr bool
	}{
		{"unknown task", httpapi.QueueMessage{VideoID: uuid.New(), Task: "transcode"}, false},
		{"clip without clip_id", httpapi.QueueMessage{VideoID: uuid.New(), Task: "clip"}, false},
		{"clip without a renderer is redelivered", httpapi.QueueMessage{VideoID: uuid.New(), Task: "clip", ClipID: &clip}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := d.HandleMessage(context.Background(), c.msg, httpapi.Delivery{MessageID: "m"})
			if (err != nil) != c.wantErr {
				t.Errorf("HandleMessage: %v, want error %v", err, c.wantErr)
			}
		})
	}
}
