package main

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/media/mediatest"
)

// processedVideo is the part of the video JSON processing fills.
type processedVideo struct {
	Status           string   `json:"status"`
	ProcessingStatus *string  `json:"processing_status"`
	ProcessingError  *string  `json:"processing_error"`
	DurationSeconds  *float64 `json:"duration_seconds"`
	Width            *int     `json:"width"`
	Height           *int     `json:"height"`
	VideoCodec       *string  `json:"video_codec"`
	ThumbnailURL     string   `json:"thumbnail_url"`
}

// waitProcessed polls GET /api/videos/{id} (what the frontend does) until
// processing has ended.
func waitProcessed(t *testing.T, h *handlerProcess, token, id string) processedVideo {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got struct{ Video processedVideo }
		if status := postJSON(t, http.MethodGet, h.URL+"/api/videos/"+id, token, nil, &got); status != 200 {
			t.Fatalf("GET video: %d", status)
		}
		if s := got.Video.ProcessingStatus; s != nil && (*s == "done" || *s == "failed") {
			return got.Video
		}
		if time.Now().After(deadline) {
			t.Fatalf("processing of %s has not ended: %+v\nlogs:\n%s", id, got.Video, h.logs.all())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUploadsAndImportsAreProbedThroughTheHandler: a completed upload and a
// finished import each send a probe to the local processing queue, which
// the handler consumes with the video-processor's code: ffprobe and ffmpeg
// through sandbox-exec, the poster into Blob Storage.
func TestUploadsAndImportsAreProbedThroughTheHandler(t *testing.T) {
	mp4 := mediatest.Video(t, "mp4") // 2 s, 320x240, H.264
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(mp4))
	}))
	defer src.Close()
	env := testEnv(t)
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
	h := start(t, env)
	waitHealthy(t, h)
	token := verifiedUser(t, h, env["DATABASE_URL"], "p@example.com")

	upload := func(t *testing.T, data []byte) string {
		t.Helper()
		var up struct {
			VideoID   string `json:"video_id"`
			UploadURL string `json:"upload_url"`
		}
		if status := postJSON(t, http.MethodPost, h.URL+"/api/uploads", token,
			map[string]any{"filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": len(data)}, &up); status != 201 {
			t.Fatalf("POST /api/uploads: %d", status)
		}
		if status, body, err := mediatest.Upload(http.DefaultClient, up.UploadURL, data, 64<<10, "video/mp4"); status != 201 {
			t.Fatalf("upload: %d %v %s", status, err, body)
		}
		var done struct{ Video processedVideo }
		if status := postJSON(t, http.MethodPost, h.URL+"/api/uploads/"+up.VideoID+"/complete", token, nil, &done); status != 200 ||
			done.Video.Status != "ready" || done.Video.ProcessingStatus == nil || *done.Video.ProcessingStatus != "pending" {
			t.Fatalf("complete: %d %+v, want ready with processing pending", status, done)
		}
		return up.VideoID
	}
	check := func(t *testing.T, v processedVideo) {
		t.Helper()
		if *v.ProcessingStatus != "done" || v.DurationSeconds == nil || *v.DurationSeconds < 1.9 || *v.DurationSeconds > 2.1 ||
			*v.Width != 320 || *v.Height != 240 || *v.VideoCodec != "h264" {
			t.Fatalf("processed video %+v", v)
		}
		status, ctype, body, err := mediatest.Get(http.DefaultClient, v.ThumbnailURL)
		if err != nil || status != 200 || ctype != "image/jpeg" {
			t.Fatalf("thumbnail: %d %q %v", status, ctype, err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(body)); err != nil {
			t.Errorf("thumbnail is not a JPEG: %v", err)
		}
	}

	t.Run("upload", func(t *testing.T) {
		check(t, waitProcessed(t, h, token, upload(t, mp4)))
	})
	t.Run("import", func(t *testing.T) {
		var accepted struct {
			VideoID string `json:"video_id"`
		}
		if status := postJSON(t, http.MethodPost, h.URL+"/api/imports", token, map[string]string{"url": src.URL + "/clip.mp4"}, &accepted); status != 202 {
			t.Fatalf("enqueue import: %d", status)
		}
		check(t, waitProcessed(t, h, token, accepted.VideoID))
	})
	t.Run("not a video", func(t *testing.T) {
		v := waitProcessed(t, h, token, upload(t, mediatest.MP4Like(100<<10)))
		if *v.ProcessingStatus != "failed" || v.ProcessingError == nil || *v.ProcessingError == "" || v.Status != "ready" || v.ThumbnailURL != "" {
			t.Errorf("unreadable upload: %+v, want ready, processing failed with a reason, no thumbnail", v)
		}
	})
}

func TestLocalProcessingConcurrencyMatchesHostJSON(t *testing.T) {
	// One maxConcurrentCalls covers every Service Bus trigger.
	if processingConcurrency != importConcurrency {
		t.Errorf("processing concurrency %d, import concurrency %d (host.json's maxConcurrentCalls): keep them equal", processingConcurrency, importConcurrency)
	}
}
