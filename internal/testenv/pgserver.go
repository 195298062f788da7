package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// PostgresServer is a PostgreSQL server of the calling test's own, in a
// temporary directory and on a free loopback port, for tests that must stop
// and start the database under a running program (outages). The shared
// server of Postgres is never touched.
//
// Tests run as root here, and initdb and postgres refuse to: when the
// process is root, every PostgreSQL command runs as the "postgres" OS user
// (the Debian packages create it) in a directory that user owns.
type PostgresServer struct {
	// Port is the TCP port the server listens on (127.0.0.1 only). It stays
	// the same across Stop and Start, so clients reconnect to the same URL.
	Port int

	bin  string // directory of initdb and pg_ctl
	base string // temporary directory: data/, the socket and the log
	cred *syscall.Credential
}

// StartPostgresServer creates a cluster (initdb, trust authentication for
// the superuser "postgres" over TCP) and starts it; at cleanup the server is
// stopped and its directory removed. The binaries are taken from
// TEST_PG_BINDIR, else the newest /usr/lib/postgresql/<version>/bin, else
// `pg_config --bindir`. The test fails, never skips, when they are missing.
func StartPostgresServer(t testing.TB) *PostgresServer {
	t.Helper()
	s := &PostgresServer{bin: postgresBinDir(t)}
	if os.Geteuid() == 0 {
		s.cred = postgresUser(t)
	}
	base, err := os.MkdirTemp("", "pgserver-")
	if err != nil {
		t.Fatal(err)
	}
	s.base = base
	t.Cleanup(func() {
		// Immediate: nothing is worth keeping, and it never waits on clients.
		s.signal(syscall.SIGCONT) // a frozen server would never see the stop
		if s.running() {
			s.pgctl("stop", "-m", "immediate", "-w")
		}
		os.RemoveAll(base)
	})
	if s.cred != nil {
		if err := os.Chown(base, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatalf("testenv: chown %s: %v", base, err)
		}
	}
	if out, err := s.command("initdb", "-D", s.dataDir(), "-U", "postgres", "--auth=trust",
		"--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("testenv: initdb: %v\n%s", err, out)
	}
	// The port is chosen free just before the server binds it; another
	// process may take it in between, so try a few.
	for attempt := 1; ; attempt++ {
		s.Port = freeLoopbackPort(t)
		conf := fmt.Sprintf("\n# testenv.StartPostgresServer\nlisten_addresses = '127.0.0.1'\nport = %d\n"+
			"unix_socket_directories = '%s'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"+
			"max_connections = 30\nshared_buffers = 16MB\n", s.Port, s.base)
		if err := os.WriteFile(filepath.Join(s.dataDir(), "postgresql.auto.conf"), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if s.cred != nil {
			os.Chown(filepath.Join(s.dataDir(), "postgresql.auto.conf"), int(s.cred.Uid), int(s.cred.Gid))
		}
		out, err := s.pgctl("start", "-w", "-t", "120", "-l", s.logFile())
		if err == nil {
			return s
		}
		if attempt == 3 {
			t.Fatalf("testenv: start PostgreSQL: %v\n%s\nserver log:\n%s", err, out, s.Log())
		}
	}
}

// URL returns the URL of database on this server, as the superuser.
func (s *PostgresServer) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, database)
}

// Stop stops the server with pg_ctl's shutdown mode ("smart", "fast" or
// "immediate") and returns once it has stopped. "fast" ends every session
// with SQLSTATE 57P01 (admin shutdown); "immediate" drops the connections
// without a word, as a crash would.
func (s *PostgresServer) Stop(t testing.TB, mode string) {
	t.Helper()
	if out, err := s.pgctl("stop", "-m", mode, "-w", "-t", "120"); err != nil {
		t.Fatalf("testenv: stop PostgreSQL (%s): %v\n%s\nserver log:\n%s", mode, err, out, s.Log())
	}
}

// Start starts the stopped server again, on the same port, and returns once
// it accepts connections.
func (s *PostgresServer) Start(t testing.TB) {
	t.Helper()
	if out, err := s.pgctl("start", "-w", "-t", "120", "-l", s.logFile()); err != nil {
		t.Fatalf("testenv: start PostgreSQL: %v\n%s\nserver log:\n%s", err, out, s.Log())
	}
}

// Freeze stops every process of the server with SIGSTOP: connections stay
// open and the kernel still accepts new ones, but nothing answers, as with a
// hung server or a network that drops packets. Thaw resumes it; cleanup does
// too.
func (s *PostgresServer) Freeze(t testing.TB) {
	t.Helper()
	if n := s.signal(syscall.SIGSTOP); n == 0 {
		t.Fatal("testenv: freeze PostgreSQL: no server process found")
	}
}

// Thaw resumes a server stopped by Freeze.
func (s *PostgresServer) Thaw(t testing.TB) {
	t.Helper()
	if n := s.signal(syscall.SIGCONT); n == 0 {
		t.Fatal("testenv: thaw PostgreSQL: no server process found")
	}
}

// signal sends sig to the postmaster and to each of its children, and
// returns how many processes it signalled.
func (s *PostgresServer) signal(sig syscall.Signal) int {
	pidFile, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(pidFile), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || postmaster <= 0 {
		return 0
	}
	pids := []int{postmaster}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ")".
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat)[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			pids = append(pids, pid)
		}
	}
	n := 0
	for _, pid := range pids {
		if syscall.Kill(pid, sig) == nil {
			n++
		}
	}
	return n
}

// Log returns the server's log so far, for failure messages.
func (s *PostgresServer) Log() string {
	b, _ := os.ReadFile(s.logFile())
	return string(b)
}

func (s *PostgresServer) dataDir() string { return filepath.Join(s.base, "data") }
func (s *PostgresServer) logFile() string { return filepath.Join(s.base, "server.log") }

// running reports whether the postmaster of the data directory is alive.
func (s *PostgresServer) running() bool {
	_, err := s.pgctl("status")
	return err == nil
}

func (s *PostgresServer) pgctl(args ...string) ([]byte, error) {
	return s.command("pg_ctl", append([]string{"-D", s.dataDir()}, args...)...).CombinedOutput()
}

// command prepares a PostgreSQL program, as the postgres user when the test
// runs as root.
func (s *PostgresServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.base
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + s.base, "TZ=UTC"}
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// postgresBinDir finds the directory of initdb and pg_ctl.
func postgresBinDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("TEST_PG_BINDIR"); dir != "" {
		return dir
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) int { // /usr/lib/postgresql/15/bin -> 15
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(a) - version(b) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	t.Fatal("testenv: PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin " +
		"nor by pg_config; install the postgresql package or set TEST_PG_BINDIR")
	return ""
}

// postgresUser returns the credentials of the "postgres" OS user.
func postgresUser(t testing.TB) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("testenv: running as root, and PostgreSQL refuses to run as root: need the OS user \"postgres\": %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("testenv: user postgres has uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func freeLoopbackPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
