package sandbox

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter completes Landlock where Landlock cannot see: it lets
// socket(2) create plain TCP sockets only (AF_INET/AF_INET6, SOCK_STREAM,
// protocol 0 or IPPROTO_TCP), which Landlock's port rules govern. Refused
// with EACCES: UDP (DNS included), raw and packet sockets, Multipath TCP
// (which Landlock does not restrict: checked on this kernel), unix sockets
// (Landlock before ABI 9 does not restrict connecting to a socket file) and
// every other family. io_uring, which can create sockets without socket(2),
// is refused too. socketpair(2) stays allowed: it connects nothing outside.

// auditArch is the AUDIT_ARCH_* value of the running architecture, or 0
// where no filter is built (then Report.Sockets is false).
func auditArch() uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	}
	return 0
}

// seccompAvailable reports whether this kernel accepts seccomp filters.
func seccompAvailable() bool {
	if auditArch() == 0 {
		return false
	}
	// PR_GET_SECCOMP fails with EINVAL without CONFIG_SECCOMP.
	_, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	return err == nil
}

// socketFilter returns the BPF program described above.
func socketFilter(arch uint32) []unix.SockFilter {
	const (
		offNr   = 0  // seccomp_data.nr
		offArch = 4  // seccomp_data.arch
		offArg0 = 16 // seccomp_data.args[0], low half (little-endian)
		offArg1 = 24
		offArg2 = 32
		x32Bit  = 0x40000000 // x86_64 x32 system calls
		deny    = unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)
		allow   = unix.SECCOMP_RET_ALLOW
	)
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	// jeq jumps jt instructions ahead when A == k, else jf ahead.
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	jge := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ret := func(k uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k}
	}
	and := func(k uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, K: k}
	}
	return []unix.SockFilter{
		/* 0 */ ld(offArch),
		/* 1 */ jeq(arch, 1, 0),
		/* 2 */ ret(deny), // another ABI (such as i386 on x86_64): nothing
		/* 3 */ ld(offNr),
		/* 4 */ jge(x32Bit, 0, 1),
		/* 5 */ ret(deny),
		/* 6 */ jeq(unix.SYS_IO_URING_SETUP, 0, 1),
		/* 7 */ ret(deny),
		/* 8 */ jeq(unix.SYS_SOCKET, 1, 0),
		/* 9 */ ret(allow),
		/* 10 */ ld(offArg0), // domain
		/* 11 */ jeq(unix.AF_INET, 1, 0),
		/* 12 */ jeq(unix.AF_INET6, 0, 8),
		/* 13 */ ld(offArg1), // type, without SOCK_NONBLOCK and SOCK_CLOEXEC
		/* 14 */ and(^uint32(unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC)),
		/* 15 */ jeq(unix.SOCK_STREAM, 0, 5),
		/* 16 */ ld(offArg2), // protocol
		/* 17 */ jeq(0, 2, 0),
		/* 18 */ jeq(unix.IPPROTO_TCP, 1, 0),
		/* 19 */ ret(deny),
		/* 20 */ ret(allow),
		/* 21 */ ret(deny),
	}
}

// restrictSockets installs the filter on the calling thread, which must
// be locked to its goroutine and then exec; no_new_privs is set first, as
// the kernel requires of an unprivileged filter.
func restrictSockets() error {
	arch := auditArch()
	if arch == 0 {
		return fmt.Errorf("seccomp: no filter for %s", runtime.GOARCH)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	filter := socketFilter(arch)
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_SECCOMP): %w", err)
	}
	runtime.KeepAlive(filter)
	return nil
}
