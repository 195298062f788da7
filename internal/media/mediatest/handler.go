package mediatest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// handler is the path of the handler MainWithHandler built.
var handler string

// HandlerBinary is the path of the real handler built by MainWithHandler,
// for sandbox.Launcher{Self: ...}.
func HandlerBinary() string {
	if handler == "" {
		panic("mediatest.HandlerBinary: TestMain must call mediatest.MainWithHandler")
	}
	return handler
}

// MainWithHandler is a TestMain for packages whose tests run ffprobe,
// ffmpeg or yt-dlp through the real handler's sandbox-exec subcommand, as
// in production: it builds the handler once into a temporary directory (see
// HandlerBinary), runs the tests, removes the directory and exits with the
// tests' code.
func MainWithHandler(m *testing.M) {
	dir, err := os.MkdirTemp("", "handler-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	path := filepath.Join(dir, "handler")
	build := exec.Command("go", "build", "-o", path, "github.com/videofn/videofn/handler")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the handler: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	handler = path
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
