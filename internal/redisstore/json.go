package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// SetJSON stores v as JSON under key (already prefixed, see Key) for ttl.
func SetJSON(ctx context.Context, c *Client, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return c.Set(ctx, key, b, ttl).Err()
}

// GetJSON reads the JSON value stored under key into a T; ok is false when
// the key does not exist.
func GetJSON[T any](ctx context.Context, c *Client, key string) (v T, ok bool, err error) {
	b, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return v, false, nil
	}
	if err != nil {
		return v, false, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("decode %s: %w", key, err)
	}
	return v, true, nil
}
