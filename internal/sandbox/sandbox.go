// Package sandbox confines the processes of a URL import with Landlock, so
// that yt-dlp and every program it starts can open TCP connections to one
// port only (the import's netguard proxy), whatever URL, redirect, protocol
// or helper program is involved.
//
// The restriction is applied by the handler binary re-executed as a small
// subcommand (Main): it restricts its own process and then execs the tool,
// which inherits the restriction, as does every process the tool starts.
// Landlock cannot be lifted by a restricted process. The serving process
// itself is never restricted.
//
// What is enforced depends on the kernel's Landlock ABI (Detect):
//
//   - ABI >= 1: the filesystem is read-only, except /dev/null and one
//     private working directory.
//   - ABI >= 4: TCP connect(2) only to the proxy's port; TCP bind(2) to no
//     port at all (so nothing can listen either).
//   - ABI >= 6: abstract unix sockets and signals are scoped: no connection
//     to an abstract socket, and no signal, outside the sandbox.
//
// Landlock port rules name a port, not an address: the sandboxed process
// may connect to that port on any address. The proxy listens on a random
// loopback port chosen per import, so another host would have to listen on
// that very port while the import runs.
//
// Landlock (up to ABI 9) does not restrict UDP, raw sockets, Multipath TCP
// (checked: an MPTCP connect passes the port rule) or connecting to a unix
// socket file (before ABI 9). A seccomp filter closes these: socket(2) may
// create plain TCP sockets only (see seccomp_linux.go). It does not depend
// on Landlock, so it stays when Landlock is missing.
package sandbox

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Subcommand is the name under which the handler binary runs Main.
const Subcommand = "sandbox-exec"

// ExitFailed is the exit status of Main when it could not confine the
// process; the tool was not started.
const ExitFailed = 125

// FailedMarker starts the line Main writes to stderr when it could not
// confine the process, so the caller can tell it from the tool's failure.
const FailedMarker = "[sandbox] "

// Report says what the sandbox enforces on this machine.
type Report struct {
	// KernelABI is the Landlock ABI the kernel offers; 0 when Landlock is
	// missing or disabled.
	KernelABI int `json:"kernel_abi"`
	// ABI is the ABI used: KernelABI, or less when capped.
	ABI int `json:"abi"`
	// Filesystem: read-only except /dev/null and the working directory.
	Filesystem bool `json:"filesystem"`
	// Network: TCP connect only to the proxy's port, no TCP bind.
	Network bool `json:"network"`
	// Scoped: abstract unix sockets and signals cannot leave the sandbox.
	Scoped bool `json:"scoped"`
	// Sockets: a seccomp filter lets socket(2) make plain TCP sockets only
	// (no UDP, raw, unix or Multipath TCP sockets, no io_uring).
	Sockets bool `json:"sockets"`
}

// Full reports whether every restriction this package knows is enforced.
// A report that is not full is degraded: imports still run, with the
// restrictions that remain.
func (r Report) Full() bool { return r.Filesystem && r.Network && r.Scoped && r.Sockets }

// String describes the report in one line, for logs and health.
func (r Report) String() string {
	if r.ABI == 0 && !r.Sockets {
		return "none: neither Landlock nor seccomp is available; yt-dlp runs unconfined apart from its proxy setting"
	}
	var on, off []string
	for _, f := range []struct {
		ok   bool
		name string
	}{
		{r.Filesystem, "read-only filesystem"},
		{r.Network, "TCP only to the proxy port"},
		{r.Scoped, "scoped abstract sockets and signals"},
		{r.Sockets, "TCP sockets only (seccomp)"},
	} {
		if f.ok {
			on = append(on, f.name)
		} else {
			off = append(off, f.name)
		}
	}
	s := fmt.Sprintf("landlock ABI %d (kernel %d): %s", r.ABI, r.KernelABI, strings.Join(on, ", "))
	if len(on) == 0 {
		s = fmt.Sprintf("landlock ABI %d (kernel %d): nothing", r.ABI, r.KernelABI)
	}
	if len(off) > 0 {
		s += "; NOT enforced: " + strings.Join(off, ", ")
	}
	return s
}

// Detect returns what the sandbox enforces here. maxABI > 0 caps the
// Landlock ABI used (to test the fallbacks); 0 means no cap, and a negative
// maxABI uses no Landlock at all (the seccomp filter stays).
func Detect(maxABI int) Report {
	kernel, err := llsys.LandlockGetABIVersion()
	if err != nil || kernel < 0 {
		kernel = 0
	}
	abi := kernel
	if abi >= 6 {
		// As go-landlock does: a kernel whose signal scoping has a known
		// bug (errata bit 2 not set) is used as ABI 5.
		if errata, err := llsys.LandlockGetErrata(); err != nil || errata&0x2 == 0 {
			abi = 5
		}
	}
	if maxABI != 0 && abi > maxABI {
		abi = max(maxABI, 0)
	}
	if abi > 7 {
		// The rules below use nothing newer than ABI 6; 7 adds only
		// logging flags. Newer kernels enforce ABI 7 rulesets unchanged.
		abi = 7
	}
	return Report{KernelABI: kernel, ABI: abi, Filesystem: abi >= 1, Network: abi >= 4, Scoped: abi >= 6, Sockets: seccompAvailable()}
}

// Policy is what one confined process may do.
type Policy struct {
	// ConnectPort is the only TCP port the process may connect to.
	ConnectPort uint16
	// WorkDir is the only directory the process may write into (besides
	// /dev/null). Empty means none.
	WorkDir string
	// MaxABI caps the Landlock ABI used (tests); 0 means no cap, negative
	// no Landlock.
	MaxABI int
}

// Restrict confines the calling process to p, with the strongest Landlock
// ABI available up to p.MaxABI and the seccomp socket filter, and returns
// what is enforced. Landlock covers every thread; the seccomp filter covers
// the calling thread only, which must be locked (runtime.LockOSThread) and
// must be the one that execs. It fails only when the kernel refuses what
// it announced support for; the caller must then not run the tool.
func Restrict(p Policy) (Report, error) {
	rep := Detect(p.MaxABI)
	if rep.Sockets {
		if err := restrictSockets(); err != nil {
			return rep, err
		}
	}
	cfg, ok := abiConfig(rep.ABI)
	if !ok {
		return rep, nil // no Landlock to enforce with
	}
	rules := []landlock.Rule{
		landlock.RODirs("/"),
		landlock.RWFiles("/dev/null"),
	}
	if p.WorkDir != "" {
		rules = append(rules, landlock.RWDirs(p.WorkDir))
	}
	if rep.Network {
		rules = append(rules, landlock.ConnectTCP(p.ConnectPort))
	}
	if err := cfg.Restrict(rules...); err != nil {
		return rep, fmt.Errorf("landlock ABI %d: %w", rep.ABI, err)
	}
	return rep, nil
}

// abiConfig returns the go-landlock configuration handling everything
// ABI abi can restrict, or false for ABI 0.
func abiConfig(abi int) (landlock.Config, bool) {
	switch {
	case abi <= 0:
		return landlock.Config{}, false
	case abi == 1:
		return landlock.V1, true
	case abi == 2:
		return landlock.V2, true
	case abi == 3:
		return landlock.V3, true
	case abi == 4:
		return landlock.V4, true
	case abi == 5:
		return landlock.V5, true
	case abi == 6:
		return landlock.V6, true
	}
	return landlock.V7, true
}

// Launcher builds command lines that run a tool through the Subcommand of
// a binary whose main calls Main.
type Launcher struct {
	// Self is the binary (the handler, os.Executable()).
	Self string
	// MaxABI caps the Landlock ABI used (tests); 0 means no cap, negative
	// no Landlock.
	MaxABI int
}

// Wrap returns the command line that runs argv (tool path first)
// confined to connecting to proxyPort and writing to workDir.
func (l Launcher) Wrap(proxyPort uint16, workDir string, argv []string) []string {
	cmd := []string{l.Self, Subcommand, "--connect-port", strconv.Itoa(int(proxyPort))}
	if workDir != "" {
		cmd = append(cmd, "--write", workDir)
	}
	if l.MaxABI != 0 {
		cmd = append(cmd, "--max-abi", strconv.Itoa(l.MaxABI))
	}
	return append(append(cmd, "--"), argv...)
}

// Main is the Subcommand: args are what follows its name
// ("--connect-port N [--write DIR] [--max-abi N] -- TOOL ARGS..."). It
// confines the process and execs TOOL (looked up on PATH when it has no
// slash) with the current environment. It returns only on failure, having
// started nothing: the caller writes the error (prefixed FailedMarker) to
// stderr and exits with ExitFailed.
func Main(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet(Subcommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Uint("connect-port", 0, "the only TCP port the tool may connect to")
	workDir := fs.String("write", "", "the only directory the tool may write into")
	maxABI := fs.Int("max-abi", 0, "cap the Landlock ABI used (tests)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tool := fs.Args()
	switch {
	case *port == 0 || *port > 65535:
		return errors.New("--connect-port must be a TCP port")
	case len(tool) == 0:
		return errors.New("no program to run")
	}
	path := tool[0]
	if !strings.ContainsRune(path, filepath.Separator) {
		p, err := exec.LookPath(path)
		if err != nil {
			return fmt.Errorf("find %s: %w", path, err)
		}
		path = p
	}
	// Landlock and exec act on threads: keep both on this one (go-landlock
	// restricts every thread anyway).
	runtime.LockOSThread()
	if _, err := Restrict(Policy{ConnectPort: uint16(*port), WorkDir: *workDir, MaxABI: *maxABI}); err != nil {
		return err
	}
	if err := syscall.Exec(path, tool, os.Environ()); err != nil {
		return fmt.Errorf("exec %s: %w", path, err)
	}
	return nil // not reached
}
