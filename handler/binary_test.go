package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Helpers for tests and benchmarks that run the real handler binary.

func build(b testing.TB, dir, out, pkg string) {
	b.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if pkg != "." {
		cmd.Dir = dir
		cmd.Env = append(cmd.Env, "GO111MODULE=off")
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s: %v\n%s", pkg, err, msg)
	}
}

func freePort(b testing.TB) int {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startBinary runs `bin serve` on port with env (KEY=VALUE entries) and
// waits until GET / answers. The process is killed at cleanup.
func startBinary(tb testing.TB, bin string, env []string, port int) *exec.Cmd {
	tb.Helper()
	return startBinaryLogged(tb, bin, env, port, io.Discard)
}

// startBinaryLogged is startBinary with the handler's log (stdout) written
// to stdout.
func startBinaryLogged(tb testing.TB, bin string, env []string, port int, stdout io.Writer) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(env, "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return cmd
		}
		if time.Since(start) > 10*time.Second {
			tb.Fatalf("%s not ready after 10 s", bin)
		}
	}
}
