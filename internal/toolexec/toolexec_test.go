package toolexec

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestPrepareCopiesANonExecutableFile(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "yt-dlp")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho prepared\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	got, err := Prepare(script)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(got)
	if got == script {
		t.Fatal("a non-executable file was used in place")
	}
	out, err := exec.Command(got).Output()
	if err != nil || string(out) != "prepared\n" {
		t.Fatalf("run the copy: %q %v", out, err)
	}
	again, err := Prepare(script)
	if err != nil || again != got {
		t.Errorf("second call: %q %v, want the same copy %q", again, err, got)
	}
	os.Chmod(script, 0o755)
	if p, err := Prepare(script); err != nil || p != script {
		t.Errorf("an executable file: %q %v", p, err)
	}
	if p, err := Prepare("sh"); err != nil || p == "" {
		t.Errorf("a name on PATH: %q %v", p, err)
	}
	if _, err := Prepare(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}
