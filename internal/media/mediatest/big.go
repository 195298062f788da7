package mediatest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BigMP4 returns the path of a playable H.264 + AAC MP4 (1280x720, 30 fps,
// about 40 Mbit/s) of at least minBytes, made once and cached in the OS
// temp directory: a 5 s clip encoded once, then looped with -c copy (no
// encode). With faststart the index (moov atom) is at the start of the
// file, as `-movflags +faststart` writes it; without, at the end, where
// ffmpeg's MP4 muxer leaves it by default, so a reader must seek to the end
// first. Making a 1 GiB file takes some seconds the first time.
func BigMP4(tb testing.TB, minBytes int64, faststart bool) string {
	tb.Helper()
	layout := "moov-last"
	if faststart {
		layout = "faststart"
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("videofn-big-%d-%s.mp4", minBytes, layout))
	if info, err := os.Stat(path); err == nil && info.Size() >= minBytes {
		return path
	}
	dir, err := os.MkdirTemp("", "bigmp4-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(dir)
	small := filepath.Join(dir, "small.mp4")
	run(tb, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc2=duration=5:size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=5",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-b:v", "40M", "-maxrate", "40M", "-bufsize", "80M",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y", small)
	info, err := os.Stat(small)
	if err != nil {
		tb.Fatal(err)
	}
	loops := minBytes/info.Size() + 1
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-stream_loop", fmt.Sprint(loops), "-i", small, "-c", "copy"}
	if faststart {
		args = append(args, "-movflags", "+faststart")
	}
	tmp := filepath.Join(dir, "big.mp4")
	run(tb, "ffmpeg", append(args, "-y", tmp)...)
	// A rename within the temp directory: no half-written file is ever
	// seen under the cached name.
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

func run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v\n%s", name, err, out)
	}
}
