package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/testenv"
)

func TestTranslateMarksOnlyOutages(t *testing.T) {
	pgErr := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection failure 08006", pgErr("08006"), true},
		{"cannot establish 08001", pgErr("08001"), true},
		{"too many connections 53300", pgErr("53300"), true},
		{"admin shutdown 57P01", pgErr("57P01"), true},
		{"crash shutdown 57P02", pgErr("57P02"), true},
		{"cannot connect now 57P03", pgErr("57P03"), true},
		{"wrapped admin shutdown", fmt.Errorf("select user: %w", pgErr("57P01")), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"connection closed by the server", io.ErrUnexpectedEOF, true},
		{"pool acquire timed out", fmt.Errorf("acquire: %w", context.DeadlineExceeded), true},
		{"driver closed the connection", pgconn.ErrConnClosed, true},
		{"unique violation", pgErr("23505"), false},
		{"division by zero", pgErr("22012"), false},
		{"wrong password", pgErr("28P01"), false},
		{"missing database", pgErr("3D000"), false},
		{"statement timeout", pgErr("57014"), false},
		{"no rows", pgx.ErrNoRows, false},
		{"client went away", context.Canceled, false},
		{"domain error", ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := translate(tt.err)
			if errors.Is(got, ErrUnavailable) != tt.want {
				t.Fatalf("translate(%v) = %v; wraps ErrUnavailable: %t, want %t", tt.err, got, !tt.want, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("translate(%v) = %v lost the original error", tt.err, got)
			}
			if tt.want && !errors.Is(got, httpapi.ErrUnavailable) {
				t.Errorf("%v does not wrap httpapi.ErrUnavailable (the API would not answer 503)", got)
			}
		})
	}
	if translate(nil) != nil {
		t.Error("translate(nil) != nil")
	}
	once := translate(pgErr("57P01"))
	if got := translate(once); got != once {
		t.Errorf("translating twice wraps twice: %v", got)
	}
}

// TestOutagesSurfaceAsErrUnavailable meets each kind of outage on a real,
// private server: a session ended by a fast shutdown (57P01), a connection
// dropped by an immediate one, a server that refuses connections, a role
// without free connection slots (53300) and a pool with none free in time.
func TestOutagesSurfaceAsErrUnavailable(t *testing.T) {
	srv := testenv.StartPostgresServer(t)
	ctx := t.Context()
	db, err := Open(ctx, srv.URL("postgres")+"&pool_max_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustUnavailable := func(what string, err error, code string) {
		t.Helper()
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: %v does not wrap ErrUnavailable", what, err)
		}
		var pgErr *pgconn.PgError
		if code != "" && (!errors.As(err, &pgErr) || pgErr.Code != code) {
			t.Errorf("%s: %v, want SQLSTATE %s in the chain", what, err, code)
		}
	}

	// An ordinary failure is not an outage.
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT 1/0`).Scan(&n); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("division by zero: %v", err)
	}

	// Sessions open when the server shuts down: a transaction holds its
	// connection, so the next statement meets the shutdown itself.
	for _, tc := range []struct{ mode, code string }{{"fast", "57P01"}, {"immediate", ""}} {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		srv.Stop(t, tc.mode)
		_, err = tx.Exec(ctx, `SELECT 1`)
		mustUnavailable(tc.mode+" shutdown, open session", err, tc.code)
		tx.Rollback(ctx)
		mustUnavailable(tc.mode+" shutdown, new connection (refused)", db.Ping(ctx), "")
		srv.Start(t)
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	}

	// No connection slot left for the role: 53300 at connect time.
	if _, err := db.pool.Exec(ctx, `CREATE ROLE limited LOGIN CONNECTION LIMIT 0`); err != nil {
		t.Fatal(err)
	}
	limited, err := Open(ctx, fmt.Sprintf("postgres://limited@127.0.0.1:%d/postgres?sslmode=disable", srv.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer limited.Close()
	_, err = limited.pool.Exec(ctx, `SELECT 1`)
	mustUnavailable("role at its connection limit", err, "53300")

	// Every pool connection busy until the caller's deadline.
	tx1, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback(ctx)
	tx2, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback(ctx)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = db.pool.Exec(short, `SELECT 1`)
	mustUnavailable("pool exhausted", err, "")
}

// TestStatementsAgainstAHungServerFail: a server that accepts connections
// but never answers (frozen) must fail each statement at the query timeout,
// with ErrUnavailable, both on a pooled connection and on a new one; callers
// without a deadline of their own (a request, a job) would otherwise wait
// for as long as TCP keeps the connection.
func TestStatementsAgainstAHungServerFail(t *testing.T) {
	srv := testenv.StartPostgresServer(t)
	db, err := Open(t.Context(), srv.URL("postgres")+"&pool_max_conns=1", WithQueryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv.Freeze(t)
	for _, what := range []string{"pooled connection", "new connection"} {
		done := make(chan error, 1)
		go func() {
			var n int
			done <- db.pool.QueryRow(context.Background(), `SELECT 1`).Scan(&n)
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%s to a hung server: %v, want ErrUnavailable", what, err)
			}
		case <-time.After(2 * time.Minute): // a watchdog, far above the 1 s timeout
			srv.Thaw(t) // let the statement end, so that the pool can close
			t.Fatalf("%s to a hung server: no answer after 2 minutes; statements have no deadline", what)
		}
	}
	srv.Thaw(t)
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("after the server resumed: %v", err)
	}
}
