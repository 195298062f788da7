// Package testenv gives tests access to the real services the project depends
// on: PostgreSQL, Redis and Azurite. It never skips: a missing service fails the
// test with a message that says how to start it, because `make test` (and CI)
// start every service first.
//
// Each helper isolates the calling test: PostgreSQL gets a fresh database that
// is dropped at cleanup, Redis gets a key prefix, Azurite gets a fresh container.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDatabaseURL is the administrative database used to create per-test
// databases when TEST_DATABASE_URL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DefaultRedisURL is used when TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// AzuriteConnectionString is Azurite's well-known development account on its
// default blob port. TEST_STORAGE_CONNECTION_STRING overrides it.
const AzuriteConnectionString = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
	"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RandomSuffix returns n random hex characters, for names that must not collide
// between concurrently running tests.
func RandomSuffix(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)[:n]
}

// AdminDatabaseURL returns the URL of the database used to create test databases.
func AdminDatabaseURL() string { return env("TEST_DATABASE_URL", DefaultDatabaseURL) }

// Postgres creates an empty database for the calling test, drops it when the
// test ends, and returns its URL. The test fails when PostgreSQL is unreachable.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := AdminDatabaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL unreachable at %s (run `make services`): %v", redact(admin), err)
	}
	defer conn.Close(context.Background())

	name := "t_" + RandomSuffix(16)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", redact(admin), err)
	}
	u.Path = "/" + name
	return u.String()
}

// Redis returns the Redis URL and a key prefix unique to the calling test. The
// test fails when Redis is unreachable.
func Redis(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL = env("TEST_REDIS_URL", DefaultRedisURL)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatalf("testenv: parse %s: %v", redact(redisURL), err)
	}
	mustDial(t, "Redis", u.Host)
	return redisURL, "test:" + RandomSuffix(12) + ":"
}

// Storage returns a connection string for Azurite. The test fails when the
// blob endpoint is unreachable.
func Storage(t testing.TB) string {
	t.Helper()
	cs := env("TEST_STORAGE_CONNECTION_STRING", AzuriteConnectionString)
	host := "127.0.0.1:10000"
	for _, part := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(k, "BlobEndpoint") {
			if u, err := url.Parse(v); err == nil {
				host = u.Host
			}
		}
	}
	mustDial(t, "Azurite", host)
	return cs
}

func mustDial(t testing.TB, what, hostport string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		t.Fatalf("testenv: %s unreachable at %s (run `make services`): %v", what, hostport, err)
	}
	c.Close()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// ContainerName returns a valid, unique blob container name for a test.
func ContainerName() string { return fmt.Sprintf("test-%s", RandomSuffix(20)) }
