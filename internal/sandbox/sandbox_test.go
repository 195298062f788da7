package sandbox_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/videofn/videofn/internal/sandbox"
)

// The test binary plays two parts besides running the tests: the
// subcommand (as the handler binary does) and the probe it execs, which
// tries things and prints what happened as JSON.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case sandbox.Subcommand:
			err := sandbox.Main(os.Args[2:], os.Stderr)
			fmt.Fprintln(os.Stderr, sandbox.FailedMarker+err.Error())
			os.Exit(sandbox.ExitFailed)
		case "probe":
			probe(os.Args[2:])
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// probe runs each "verb:arg" and prints {"verb:arg": "ok" | error text}.
func probe(steps []string) {
	out := map[string]string{}
	for _, s := range steps {
		verb, arg, _ := strings.Cut(s, ":")
		var err error
		switch verb {
		case "connect":
			var c net.Conn
			if c, err = net.Dial("tcp", arg); err == nil {
				c.Close()
			}
		case "mptcp-connect":
			// Without Go's fallback to plain TCP.
			ap := netip.MustParseAddrPort(arg)
			var fd int
			if fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 262 /* IPPROTO_MPTCP */); err == nil {
				err = syscall.Connect(fd, &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
				syscall.Close(fd)
			}
		case "udp-send":
			var c net.Conn
			if c, err = net.Dial("udp", arg); err == nil {
				_, err = c.Write([]byte("x"))
				c.Close()
			}
		case "listen":
			var ln net.Listener
			if ln, err = net.Listen("tcp4", arg); err == nil {
				ln.Close()
			}
		case "write":
			err = os.WriteFile(arg, []byte("x"), 0o600)
		case "read":
			_, err = os.ReadFile(arg)
		}
		out[s] = "ok"
		if err != nil {
			out[s] = err.Error()
			if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
				out[s] = "denied"
			}
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

// listener accepts and counts connections until the test ends.
func listener(t *testing.T) (port int, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// runProbe runs the probe through the subcommand and returns its results.
func runProbe(t *testing.T, l sandbox.Launcher, port int, workDir string, steps ...string) map[string]string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l.Self = self
	argv := l.Wrap(uint16(port), workDir, append([]string{self, "probe"}, steps...))
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("probe: %v\n%s", err, stderr.String())
	}
	got := map[string]string{}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("probe output %q: %v", stdout.String(), err)
	}
	return got
}

func TestDetectOnThisMachine(t *testing.T) {
	// The development and CI machines have Landlock ABI 7 (FACTS.md): the
	// full sandbox must be in force there, not silently degraded.
	rep := sandbox.Detect(0)
	if !rep.Full() || rep.ABI < 6 {
		t.Fatalf("Detect() = %+v (%s), want the full sandbox", rep, rep)
	}
	for abi, want := range map[int]sandbox.Report{
		-1: {},
		3:  {Filesystem: true},
		4:  {Filesystem: true, Network: true},
		6:  {Filesystem: true, Network: true, Scoped: true},
	} {
		got := sandbox.Detect(abi)
		if got.ABI != max(abi, 0) || !got.Sockets || got.Filesystem != want.Filesystem || got.Network != want.Network || got.Scoped != want.Scoped {
			t.Errorf("Detect(%d) = %+v", abi, got)
		}
		if got.Full() != (abi >= 6) || strings.Contains(got.String(), "NOT enforced") == (abi >= 6) {
			t.Errorf("Detect(%d): Full %v, String %q", abi, got.Full(), got)
		}
	}
}

func TestSubcommandConfinesTheTool(t *testing.T) {
	allowedPort, allowedHits := listener(t)
	otherPort, otherHits := listener(t)
	work := t.TempDir()
	outside := t.TempDir()
	connectAllowed := "connect:127.0.0.1:" + strconv.Itoa(allowedPort)
	connectOther := "connect:127.0.0.1:" + strconv.Itoa(otherPort)
	listen := "listen:127.0.0.1:0"
	writeWork := "write:" + filepath.Join(work, "f")
	writeOutside := "write:" + filepath.Join(outside, "f")
	mptcpOther := "mptcp-connect:127.0.0.1:" + strconv.Itoa(otherPort)
	udp := "udp-send:127.0.0.1:" + strconv.Itoa(otherPort)
	steps := []string{connectAllowed, connectOther, mptcpOther, udp, listen, writeWork, writeOutside, "write:/dev/null", "read:/etc/hostname"}

	t.Run("unconfined, the probe can do everything", func(t *testing.T) {
		// Shows that each denial below is the sandbox's doing.
		self, _ := os.Executable()
		out, err := exec.Command(self, append([]string{"probe"}, steps...)...).Output()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		json.Unmarshal(out, &got)
		for _, s := range steps {
			if got[s] != "ok" {
				t.Errorf("%s: %q, want ok", s, got[s])
			}
		}
	})
	t.Run("full sandbox", func(t *testing.T) {
		before := otherHits.Load()
		got := runProbe(t, sandbox.Launcher{}, allowedPort, work, steps...)
		want := map[string]string{
			connectAllowed: "ok", connectOther: "denied", mptcpOther: "denied", udp: "denied", listen: "denied",
			writeWork: "ok", writeOutside: "denied", "write:/dev/null": "ok", "read:/etc/hostname": "ok",
		}
		for s, w := range want {
			if got[s] != w {
				t.Errorf("%s: %q, want %q", s, got[s], w)
			}
		}
		if n := otherHits.Load() - before; n != 0 {
			t.Errorf("the other port accepted %d connections", n)
		}
		if allowedHits.Load() == 0 {
			t.Error("the allowed port saw no connection")
		}
	})
	t.Run("capped at ABI 3: filesystem and sockets", func(t *testing.T) {
		got := runProbe(t, sandbox.Launcher{MaxABI: 3}, allowedPort, work, steps...)
		want := map[string]string{connectOther: "ok", mptcpOther: "denied", udp: "denied", listen: "ok", writeOutside: "denied", writeWork: "ok"}
		for s, w := range want {
			if got[s] != w {
				t.Errorf("%s: %q, want %q", s, got[s], w)
			}
		}
	})
	t.Run("no Landlock: sockets only", func(t *testing.T) {
		got := runProbe(t, sandbox.Launcher{MaxABI: -1}, allowedPort, work, steps...)
		want := map[string]string{connectOther: "ok", mptcpOther: "denied", udp: "denied", writeOutside: "ok"}
		for s, w := range want {
			if got[s] != w {
				t.Errorf("%s: %q, want %q", s, got[s], w)
			}
		}
	})
}

func TestSubcommandFailsClosed(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	for name, args := range map[string][]string{
		"no port":         {"--", "/usr/bin/touch", marker},
		"no program":      {"--connect-port", "1", "--"},
		"unknown program": {"--connect-port", "1", "--", "no-such-program-anywhere"},
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(self, append([]string{sandbox.Subcommand}, args...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != sandbox.ExitFailed || !strings.Contains(stderr.String(), sandbox.FailedMarker) {
				t.Errorf("err %v, stderr %q; want exit %d with the marker", err, stderr.String(), sandbox.ExitFailed)
			}
		})
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the tool ran although the sandbox was not set up")
	}
}
