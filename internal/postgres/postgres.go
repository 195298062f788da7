// Package postgres is the PostgreSQL adapter: a pgx connection pool, the
// embedded schema migrations (goose), and the translation of driver errors
// into values the rest of the program can test for (ErrNotFound,
// ErrUnavailable, IsUniqueViolation).
//
// Opening a DB never touches the network, so the handler can start while
// PostgreSQL is down; connections are made on first use and health is reported
// by Ping. Every error of a DB that comes from PostgreSQL being out of reach
// wraps ErrUnavailable.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool defaults, applied unless the database URL sets the corresponding
// parameter (pool_max_conns, pool_health_check_period, connect_timeout, ...).
const (
	// defaultMaxConns is sized for one function instance: PostgreSQL Flexible
	// Server's connection limit is shared by every instance the platform scales to.
	defaultMaxConns          = 10
	defaultConnectTimeout    = 5 * time.Second
	defaultHealthCheckPeriod = 30 * time.Second
	// defaultMaxConnLifetime recycles connections so that server fail-overs and
	// credential rotations are picked up without a restart.
	defaultMaxConnLifetime = 30 * time.Minute
	defaultMaxConnIdleTime = 5 * time.Minute
	defaultApplicationName = "videofn"
	// defaultQueryTimeout bounds each statement and each wait for a pool
	// connection (see WithQueryTimeout). Every query of this program is a
	// short index lookup or update; a server that does not answer within
	// this is treated as unavailable.
	defaultQueryTimeout = 15 * time.Second
)

// errInvalidURL is returned for a database URL the driver cannot parse. The
// driver's own message is deliberately dropped: it quotes the input and its
// password redaction is best effort.
var errInvalidURL = errors.New("invalid connection string " +
	"(expected postgres://user[:password]@host[:port]/dbname[?param=value]; " +
	"the parser's message is withheld because it may contain the password)")

// DB is a pool of PostgreSQL connections. It is safe for concurrent use.
type DB struct {
	pool pool
}

// openOptions are what Options change besides the pool configuration.
type openOptions struct {
	queryTimeout time.Duration
}

// Open parses databaseURL and returns a DB whose pool connects lazily: Open
// itself makes no connection, so it succeeds while PostgreSQL is unreachable.
// The pool is limited to 10 connections, each connection attempt to 5 s, and
// idle connections are health-checked every 30 s; parameters set in the URL
// (pool_max_conns, connect_timeout, ...) take precedence. Each statement the
// DB runs, and each wait for a free connection, is limited to 15 s unless
// the caller's context ends sooner (WithQueryTimeout). An unparsable URL
// yields an error that never contains the URL or its password.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*DB, error) {
	cfg, err := parseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	oo := openOptions{queryTimeout: defaultQueryTimeout}
	for _, o := range opts {
		o(cfg, &oo)
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{pool: pool{Pool: p, timeout: oo.queryTimeout}}, nil
}

// Option changes how Open connects.
type Option func(*pgxpool.Config, *openOptions)

// WithQueryTimeout sets the longest a statement of the DB may run, or wait
// for a pool connection, when the caller's context allows longer; 0 leaves
// statements bounded by their context only. A statement that hits it fails
// with an error wrapping ErrUnavailable.
func WithQueryTimeout(d time.Duration) Option {
	return func(_ *pgxpool.Config, o *openOptions) { o.queryTimeout = d }
}

// WithPasswordFunc makes every new connection ask fn for its password, for
// Entra ID authentication where the password is a short-lived access token
// (Azure Database for PostgreSQL); the token source is expected to cache.
func WithPasswordFunc(fn func(ctx context.Context) (string, error)) Option {
	return func(cfg *pgxpool.Config, _ *openOptions) {
		cfg.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
			pw, err := fn(ctx)
			if err != nil {
				return fmt.Errorf("postgres password: %w", err)
			}
			cc.Password = pw
			return nil
		}
	}
}

// parseConfig parses databaseURL and applies the defaults above for every
// setting the URL leaves out.
func parseConfig(databaseURL string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", errInvalidURL)
	}
	// pgx has its own defaults for these; "set in the URL" is the only signal
	// that the operator chose a value, and the parameter names are unambiguous.
	set := func(param string) bool { return strings.Contains(databaseURL, param+"=") }
	if !set("pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if !set("pool_health_check_period") {
		cfg.HealthCheckPeriod = defaultHealthCheckPeriod
	}
	if !set("pool_max_conn_lifetime") {
		cfg.MaxConnLifetime = defaultMaxConnLifetime
	}
	if !set("pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = defaultMaxConnIdleTime
	}
	if !set("connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = defaultApplicationName
	}
	return cfg, nil
}

// Close closes every connection of the pool, waiting for connections in use
// to be released. The DB must not be used afterwards.
func (db *DB) Close() { db.pool.Close() }

// Ping acquires a connection (connecting if the pool has none) and checks that
// the server answers. It is what the health endpoint reports.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Pool returns the underlying pgx pool, for packages that run their own
// queries and transactions. It stays owned by db: do not close it.
func (db *DB) Pool() *pgxpool.Pool { return db.pool.Pool }
