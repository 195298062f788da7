package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/media/mediatest"
)

// quickstartBlock matches the sh block that follows the quickstart marker in
// the README.
var quickstartBlock = regexp.MustCompile("(?s)<!-- quickstart:[^>]*-->\\s*```sh\\n(.*?)```")

// TestREADMEQuickstart runs the README's curl walkthrough, as written, with
// bash against a real handler (log mailer, Azurite, the local queue and
// yt-dlp): register, verify, log in, upload in blocks, complete, import,
// poll, list, refresh. Both videos must end ready with the right sizes.
func TestREADMEQuickstart(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := quickstartBlock.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no quickstart block")
	}
	script := string(m[1])

	// Two blocks and a bit: the loop over blocks must be right.
	upload := mediatest.MP4Like(8<<20 + 100<<10)
	dir := t.TempDir()
	file := filepath.Join(dir, "clip.mp4")
	if err := os.WriteFile(file, upload, 0o600); err != nil {
		t.Fatal(err)
	}
	imported := mediatest.MP4Like(300 << 10)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(imported))
	}))
	defer src.Close()

	env := testEnv(t)
	env["IMPORT_ALLOW_PRIVATE_NETWORKS"] = "true" // the source is this test's loopback server
	logPath := filepath.Join(dir, "videofn.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	h := startLogged(t, env, logFile)
	waitHealthy(t, h)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"API="+h.URL,
		"EMAIL=quickstart@example.com",
		"PASSWORD=quickstart password",
		"FILE="+file,
		"IMPORT_URL="+src.URL+"/clip.mp4",
		"LOG="+logPath,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s\nhandler logs:\n%s", err, out, h.logs.all())
	}
	t.Logf("quickstart output:\n%s", out)

	conn := connectDB(t, env)
	rows, err := conn.Query(context.Background(),
		`SELECT source, status, coalesce(size_bytes, 0) FROM videos ORDER BY source`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var source, status string
		var size int
		if err := rows.Scan(&source, &status, &size); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{source, status, strconv.Itoa(size)}, " "))
	}
	want := []string{"upload ready " + strconv.Itoa(len(upload)), "url ready " + strconv.Itoa(len(imported))}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("videos after the quickstart = %q, want %q", got, want)
	}
	// The refresh at the end printed the user's address with a fresh token.
	if !strings.Contains(string(out), `"quickstart@example.com"`) {
		t.Errorf("the last step did not print the user's email:\n%s", out)
	}
}
