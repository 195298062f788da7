// Package mediatest helps test uploads: it makes small, real video files (a
// two-second test pattern encoded by ffmpeg, installed by `make tools`;
// tests fail, never skip, when it is missing) and plays the browser's part
// of a direct upload with a plain HTTP client.
package mediatest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Formats lists the formats Video makes, by name.
var Formats = []string{"mp4", "mov", "webm", "mkv", "ts"}

// encoders are ffmpeg's output arguments per format.
var encoders = map[string][]string{
	"mp4":  {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"},
	"mov":  {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mov"},
	"webm": {"-c:v", "libvpx", "-f", "webm"},
	"mkv":  {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "matroska"},
	"ts":   {"-c:v", "mpeg2video", "-f", "mpegts"},
}

var cache sync.Map // format -> []byte

// Video returns a two-second 320x240 test pattern in format (one of
// Formats), 10-120 KB. Files are made once per test binary; callers get
// their own copy.
func Video(t testing.TB, format string) []byte {
	t.Helper()
	if b, ok := cache.Load(format); ok {
		return bytes.Clone(b.([]byte))
	}
	args, ok := encoders[format]
	if !ok {
		t.Fatalf("mediatest: unknown format %q", format)
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("mediatest: ffmpeg not found (run `make tools`): %v", err)
	}
	dir, err := os.MkdirTemp("", "mediatest")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "video."+format)
	cmd := exec.Command(ffmpeg, append(append([]string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25"}, args...), "-y", out)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mediatest: ffmpeg %s: %v\n%s", format, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cache.Store(format, b)
	return bytes.Clone(b)
}

// Upload plays the browser's part of a direct upload with a plain HTTP
// client, as the API documents it: data is cut into blocks of blockSize,
// each sent with Put Block under a fixed-width base64 id, then committed
// in order with Put Block List, which sets the blob's content type. It
// returns the status of the first request that did not answer 201 Created,
// with the response body, or 201.
func Upload(client *http.Client, uploadURL string, data []byte, blockSize int, contentType string) (int, string, error) {
	var ids []string
	for i := 0; i == 0 || i*blockSize < len(data); i++ {
		block := data[i*blockSize : min((i+1)*blockSize, len(data))]
		ids = append(ids, BlockID(i))
		status, body, err := StageBlock(client, uploadURL, i, block)
		if err != nil || status != http.StatusCreated {
			return status, body, err
		}
	}
	var list strings.Builder
	list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for _, id := range ids {
		list.WriteString("<Latest>" + id + "</Latest>")
	}
	list.WriteString("</BlockList>")
	return put(client, uploadURL+"&comp=blocklist", []byte(list.String()), map[string]string{"x-ms-blob-content-type": contentType})
}

// BlockID is the id of block i of an upload, as the frontend makes it:
// base64("block-" + i on 6 digits), the same length for every block.
func BlockID(i int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "block-%06d", i))
}

// StageBlock sends block i of an upload (Put Block) and nothing else.
func StageBlock(client *http.Client, uploadURL string, i int, block []byte) (int, string, error) {
	return put(client, uploadURL+"&comp=block&blockid="+url.QueryEscape(BlockID(i)), block, nil)
}

// PutBlob sends data in one Put Blob request (files of at most one block).
func PutBlob(client *http.Client, uploadURL string, data []byte) (int, string, error) {
	return put(client, uploadURL, data, map[string]string{"x-ms-blob-type": "BlockBlob"})
}

func put(client *http.Client, u string, body []byte, headers map[string]string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// Get fetches u and returns the status, the Content-Type and the body.
func Get(client *http.Client, u string) (int, string, []byte, error) {
	resp, err := client.Get(u)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
}

// MP4Like returns n random bytes (n >= 24) behind an MP4 `ftyp` box: not
// playable, but enough for yt-dlp's generic extractor and for the
// container check, at any size and without ffmpeg.
func MP4Like(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm', 'i', 's', 'o', '2'})
	return b
}
