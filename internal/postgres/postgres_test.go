package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/videofn/videofn/internal/testenv"
)

func TestOpenDoesNotConnect(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: Open must still succeed at once, because the
	// handler starts before (or without) PostgreSQL.
	const url = "postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable"
	start := time.Now()
	db, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open with PostgreSQL unreachable: %v", err)
	}
	defer db.Close()
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Open took %v, want it not to wait for the server", elapsed)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = db.Ping(ctx)
	if err == nil {
		t.Fatal("Ping with PostgreSQL unreachable: got nil error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Ping error leaks the password: %v", err)
	}
}

func TestOpenInvalidURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
	}{
		{"bad port", "postgres://app:s3cr3t-pw@localhost:notaport/db"},
		{"bad sslmode", "postgres://app:s3cr3t-pw@localhost/db?sslmode=sometimes"},
		{"bad pool size", "postgres://app:s3cr3t-pw@localhost/db?pool_max_conns=many"},
		{"malformed escape", "postgres://app:s3cr3t-pw%zz@localhost/db"},
		{"keyword form", "host=localhost password=s3cr3t-pw port=notaport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.url)
			if err == nil {
				db.Close()
				t.Fatal("got nil error, want a parse error")
			}
			if !errors.Is(err, errInvalidURL) {
				t.Errorf("got %v, want errInvalidURL", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks the password: %v", err)
			}
			if _, err := Migrate(t.Context(), tt.url, nil); err == nil || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("Migrate: got %v, want a parse error without the password", err)
			}
		})
	}
}

func TestOpenPoolSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		url                string
		wantMaxConns       int32
		wantConnectTimeout time.Duration
		wantAppName        string
	}{
		{
			name:               "defaults",
			url:                "postgres://u@localhost/db",
			wantMaxConns:       defaultMaxConns,
			wantConnectTimeout: defaultConnectTimeout,
			wantAppName:        defaultApplicationName,
		},
		{
			name:               "URL parameters win",
			url:                "postgres://u@localhost/db?pool_max_conns=3&connect_timeout=2&application_name=worker",
			wantMaxConns:       3,
			wantConnectTimeout: 2 * time.Second,
			wantAppName:        "worker",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.url)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			cfg := db.Pool().Config()
			if got := cfg.MaxConns; got != tt.wantMaxConns {
				t.Errorf("MaxConns: got %d, want %d", got, tt.wantMaxConns)
			}
			if got := cfg.ConnConfig.ConnectTimeout; got != tt.wantConnectTimeout {
				t.Errorf("ConnectTimeout: got %v, want %v", got, tt.wantConnectTimeout)
			}
			if got := cfg.ConnConfig.RuntimeParams["application_name"]; got != tt.wantAppName {
				t.Errorf("application_name: got %q, want %q", got, tt.wantAppName)
			}
			if got := cfg.HealthCheckPeriod; got <= 0 {
				t.Errorf("HealthCheckPeriod: got %v, want > 0", got)
			}
			if got := cfg.MinConns; got != 0 {
				t.Errorf("MinConns: got %d, want 0 (no connection before first use)", got)
			}
		})
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	db, err := Open(t.Context(), testenv.Postgres(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	var got string
	if err := db.Pool().QueryRow(t.Context(), "SELECT current_setting('application_name')").Scan(&got); err != nil {
		t.Fatalf("query application_name: %v", err)
	}
	if got != defaultApplicationName {
		t.Errorf("application_name: got %q, want %q", got, defaultApplicationName)
	}
}

func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	unique := &pgconn.PgError{Code: "23505", ConstraintName: "users_email_key"}
	tests := []struct {
		name           string
		err            error
		wantConstraint string
		wantOK         bool
	}{
		{"nil", nil, "", false},
		{"plain error", errors.New("boom"), "", false},
		{"other server error", &pgconn.PgError{Code: "23514", ConstraintName: "users_email_normalized_check"}, "", false},
		{"unique violation", unique, "users_email_key", true},
		{"wrapped unique violation", fmt.Errorf("insert user: %w", unique), "users_email_key", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotConstraint, gotOK := IsUniqueViolation(tt.err)
			if gotConstraint != tt.wantConstraint || gotOK != tt.wantOK {
				t.Errorf("got (%q, %v), want (%q, %v)", gotConstraint, gotOK, tt.wantConstraint, tt.wantOK)
			}
		})
	}
}
