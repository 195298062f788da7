package mediatest

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// ThreeSecondMP4 makes a 3 s 320x240 H.264 + AAC MP4 (faststart) in the
// test's temp directory and returns its path.
func ThreeSecondMP4(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.mp4")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=3",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
		"-movflags", "+faststart", "-y", path)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make fixture: %v\n%s", err, msg)
	}
	return path
}

// Duration is ffprobe's duration of a local file in seconds, run directly
// (not through the sandbox), as a reference for what the code under test
// reports.
func Duration(t testing.TB, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Format struct{ Duration string } `json:"format"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	d, err := strconv.ParseFloat(v.Format.Duration, 64)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
