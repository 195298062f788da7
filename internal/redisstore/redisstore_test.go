package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/videofn/videofn/internal/redisstore"
	"github.com/videofn/videofn/internal/testenv"
)

func TestOpenPingAndPrefix(t *testing.T) {
	url, prefix := testenv.Redis(t)
	c, err := redisstore.Open(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	key := c.Key("probe")
	if !strings.HasPrefix(key, prefix) {
		t.Errorf("key %q lacks prefix %q", key, prefix)
	}
	if err := c.Set(ctx, key, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	c.Del(ctx, key)
}

func TestOpenIsLazyAndPingFailsFast(t *testing.T) {
	c, err := redisstore.Open("redis://:hunter2@127.0.0.1:1/0", "")
	if err != nil {
		t.Fatalf("Open contacted Redis or rejected a valid URL: %v", err)
	}
	defer c.Close()
	start := time.Now()
	err = c.Ping(context.Background())
	if err == nil {
		t.Fatal("Ping succeeded against a closed port")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Ping took %v", time.Since(start))
	}
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	_, err := redisstore.Open("http://user:hunter2@host", "")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
}
