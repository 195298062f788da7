package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/blob"
)

// clipFixture returns an H.264/AAC MP4 made by ffmpeg (testsrc and a sine
// tone, one keyframe a second), cached in the OS temp directory by name.
func clipFixture(t testing.TB, name string, seconds int, size string) []byte {
	t.Helper()
	path := filepath.Join(os.TempDir(), "videofn-clipfixture-"+name+".mp4")
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return b
	}
	tmp := path + fmt.Sprintf(".%d.tmp.mp4", os.Getpid())
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=duration=%d:size=%s:rate=25", seconds, size),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
		"-movflags", "+faststart", "-y", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg fixture: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storedVideo stores media as a finished URL import of userID, probed
// (duration given), and returns its id.
func storedVideo(t *testing.T, conn *pgx.Conn, store *blob.Store, userID string, media []byte, duration *float64) string {
	t.Helper()
	ctx := context.Background()
	var videoID string
	if err := conn.QueryRow(ctx, `
		INSERT INTO videos (user_id, title, source, source_url, status, content_type, size_bytes, duration_seconds, width, height,
		                    processing_status, processing_updated_at)
		VALUES ($1, 'fixture', 'url', 'https://example.com/v.mp4', 'ready', 'video/mp4', $2, $3, 320, 240, 'done', now())
		RETURNING id`, userID, len(media), duration).Scan(&videoID); err != nil {
		t.Fatal(err)
	}
	name := userID + "/" + videoID + "/source"
	if _, err := store.Container().NewBlockBlobClient(name).UploadBuffer(ctx, media, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `
		INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
		VALUES ($1, $2, 'source', $3, $4, 'video/mp4', $5)`, userID, videoID, store.ContainerName(), name, len(media)); err != nil {
		t.Fatal(err)
	}
	return videoID
}

type clipBody struct {
	Clip struct {
		ID              string   `json:"id"`
		Status          string   `json:"status"`
		Error           *string  `json:"error"`
		DurationSeconds *float64 `json:"duration_seconds"`
		Width           *int     `json:"width"`
		Height          *int     `json:"height"`
		SizeBytes       *int64   `json:"size_bytes"`
		PlaybackURL     string   `json:"playback_url"`
		Progress        *struct {
			Percent *float64 `json:"percent"`
		} `json:"progress"`
	} `json:"clip"`
}

// waitClip polls GET /api/clips/{id} until the clip is ready or failed.
func (c *apiClient) waitClip(id string, timeout time.Duration) clipBody {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var b clipBody
		if status := c.call(http.MethodGet, "/api/clips/"+id, nil, &b); status != 200 {
			c.t.Fatalf("get clip: %d", status)
		}
		if b.Clip.Status == "ready" || b.Clip.Status == "failed" {
			return b
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("clip still %q after %v", b.Clip.Status, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probed is what ffprobe reads from a URL, decoding every video frame.
type probed struct {
	Duration float64
	Width    int
	Height   int
	Frames   int
}

func ffprobeURL(t *testing.T, url string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=width,height,nb_read_frames:format=duration", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var r struct {
		Streams []struct {
			Width  int    `json:"width"`
			Height int    `json:"height"`
			Frames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Streams) != 1 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	var p probed
	fmt.Sscan(r.Format.Duration, &p.Duration)
	fmt.Sscan(r.Streams[0].Frames, &p.Frames)
	p.Width, p.Height = r.Streams[0].Width, r.Streams[0].Height
	return p
}

// blobsUnder lists the blob names under prefix.
func blobsUnder(t *testing.T, store *blob.Store, prefix string) []string {
	t.Helper()
	var names []string
	pager := store.Container().NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	return names
}

func blobExists(t *testing.T, store *blob.Store, name string) bool {
	t.Helper()
	_, err := store.Container().NewBlobClient(name).GetProperties(context.Background(), nil)
	if bloberror.HasCode(err, bloberror.BlobNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// deliverProcessing posts a processing-queue message to the handler's
// video-processor function, as the Functions host does.
func deliverProcessing(t *testing.T, base, body, messageID string, count int) int {
	t.Helper()
	resp, err := http.Post(base+"/video-processor", "application/json", strings.NewReader(processingEnvelope(body, messageID, count)))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// processingEnvelope is the Functions host's invocation of a queue trigger.
func processingEnvelope(body, messageID string, count int) string {
	return fmt.Sprintf(`{"Data":{"message":%q},"Metadata":{"MessageId":%q,"DeliveryCount":"%d"}}`,
		base64.StdEncoding.EncodeToString([]byte(body)), `"`+messageID+`"`, count)
}

// TestClipsThroughTheAPIAndTheLocalQueue: clips are created through the API,
// rendered by the video-processor from the local queue with real ffmpeg
// through a read URL, read back from Blob Storage with ffprobe; a
// redelivered message does nothing twice; other users see none of it.
func TestClipsThroughTheAPIAndTheLocalQueue(t *testing.T) {
	media := clipFixture(t, "6s-320x240", 6, "320x240")
	env := testEnv(t)
	env["CLIP_MAX_SECONDS"] = "5"
	env["CLIPS_IN_FLIGHT_PER_USER"] = "2"
	h := start(t, env)
	waitHealthy(t, h)
	ctx := context.Background()
	conn := connectDB(t, env)
	store, err := blob.New(blob.Options{ConnectionString: env["AZURE_STORAGE_CONNECTION_STRING"], Container: env["BLOB_CONTAINER"]})
	if err != nil {
		t.Fatal(err)
	}
	owner := loginAs(t, h, env, "clipper@example.com")
	other := loginAs(t, h, env, "other@example.com")
	var ownerID, otherID string
	conn.QueryRow(ctx, `SELECT id FROM users WHERE email = 'clipper@example.com'`).Scan(&ownerID)
	conn.QueryRow(ctx, `SELECT id FROM users WHERE email = 'other@example.com'`).Scan(&otherID)
	six := 6.0
	videoID := storedVideo(t, conn, store, ownerID, media, &six)

	// A 2 s clip from 2 s to 4 s, in the original frame.
	var created clipBody
	if status := owner.call(http.MethodPost, "/api/videos/"+videoID+"/clips",
		map[string]any{"title": "middle", "start_seconds": 2, "end_seconds": 4, "aspect": "original"}, &created); status != 202 || created.Clip.Status != "queued" {
		t.Fatalf("create clip: %d %+v", status, created)
	}
	got := owner.waitClip(created.Clip.ID, 60*time.Second)
	if got.Clip.Status != "ready" || got.Clip.PlaybackURL == "" || got.Clip.Progress != nil {
		t.Fatalf("clip: %+v", got.Clip)
	}
	p := ffprobeURL(t, got.Clip.PlaybackURL)
	if math.Abs(p.Duration-2) > 0.2 || p.Frames < 40 || p.Width != 320 || p.Height != 240 {
		t.Errorf("2 s clip read back from storage: %+v", p)
	}
	if d := *got.Clip.DurationSeconds; math.Abs(d-2) > 0.2 || *got.Clip.Width != 320 || *got.Clip.SizeBytes <= 0 {
		t.Errorf("2 s clip as recorded: %+v", got.Clip)
	}
	var quota int64
	conn.QueryRow(ctx, `SELECT size_bytes FROM file_storage WHERE kind = 'clip' AND clip_id = $1`, got.Clip.ID).Scan(&quota)
	if quota != *got.Clip.SizeBytes {
		t.Errorf("file_storage counts %d bytes for the clip, want %d", quota, *got.Clip.SizeBytes)
	}

	// Vertical: 9:16, and it plays.
	var vertical clipBody
	if status := owner.call(http.MethodPost, "/api/videos/"+videoID+"/clips",
		map[string]any{"title": "vertical", "start_seconds": 1, "end_seconds": 3.5, "aspect": "9:16"}, &vertical); status != 202 {
		t.Fatalf("create vertical clip: %d", status)
	}
	got = owner.waitClip(vertical.Clip.ID, 60*time.Second)
	if got.Clip.Status != "ready" {
		t.Fatalf("vertical clip: %+v", got.Clip)
	}
	p = ffprobeURL(t, got.Clip.PlaybackURL)
	if ratio := float64(p.Width) / float64(p.Height); math.Abs(ratio-9.0/16) > 0.01 || p.Frames < 50 || p.Width%2 != 0 || p.Height%2 != 0 {
		t.Errorf("9:16 clip read back from storage: %+v (ratio %.4f)", p, float64(p.Width)/float64(p.Height))
	}

	// From the start in the original frame: stream copy, no encode.
	var copied clipBody
	if status := owner.call(http.MethodPost, "/api/videos/"+videoID+"/clips",
		map[string]any{"title": "start", "start_seconds": 0, "end_seconds": 2}, &copied); status != 202 {
		t.Fatalf("create copied clip: %d", status)
	}
	got = owner.waitClip(copied.Clip.ID, 60*time.Second)
	if got.Clip.Status != "ready" {
		t.Fatalf("copied clip: %+v", got.Clip)
	}
	if p := ffprobeURL(t, got.Clip.PlaybackURL); math.Abs(p.Duration-2) > 0.2 || p.Frames < 45 || p.Width != 320 {
		t.Errorf("copied clip read back from storage: %+v", p)
	}
	copies := map[string]bool{}
	for _, l := range h.logs.find("rendering clip") {
		copies[fmt.Sprint(l["clip_id"])] = l["stream_copy"] == true
	}
	if !copies[copied.Clip.ID] || copies[created.Clip.ID] || copies[vertical.Clip.ID] {
		t.Errorf("stream copy used for %v; want only the clip from the start in the original frame", copies)
	}
	if status := owner.call(http.MethodDelete, "/api/clips/"+copied.Clip.ID, nil, nil); status != 204 {
		t.Fatalf("delete copied clip: %d", status)
	}

	// Redelivery of a finished clip's message: acknowledged, no new attempt,
	// one blob per clip.
	var attempt int64
	conn.QueryRow(ctx, `SELECT attempt FROM clips WHERE id = $1`, created.Clip.ID).Scan(&attempt)
	msg := fmt.Sprintf(`{"video_id":%q,"task":"clip","clip_id":%q}`, videoID, created.Clip.ID)
	if status := deliverProcessing(t, h.URL, msg, "clip:again", 2); status != 200 {
		t.Fatalf("redelivery: %d", status)
	}
	var after int64
	conn.QueryRow(ctx, `SELECT attempt FROM clips WHERE id = $1`, created.Clip.ID).Scan(&after)
	if after != attempt {
		t.Errorf("redelivery started attempt %d (was %d)", after, attempt)
	}
	if names := blobsUnder(t, store, ownerID+"/"+videoID+"/clips/"); len(names) != 2 {
		t.Errorf("clip blobs %v, want one per clip", names)
	}

	// Validation against the duration and CLIP_MAX_SECONDS.
	for _, bad := range []map[string]any{
		{"start_seconds": 4, "end_seconds": 6.5},                // past the end
		{"start_seconds": 3, "end_seconds": 3},                  // empty
		{"start_seconds": 1, "end_seconds": 1.2},                // shorter than 0.5 s
		{"start_seconds": 0, "end_seconds": 5.5},                // longer than CLIP_MAX_SECONDS
		{"start_seconds": 0, "end_seconds": 2, "aspect": "4:3"}, // unknown aspect
		{"start_seconds": -1, "end_seconds": 2},                 // negative
		{"end_seconds": 2},                                      // missing
	} {
		if status := owner.call(http.MethodPost, "/api/videos/"+videoID+"/clips", bad, nil); status != 422 {
			t.Errorf("%v: %d, want 422", bad, status)
		}
	}
	// Not yet probed: 409.
	unprobed := storedVideo(t, conn, store, ownerID, media, nil)
	if status := owner.call(http.MethodPost, "/api/videos/"+unprobed+"/clips", map[string]any{"start_seconds": 0, "end_seconds": 1}, nil); status != 409 {
		t.Errorf("clip of an unprobed video: %d, want 409", status)
	}

	// Another user: 404 on every clip route, and cannot clip the video.
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/api/clips/" + created.Clip.ID},
		{http.MethodDelete, "/api/clips/" + created.Clip.ID},
		{http.MethodGet, "/api/videos/" + videoID + "/clips"},
		{http.MethodPost, "/api/videos/" + videoID + "/clips"},
	} {
		var body any
		if r.method == http.MethodPost {
			body = map[string]any{"start_seconds": 0, "end_seconds": 1}
		}
		if status := other.call(r.method, r.path, body, nil); status != 404 {
			t.Errorf("other user %s %s: %d, want 404", r.method, r.path, status)
		}
	}
	var count int
	conn.QueryRow(ctx, `SELECT count(*) FROM clips WHERE video_id = $1`, videoID).Scan(&count)
	if count != 2 {
		t.Errorf("%d clips of the video, want 2", count)
	}
	for _, path := range []string{"/api/clips/" + strings.ToUpper(created.Clip.ID), "/api/clips/not-an-id"} {
		if status := owner.call(http.MethodGet, path, nil, nil); status != 404 {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}

	// The per-user limit of clips in flight (2 here): two queued clips of
	// the other user's own video, then a third is refused.
	otherVideo := storedVideo(t, conn, store, otherID, media, &six)
	for range 2 {
		if _, err := conn.Exec(ctx, `
			INSERT INTO clips (video_id, user_id, start_seconds, end_seconds, status, blob_name)
			VALUES ($1, $2, 0, 1, 'queued', 'x')`, otherVideo, otherID); err != nil {
			t.Fatal(err)
		}
	}
	if status := other.call(http.MethodPost, "/api/videos/"+otherVideo+"/clips", map[string]any{"start_seconds": 0, "end_seconds": 1}, nil); status != 429 {
		t.Errorf("third clip in flight: %d, want 429", status)
	}

	// The list, then deletion: the blob goes with the clip.
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	if status := owner.call(http.MethodGet, "/api/videos/"+videoID+"/clips", nil, &list); status != 200 || len(list.Items) != 2 || list.Items[0].ID != created.Clip.ID {
		t.Fatalf("list: %d %+v", status, list)
	}
	clipBlob := ownerID + "/" + videoID + "/clips/" + created.Clip.ID + ".mp4"
	if status := owner.call(http.MethodDelete, "/api/clips/"+created.Clip.ID, nil, nil); status != 204 {
		t.Fatalf("delete clip: %d", status)
	}
	if blobExists(t, store, clipBlob) {
		t.Error("the deleted clip's blob is still stored")
	}
	if status := owner.call(http.MethodGet, "/api/clips/"+created.Clip.ID, nil, nil); status != 404 {
		t.Errorf("deleted clip: %d, want 404", status)
	}
	// Deleting the video deletes its clips' blobs.
	verticalBlob := ownerID + "/" + videoID + "/clips/" + vertical.Clip.ID + ".mp4"
	if !blobExists(t, store, verticalBlob) {
		t.Fatal("the vertical clip's blob is missing")
	}
	if status := owner.call(http.MethodDelete, "/api/videos/"+videoID, nil, nil); status != 204 {
		t.Fatalf("delete video: %d", status)
	}
	if names := blobsUnder(t, store, ownerID+"/"+videoID+"/"); len(names) != 0 {
		t.Errorf("blobs left after the video was deleted: %v", names)
	}
	if status := owner.call(http.MethodGet, "/api/clips/"+vertical.Clip.ID, nil, nil); status != 404 {
		t.Errorf("clip of a deleted video: %d, want 404", status)
	}
}
