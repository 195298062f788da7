package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/videofn/videofn/internal/sandbox"
)

// TestMain lets the test binary stand for the handler binary: the importer
// of a handler started with run execs os.Executable() (this binary) as
// `sandbox-exec`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		os.Exit(sandboxExec(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSandboxSubcommandOfTheBinary runs the real binary's sandbox-exec
// with a Python probe (the language of yt-dlp): a connection to the allowed
// port succeeds, one to any other port fails with EACCES.
func TestSandboxSubcommandOfTheBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "handler")
	build(t, "", bin, ".")
	var ports [2]string
	for i := range ports {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		ports[i] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	probe := `import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", int(p)))
        print("ok")
    except OSError as e:
        print(e.errno)
`
	for _, tt := range []struct {
		name    string
		wrap    []string
		allowed string
	}{
		{"unconfined", nil, "ok ok"},
		{"sandboxed", []string{bin, sandbox.Subcommand, "--connect-port", ports[0], "--"}, "ok 13"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			argv := append(tt.wrap, "python3", "-c", probe, ports[0], ports[1])
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got := strings.Join(strings.Fields(string(out)), " "); got != tt.allowed {
				t.Errorf("probe printed %q, want %q", got, tt.allowed)
			}
		})
	}
}
