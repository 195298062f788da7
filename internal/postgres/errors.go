package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotFound is returned, possibly wrapped, by queries of this package when
// the row they look up does not exist (pgx.ErrNoRows never escapes the
// package). Test for it with errors.Is.
var ErrNotFound = errors.New("not found")

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
