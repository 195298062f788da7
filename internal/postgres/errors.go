package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/videofn/videofn/internal/httpapi"
)

// ErrNotFound is returned, possibly wrapped, by queries of this package when
// the row they look up does not exist (pgx.ErrNoRows never escapes the
// package). Test for it with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrUnavailable is wrapped into every error of this package that comes from
// PostgreSQL being out of reach rather than from the query: the server
// refuses or drops connections, does not answer in time, is shutting down or
// starting up, or has no connection slot left. Such a failure is transient:
// callers answer 503 (HTTP) or ask for redelivery (queues). Test for it with
// errors.Is; the original driver error stays in the chain. It wraps
// httpapi.ErrUnavailable, which the API's one error table maps to 503 with
// Retry-After, so no layer in between needs to know about it.
var ErrUnavailable = fmt.Errorf("postgres: %w", httpapi.ErrUnavailable)

// uniqueViolation is SQLSTATE 23505, unique_violation.
const uniqueViolation = "23505"

// IsUniqueViolation reports whether err (or an error it wraps) is a
// PostgreSQL unique violation, and if so the name of the violated constraint
// or unique index, e.g. "users_email_key". The schema names every constraint,
// so callers can map a name to a domain error such as "email taken".
func IsUniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// translate returns err wrapped with ErrUnavailable when it says that the
// server is out of reach (see unavailable), and err unchanged otherwise
// (nil included).
func translate(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// unavailable reports whether err means that PostgreSQL could not be reached
// or dropped the connection, as opposed to an error in the query or the
// data. A server that answers with an error is available, except for the
// SQLSTATEs below; a connection attempt that the server refused for
// authentication or a missing database is a configuration error, not an
// outage.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	var opErr *net.OpError
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr), // refused, unreachable, timed out, reset during start-up
		errors.As(err, &opErr),                                      // a read or write on an established connection failed
		pgconn.Timeout(err),                                         // no answer within the context's deadline
		errors.Is(err, context.DeadlineExceeded),                    // no free connection in the pool in time
		errors.Is(err, pgconn.ErrConnClosed),                        // the driver had already closed the connection
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // the server closed it
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	return false
}

// unavailableState reports whether a SQLSTATE means the server cannot serve
// this session now: class 08 (connection exception), 53300
// (too_many_connections), 57P01 (admin_shutdown), 57P02 (crash_shutdown),
// 57P03 (cannot_connect_now: starting up, shutting down, in recovery) and
// 57P05 (idle_session_timeout, a connection the server closed while idle).
func unavailableState(code string) bool {
	if len(code) == 5 && code[:2] == "08" {
		return true
	}
	switch code {
	case "53300", "57P01", "57P02", "57P03", "57P05":
		return true
	}
	return false
}
