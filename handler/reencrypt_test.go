package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/posts"
	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
)

// A DATA_ENCRYPTION_KEY rotation end to end on the real database: tokens,
// verifiers and posts' upload sessions sealed under the old key; a reencrypt interrupted after its
// first batch; a re-run finishes; everything opens under the new key alone;
// a third run changes nothing.
func TestReencryptMovesEverySealedValueToTheCurrentKey(t *testing.T) {
	env := testEnv(t)
	oldKey, newKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	env["DATA_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(newKey)
	env["DATA_ENCRYPTION_KEY_PREVIOUS"] = base64.StdEncoding.EncodeToString(oldKey)
	oldBox, _ := secretbox.FromKeys(oldKey)
	newOnly, _ := secretbox.FromKeys(newKey)
	ctx := t.Context()
	conn := connectDB(t, env)

	const accounts = 150 // more than one batch
	type account struct {
		id      uuid.UUID
		refresh bool
	}
	var all []account
	type post struct {
		id      uuid.UUID
		session string
	}
	var inFlight []post
	for i := range accounts {
		var userID uuid.UUID
		if err := conn.QueryRow(ctx, `INSERT INTO users (email) VALUES ($1) RETURNING id`, fmt.Sprintf("u%d@example.com", i)).Scan(&userID); err != nil {
			t.Fatal(err)
		}
		a := account{id: uuid.New(), refresh: i%3 != 0}
		_, access, _ := oldBox.Seal([]byte(fmt.Sprintf("access-%d", i)), social.AdditionalData(a.id.String(), "access_token"))
		var refresh []byte
		if a.refresh {
			_, refresh, _ = oldBox.Seal([]byte(fmt.Sprintf("refresh-%d", i)), social.AdditionalData(a.id.String(), "refresh_token"))
		}
		if _, err := conn.Exec(ctx, `
			INSERT INTO social_accounts (id, user_id, platform, handle, external_id, token_key_id, access_token_ciphertext, refresh_token_ciphertext)
			VALUES ($1, $2, 'youtube', $3, $3, $4, $5, $6)`, a.id, userID, fmt.Sprintf("ch%d", i), oldBox.Primary(), access, refresh); err != nil {
			t.Fatal(err)
		}
		all = append(all, a)
		if i < 3 {
			hash := sha256.Sum256([]byte(fmt.Sprintf("state-%d", i)))
			_, verifier, _ := oldBox.Seal([]byte(fmt.Sprintf("verifier-%d", i)), social.AdditionalData(hex.EncodeToString(hash[:]), "verifier"))
			if _, err := conn.Exec(ctx, `
				INSERT INTO social_oauth_states (state_hash, user_id, platform, verifier_ciphertext, verifier_key_id, expires_at)
				VALUES ($1, $2, 'youtube', $3, $4, now() + interval '10 minutes')`, hash[:], userID, verifier, oldBox.Primary()); err != nil {
				t.Fatal(err)
			}
			// A post publishing, its upload session sealed as the worker seals it.
			p := post{id: uuid.New(), session: fmt.Sprintf("https://upload.example/s?upload_id=session-%d", i)}
			_, session, _ := oldBox.Seal([]byte(p.session), posts.SessionAdditionalData(p.id))
			if _, err := conn.Exec(ctx, `
				WITH v AS (INSERT INTO videos (user_id, title, source, source_url, status, content_type, size_bytes)
					VALUES ($2, 'v', 'url', 'https://example.com/v', 'ready', 'video/mp4', 100) RETURNING id)
				INSERT INTO posts (id, user_id, video_id, social_account_id, scheduled_at, status, attempt, lease_until,
					upload_url_key_id, upload_url_ciphertext)
				SELECT $1, $2, v.id, $3, now(), 'publishing', 1, now() + interval '5 minutes', $4, $5 FROM v`,
				p.id, userID, a.id, oldBox.Primary(), session); err != nil {
				t.Fatal(err)
			}
			inFlight = append(inFlight, p)
		}
	}

	// A crash after the first batch: that batch is committed, the rest is not.
	db, err := postgres.Open(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	rotating, _ := secretbox.FromKeys(newKey, oldKey)
	crash, stop := context.WithCancel(ctx)
	_, err = postgres.Reencrypt(crash, db, rotating, 100, func(postgres.ReencryptCounts) { stop() })
	if err == nil {
		t.Fatal("the interrupted run did not fail")
	}
	var moved int
	conn.QueryRow(ctx, `SELECT count(*) FROM social_accounts WHERE token_key_id = $1`, newOnly.Primary()).Scan(&moved)
	if moved != 100 {
		t.Fatalf("after the interrupted run %d accounts are under the new key, want the first batch (100)", moved)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"handler", "reencrypt"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("reencrypt: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "social_accounts: 50 moved") || !strings.Contains(out.String(), "social_oauth_states: 3 moved") ||
		!strings.Contains(out.String(), "posts: 3 moved") {
		t.Errorf("reencrypt printed:\n%s", out.String())
	}

	// Everything opens under the new key alone: the old key can be removed.
	for i, a := range all {
		var keyID string
		var access, refresh []byte
		if err := conn.QueryRow(ctx, `SELECT token_key_id, access_token_ciphertext, refresh_token_ciphertext FROM social_accounts WHERE id = $1`, a.id).
			Scan(&keyID, &access, &refresh); err != nil {
			t.Fatal(err)
		}
		got, err := newOnly.Open(keyID, access, social.AdditionalData(a.id.String(), "access_token"))
		if err != nil || string(got) != fmt.Sprintf("access-%d", i) {
			t.Fatalf("account %d access token: %q, %v", i, got, err)
		}
		if a.refresh != (refresh != nil) {
			t.Fatalf("account %d refresh token presence changed", i)
		}
		if a.refresh {
			if got, err := newOnly.Open(keyID, refresh, social.AdditionalData(a.id.String(), "refresh_token")); err != nil || string(got) != fmt.Sprintf("refresh-%d", i) {
				t.Fatalf("account %d refresh token: %q, %v", i, got, err)
			}
		}
	}
	rows, _ := conn.Query(ctx, `SELECT state_hash, verifier_key_id, verifier_ciphertext FROM social_oauth_states`)
	for rows.Next() {
		var hash, v []byte
		var keyID string
		rows.Scan(&hash, &keyID, &v)
		if _, err := newOnly.Open(keyID, v, social.AdditionalData(hex.EncodeToString(hash), "verifier")); err != nil {
			t.Errorf("verifier under %s: %v", keyID, err)
		}
	}
	rows.Close()
	for _, p := range inFlight {
		var keyID string
		var session []byte
		if err := conn.QueryRow(ctx, `SELECT upload_url_key_id, upload_url_ciphertext FROM posts WHERE id = $1`, p.id).Scan(&keyID, &session); err != nil {
			t.Fatal(err)
		}
		if got, err := newOnly.Open(keyID, session, posts.SessionAdditionalData(p.id)); err != nil || string(got) != p.session {
			t.Errorf("post %s upload session: %q, %v", p.id, got, err)
		}
	}

	// A second run (even without the old key) changes nothing.
	delete(env, "DATA_ENCRYPTION_KEY_PREVIOUS")
	out.Reset()
	if err := run(ctx, []string{"handler", "reencrypt"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("second reencrypt: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "social_accounts: 0 moved") || !strings.Contains(out.String(), "social_oauth_states: 0 moved") ||
		!strings.Contains(out.String(), "posts: 0 moved") {
		t.Errorf("second run printed:\n%s", out.String())
	}

	// A value under a key that is not configured is reported, not skipped silently.
	stray, _ := secretbox.FromKeys(bytes.Repeat([]byte("s"), 32))
	_, access, _ := stray.Seal([]byte("x"), social.AdditionalData(all[0].id.String(), "access_token"))
	conn.Exec(ctx, `UPDATE social_accounts SET token_key_id = $2, access_token_ciphertext = $3, refresh_token_ciphertext = NULL WHERE id = $1`, all[0].id, stray.Primary(), access)
	_, session, _ := stray.Seal([]byte("https://upload.example/stray"), posts.SessionAdditionalData(inFlight[0].id))
	conn.Exec(ctx, `UPDATE posts SET upload_url_key_id = $2, upload_url_ciphertext = $3 WHERE id = $1`, inFlight[0].id, stray.Primary(), session)
	out.Reset()
	err = run(ctx, []string{"handler", "reencrypt"}, func(k string) string { return env[k] }, &out)
	for _, table := range []string{"social_accounts", "posts"} {
		if err == nil || !strings.Contains(out.String(), table+": 0 moved to key "+newOnly.Primary()+", 1 failed to open") {
			t.Errorf("a %s row under an unknown key: %v\n%s", table, err, out.String())
		}
	}
}
