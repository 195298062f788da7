package ratelimit

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// libPrefix is the fixed prefix redis_rate puts before every key it is given.
const libPrefix = "rate:"

// keyspace is the client handed to redis_rate. The library prepends its fixed
// "rate:" to every key, while this project keeps each of its keys under its
// own prefix (redisstore.Client.Prefix), so keyspace strips "rate:" again
// before a command reaches Redis: the Limiter's keys are exactly
// prefix+"rl:"+name+":"+hash. TestKeysHideSubjects checks this, so an upgrade
// that changes the library's prefix fails the tests instead of moving keys.
type keyspace struct{ rdb *redis.Client }

func (k keyspace) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return k.rdb.Eval(ctx, script, unprefixed(keys), args...)
}

func (k keyspace) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return k.rdb.EvalSha(ctx, sha1, unprefixed(keys), args...)
}

func (k keyspace) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return k.rdb.EvalRO(ctx, script, unprefixed(keys), args...)
}

func (k keyspace) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return k.rdb.EvalShaRO(ctx, sha1, unprefixed(keys), args...)
}

func (k keyspace) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return k.rdb.ScriptExists(ctx, hashes...)
}

func (k keyspace) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return k.rdb.ScriptLoad(ctx, script)
}

func (k keyspace) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return k.rdb.Del(ctx, unprefixed(keys)...)
}

func unprefixed(keys []string) []string {
	out := make([]string, len(keys))
	for i, key := range keys {
		out[i] = strings.TrimPrefix(key, libPrefix)
	}
	return out
}
