// Package redisstore wires the Redis client (go-redis/v9) that holds rate
// limits, OAuth hand-off codes and import progress. The client connects
// lazily: Open never blocks on Redis being up.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client is the project's Redis client. Prefix is prepended to every key the
// project writes, so tests (and several apps on one Redis) do not collide.
type Client struct {
	*redis.Client
	Prefix string
}

// Open parses redisURL (redis:// or rediss://) and returns a client that
// connects on first use, with short timeouts so that a Redis outage makes
// requests fail fast instead of hang. The error never contains the password.
func Open(redisURL, prefix string, options ...Option) (*Client, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, errors.New("parse REDIS_URL: not a valid redis:// or rediss:// URL")
	}
	for _, o := range options {
		o(opts)
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.PoolTimeout = 2 * time.Second
	opts.MaxRetries = 1
	// Honour context deadlines on socket I/O, so callers' timeouts bound
	// every command.
	opts.ContextTimeoutEnabled = true
	return &Client{Client: redis.NewClient(opts), Prefix: prefix}, nil
}

// Option changes how Open connects.
type Option func(*redis.Options)

// WithPasswordFunc makes every new connection authenticate as the URL's
// user with the password fn returns: an Entra ID access token for Azure
// Managed Redis (the user is the identity's object id). The token source is
// expected to cache; connections opened after a token expires get a new one.
func WithPasswordFunc(fn func(ctx context.Context) (string, error)) Option {
	return func(o *redis.Options) {
		user := o.Username
		o.CredentialsProviderContext = func(ctx context.Context) (string, string, error) {
			pw, err := fn(ctx)
			if err != nil {
				return "", "", fmt.Errorf("redis password: %w", err)
			}
			return user, pw, nil
		}
	}
}

// logAdapter sends go-redis's internal log lines (dial failures and the
// like) to the structured log instead of stderr, which the Functions host
// records as errors.
type logAdapter struct{ logger *slog.Logger }

func (a logAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.logger.Warn("redis client", "detail", fmt.Sprintf(format, v...))
}

// RouteLogs makes go-redis log through logger. go-redis's logger is
// process-wide, so only main calls this.
func RouteLogs(logger *slog.Logger) { redis.SetLogger(logAdapter{logger}) }

// Key returns the full key for name, with the client's prefix.
func (c *Client) Key(name string) string { return c.Prefix + name }

// Ping reports whether Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}
