package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pool is the pgx pool as the queries of this package use it:
//
//   - every error that leaves it (connecting, querying, scanning,
//     committing) goes through translate, so an outage carries ErrUnavailable
//     whichever query met it, and no query has to remember to classify;
//   - every statement, and every wait for a connection, is bounded by
//     timeout (when the caller's context allows longer), so a server that
//     stops answering fails the statement instead of holding the request or
//     the job for as long as TCP takes to give up (about 15 minutes).
type pool struct {
	*pgxpool.Pool
	timeout time.Duration
}

// bound returns ctx limited to p.timeout from now.
func (p pool) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return boundCtx(ctx, p.timeout)
}

func boundCtx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, translate(err)
}

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := p.bound(ctx)
	r, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return r, translate(err)
	}
	return &rows{Rows: r, cancel: cancel}, nil
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := p.bound(ctx)
	return row{Row: p.Pool.QueryRow(ctx, sql, args...), cancel: cancel}
}

// Begin starts a transaction whose statements are bounded and whose errors
// are translated too; it is what pgx.BeginFunc calls.
func (p pool) Begin(ctx context.Context) (pgx.Tx, error) {
	bctx, cancel := p.bound(ctx)
	defer cancel()
	t, err := p.Pool.Begin(bctx)
	if err != nil {
		return nil, translate(err)
	}
	return tx{Tx: t, timeout: p.timeout}, nil
}

// Acquire bounds only the wait for a connection: the caller uses the
// connection with its own context. No query of this package holds a
// connection beyond one statement or transaction (session state such as
// advisory locks would not survive a transaction-mode pooler), so only a
// caller that must pin a session would use it.
func (p pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	c, err := p.Pool.Acquire(ctx)
	return c, translate(err)
}

func (p pool) Ping(ctx context.Context) error {
	ctx, cancel := p.bound(ctx)
	defer cancel()
	return translate(p.Pool.Ping(ctx))
}

type tx struct {
	pgx.Tx
	timeout time.Duration
}

func (t tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := boundCtx(ctx, t.timeout)
	defer cancel()
	tag, err := t.Tx.Exec(ctx, sql, args...)
	return tag, translate(err)
}

func (t tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := boundCtx(ctx, t.timeout)
	r, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return r, translate(err)
	}
	return &rows{Rows: r, cancel: cancel}, nil
}

func (t tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := boundCtx(ctx, t.timeout)
	return row{Row: t.Tx.QueryRow(ctx, sql, args...), cancel: cancel}
}

func (t tx) Commit(ctx context.Context) error {
	ctx, cancel := boundCtx(ctx, t.timeout)
	defer cancel()
	return translate(t.Tx.Commit(ctx))
}

func (t tx) Rollback(ctx context.Context) error {
	ctx, cancel := boundCtx(ctx, t.timeout)
	defer cancel()
	return translate(t.Tx.Rollback(ctx))
}

// rows releases its statement's deadline once the rows are read or closed.
type rows struct {
	pgx.Rows
	cancel context.CancelFunc
}

func (r *rows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.cancel()
	return false
}

func (r *rows) Close() {
	r.Rows.Close()
	r.cancel()
}

func (r *rows) Err() error             { return translate(r.Rows.Err()) }
func (r *rows) Scan(dest ...any) error { return translate(r.Rows.Scan(dest...)) }

type row struct {
	pgx.Row
	cancel context.CancelFunc
}

func (r row) Scan(dest ...any) error {
	defer r.cancel()
	return translate(r.Row.Scan(dest...))
}

// queryAll runs sql on p and scans every row with scan (pgx.AppendRows:
// the rows are closed and their error checked); errors are wrapped with op.
// No rows is a nil slice.
func queryAll[T any](ctx context.Context, p pool, op string, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := p.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := pgx.AppendRows([]T(nil), rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
