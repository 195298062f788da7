package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pool is the pgx pool as the queries of this package use it: every error
// that leaves it (connecting, querying, scanning, committing) goes through
// translate, so that an outage carries ErrUnavailable whichever query met
// it, and no query has to remember to classify its errors.
type pool struct{ *pgxpool.Pool }

func (p pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, translate(err)
}

func (p pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		return r, translate(err)
	}
	return rows{r}, nil
}

func (p pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{p.Pool.QueryRow(ctx, sql, args...)}
}

// Begin starts a transaction whose errors are translated too; it is what
// pgx.BeginFunc calls.
func (p pool) Begin(ctx context.Context) (pgx.Tx, error) {
	t, err := p.Pool.Begin(ctx)
	if err != nil {
		return nil, translate(err)
	}
	return tx{t}, nil
}

func (p pool) Acquire(ctx context.Context) (*pgxpool.Conn, error) {
	c, err := p.Pool.Acquire(ctx)
	return c, translate(err)
}

func (p pool) Ping(ctx context.Context) error { return translate(p.Pool.Ping(ctx)) }

type tx struct{ pgx.Tx }

func (t tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.Tx.Exec(ctx, sql, args...)
	return tag, translate(err)
}

func (t tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		return r, translate(err)
	}
	return rows{r}, nil
}

func (t tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return row{t.Tx.QueryRow(ctx, sql, args...)}
}

func (t tx) Commit(ctx context.Context) error { return translate(t.Tx.Commit(ctx)) }

type rows struct{ pgx.Rows }

func (r rows) Err() error             { return translate(r.Rows.Err()) }
func (r rows) Scan(dest ...any) error { return translate(r.Rows.Scan(dest...)) }

type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return translate(r.Row.Scan(dest...)) }
