// Package toolexec makes a bundled helper program (yt-dlp, ffmpeg,
// ffprobe) runnable from wherever the deployment put it.
package toolexec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Prepare returns a path from which the program at path can be run. A
// bare name is looked up on PATH. A file that is not executable by this
// process (Core Tools marks only the handler executable in the published
// package, and Flex Consumption mounts the package read-only) is copied to
// the temp directory, named by its content hash, and made executable there;
// later calls reuse that copy.
func Prepare(path string) (string, error) {
	if !strings.ContainsRune(path, os.PathSeparator) {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("find %s: %w", path, err)
		}
		return p, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if info.Mode()&0o111 != 0 && isExecutable(path) {
		return path, nil
	}
	src, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	defer src.Close()
	h := sha256.New()
	if _, err := io.Copy(h, src); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	dst := filepath.Join(os.TempDir(), "videofn-"+filepath.Base(path)+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if isExecutable(dst) {
		return dst, nil
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(os.TempDir(), "videofn-tool-*")
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("install %s: %w", path, err)
	}
	return dst, nil
}

// isExecutable reports whether this process may execute path.
func isExecutable(path string) bool {
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
