package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/videofn/videofn/internal/apitest"
	"github.com/videofn/videofn/internal/media/mediatest"
)

// apiClient is a logged-in user of a handler started with run.
type apiClient struct {
	t     *testing.T
	base  string
	token string
	spec  *apitest.Validator
}

// loginAs creates a verified user directly in the database and logs in
// through the API.
func loginAs(t *testing.T, h *handlerProcess, env map[string]string, email string) *apiClient {
	t.Helper()
	ctx := context.Background()
	conn := connectDB(t, env)
	hash, _ := bcrypt.GenerateFromPassword([]byte("import password"), 4)
	if _, err := conn.Exec(ctx, `INSERT INTO users (email, password_hash, email_verified_at) VALUES ($1, $2, now())`, email, string(hash)); err != nil {
		t.Fatal(err)
	}
	c := &apiClient{t: t, base: h.URL, spec: apitest.New(t)}
	var s struct {
		AccessToken string `json:"access_token"`
	}
	if status := c.call(http.MethodPost, "/api/auth/login", map[string]string{"email": email, "password": "import password"}, &s); status != 200 {
		t.Fatalf("login: %d", status)
	}
	c.token = s.AccessToken
	return c
}

// call sends a JSON request, checks the exchange against the OpenAPI spec,
// decodes the response into out and returns the status.
func (c *apiClient) call(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, raw := c.spec.Do(c.t, http.DefaultClient, req)
	if out != nil {
		json.Unmarshal(raw, out)
	}
	return resp.StatusCode
}

type progress struct {
	VideoID       string   `json:"video_id"`
	Status        string   `json:"status"`
	Step          string   `json:"step"`
	Percent       *float64 `json:"percent"`
	BytesUploaded int64    `json:"bytes_uploaded"`
	Error         *string  `json:"error"`
}

// waitStatus polls the progress route until the import reaches want.
func (c *apiClient) waitStatus(id, want string, timeout time.Duration) progress {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var p progress
		if status := c.call(http.MethodGet, "/api/imports/"+id, nil, &p); status != 200 {
			c.t.Fatalf("progress: %d", status)
		}
		if p.Status == want {
			return p
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("import still %q (%+v) after %v, want %q", p.Status, p, timeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startImporting starts the handler with imports from local sources
// allowed and yt-dlp from PATH, ready, and returns it with its settings.
func startImporting(t *testing.T) (*handlerProcess, map[string]string) {
	t.Helper()
	env := testEnv(t)
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true"
	env["YTDLP_PATH"] = "yt-dlp"
	h := start(t, env)
	waitHealthy(t, h)
	return h, env
}

// TestImportThroughTheAPIAndTheLocalQueue: with no Service Bus configured,
// POST /api/imports records the video and puts the message on the local
// PostgreSQL queue, which this process consumes with the same worker code
// the import-worker function runs.
func TestImportThroughTheAPIAndTheLocalQueue(t *testing.T) {
	media := mediatest.MP4Like(2<<20 + 7)
	// A server yt-dlp would reach without the proxy (FTP): it must see no
	// connection, as the serving handler runs yt-dlp through sandbox-exec.
	ftp, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ftp.Close()
	var ftpConns atomic.Int64
	go func() {
		for {
			c, err := ftp.Accept()
			if err != nil {
				return
			}
			ftpConns.Add(1)
			c.Close()
		}
	}()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-ftp":
			http.Redirect(w, r, "ftp://"+ftp.Addr().String()+"/x.mp4", http.StatusFound)
		case "/clip.mp4":
			http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(media))
		case "/slow.mp4":
			w.Header().Set("Content-Length", fmt.Sprint(50<<20))
			for i := 0; i < 50<<4; i++ {
				if _, err := w.Write(media[:64<<10]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer src.Close()

	h, env := startImporting(t)
	c := loginAs(t, h, env, "importer@example.com")

	var accepted struct {
		VideoID string `json:"video_id"`
		Status  string `json:"status"`
	}
	if status := c.call(http.MethodPost, "/api/imports", map[string]string{"url": src.URL + "/clip.mp4"}, &accepted); status != 202 || accepted.Status != "queued" {
		t.Fatalf("enqueue: %d %+v", status, accepted)
	}
	p := c.waitStatus(accepted.VideoID, "ready", 30*time.Second)
	if p.BytesUploaded != int64(len(media)) || p.Percent == nil || *p.Percent != 100 {
		t.Errorf("final progress %+v", p)
	}
	var video struct {
		Video struct {
			Status      string `json:"status"`
			Source      string `json:"source"`
			SizeBytes   int64  `json:"size_bytes"`
			PlaybackURL string `json:"playback_url"`
		} `json:"video"`
	}
	if status := c.call(http.MethodGet, "/api/videos/"+accepted.VideoID, nil, &video); status != 200 || video.Video.Source != "url" || video.Video.SizeBytes != int64(len(media)) {
		t.Fatalf("video: %d %+v", status, video)
	}
	resp, err := http.Get(video.Video.PlaybackURL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, media) {
		t.Errorf("playback has %d bytes, want the %d source bytes", len(got), len(media))
	}

	// Refused at the edge.
	for _, bad := range []string{"ftp://example.com/a.mp4", "--exec=id", "https://u:p@example.com/a.mp4"} {
		if status := c.call(http.MethodPost, "/api/imports", map[string]string{"url": bad}, nil); status != 422 {
			t.Errorf("%q: %d, want 422", bad, status)
		}
	}
	// A 404 source ends failed with a readable error.
	c.call(http.MethodPost, "/api/imports", map[string]string{"url": src.URL + "/missing.mp4"}, &accepted)
	if p := c.waitStatus(accepted.VideoID, "failed", 30*time.Second); p.Error == nil || *p.Error != "the video was not found at this address" {
		t.Errorf("404 import: %+v", p)
	}

	// A redirect to FTP is stopped by the sandbox.
	c.call(http.MethodPost, "/api/imports", map[string]string{"url": src.URL + "/to-ftp"}, &accepted)
	if p := c.waitStatus(accepted.VideoID, "failed", 30*time.Second); p.Error == nil || *p.Error != "the source leads to an address or a protocol that imports may not use" || ftpConns.Load() != 0 {
		t.Errorf("redirect to FTP: %+v, %d FTP connections", p, ftpConns.Load())
	}

	// Cancel mid-stream.
	c.call(http.MethodPost, "/api/imports", map[string]string{"url": src.URL + "/slow.mp4"}, &accepted)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var p progress
		c.call(http.MethodGet, "/api/imports/"+accepted.VideoID, nil, &p)
		if p.BytesUploaded > 0 || p.Step == "downloading" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slow import never started: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status := c.call(http.MethodPost, "/api/imports/"+accepted.VideoID+"/cancel", nil, nil); status != 202 {
		t.Fatalf("cancel: %d", status)
	}
	c.waitStatus(accepted.VideoID, "cancelled", 5*time.Second)
	// The worker stops and writes the final progress.
	deadline = time.Now().Add(20 * time.Second)
	for {
		var p progress
		c.call(http.MethodGet, "/api/imports/"+accepted.VideoID, nil, &p)
		if p.Step == "cancelled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker never recorded the cancellation: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status := c.call(http.MethodPost, "/api/imports/"+accepted.VideoID+"/cancel", nil, nil); status != 202 {
		t.Errorf("second cancel: %d", status)
	}
	if status := c.call(http.MethodGet, "/api/imports/00000000-0000-0000-0000-000000000001", nil, nil); status != 404 {
		t.Errorf("unknown import: %d", status)
	}
}

func TestLocalConcurrencyMatchesHostJSON(t *testing.T) {
	raw, err := os.ReadFile("../host.json")
	if err != nil {
		t.Fatal(err)
	}
	var host struct {
		Extensions struct {
			ServiceBus struct {
				MaxConcurrentCalls int `json:"maxConcurrentCalls"`
			} `json:"serviceBus"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &host); err != nil {
		t.Fatal(err)
	}
	if got := host.Extensions.ServiceBus.MaxConcurrentCalls; got != importConcurrency {
		t.Errorf("host.json maxConcurrentCalls %d, local queue concurrency %d: keep them equal", got, importConcurrency)
	}
}
