package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/videofn/videofn/internal/auth"
)

// Handoff keeps the one-time codes of Google sign-in in Redis, by hash,
// with a TTL. Take is GETDEL, so a code works once even when two requests
// race for it.
type Handoff struct {
	Client *Client
}

var _ auth.HandoffStore = Handoff{}

func (h Handoff) key(codeHash []byte) string {
	return h.Client.Key("handoff:" + hex.EncodeToString(codeHash))
}

// Put stores the code for ttl.
func (h Handoff) Put(ctx context.Context, codeHash []byte, userID uuid.UUID, ttl time.Duration) error {
	if err := h.Client.SetArgs(ctx, h.key(codeHash), userID.String(), redis.SetArgs{Mode: "NX", TTL: ttl}).Err(); err != nil {
		return fmt.Errorf("store hand-off code: %w", err)
	}
	return nil
}

// Take returns the user id of the code and deletes it; auth.ErrInvalidToken
// when the code is unknown, expired or already used.
func (h Handoff) Take(ctx context.Context, codeHash []byte) (uuid.UUID, error) {
	v, err := h.Client.GetDel(ctx, h.key(codeHash)).Result()
	if errors.Is(err, redis.Nil) {
		return uuid.Nil, auth.ErrInvalidToken
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("take hand-off code: %w", err)
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, auth.ErrInvalidToken
	}
	return id, nil
}
