package postgres

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
)

// ReencryptCounts is what Reencrypt did, per table.
type ReencryptCounts struct {
	Table string `json:"table"`
	// Moved rows were sealed under another key and are now under the
	// current one.
	Moved int `json:"moved"`
	// Failed rows did not open (a key that is no longer configured, or a
	// damaged value): left as they are and counted, not retried in this run.
	Failed int `json:"failed"`
}

// Reencrypt moves every value sealed with secretbox (social account tokens,
// OAuth state verifiers, posts' upload sessions) to box's current key,
// batch rows per transaction. Rows already under the current key are not
// touched, so a second run changes nothing and a run interrupted by a crash
// is finished by the next one: each batch commits on its own. Rows locked
// by someone else (FOR UPDATE SKIP LOCKED) are skipped: whoever holds them
// is writing them, and writes always seal under the current key; a later
// run picks up any left. progress, when set, is called after each batch.
// The counts have one entry per table, in the order of sealedTables.
func Reencrypt(ctx context.Context, db *DB, box *secretbox.Box, batch int, progress func(ReencryptCounts)) ([]ReencryptCounts, error) {
	if batch < 1 {
		return nil, fmt.Errorf("reencrypt: batch must be at least 1, got %d", batch)
	}
	var out []ReencryptCounts
	for _, t := range sealedTables {
		counts, err := reencryptTable(ctx, db, box, batch, progress, t)
		out = append(out, counts)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// sealedTable is one table's sealed columns: how to select a batch not under
// the current key, read one row, and write it back re-sealed.
type sealedTable struct {
	name string
	// selectBatch: $1 the current key id, $2 the batch size, $3 keys (as
	// text) of rows that failed to open in this run.
	selectBatch string
	// scan reads a row of selectBatch.
	scan func(pgx.Rows) (sealedRow, error)
	// update: $1 the row's key, $2 the new key id, then the re-sealed
	// values in the order of sealedRow.columns.
	update string
}

var sealedTables = []sealedTable{
	{
		name: "social_accounts",
		selectBatch: `
			SELECT id, token_key_id, access_token_ciphertext, refresh_token_ciphertext FROM social_accounts
			WHERE token_key_id <> $1 AND NOT (id::text = ANY($3))
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
		scan: func(rows pgx.Rows) (sealedRow, error) {
			var r sealedRow
			var id uuid.UUID
			var access, refresh []byte
			err := rows.Scan(&id, &r.keyID, &access, &refresh)
			r.key, r.id = id.String(), id
			r.values, r.columns = [][]byte{access, refresh}, []string{"access_token", "refresh_token"}
			return r, err
		},
		update: `UPDATE social_accounts SET token_key_id = $2, access_token_ciphertext = $3, refresh_token_ciphertext = $4
			WHERE id = $1`,
	},
	{
		name: "social_oauth_states",
		selectBatch: `
			SELECT state_hash, verifier_key_id, verifier_ciphertext FROM social_oauth_states
			WHERE verifier_key_id <> $1 AND NOT (encode(state_hash, 'hex') = ANY($3))
			ORDER BY state_hash LIMIT $2 FOR UPDATE SKIP LOCKED`,
		scan: func(rows pgx.Rows) (sealedRow, error) {
			var r sealedRow
			var hash, verifier []byte
			err := rows.Scan(&hash, &r.keyID, &verifier)
			r.key, r.id = hex.EncodeToString(hash), hash
			r.values, r.columns = [][]byte{verifier}, []string{"verifier"}
			return r, err
		},
		update: `UPDATE social_oauth_states SET verifier_key_id = $2, verifier_ciphertext = $3 WHERE state_hash = $1`,
	},
	{
		// Only posts in flight hold a session (posts_upload_url_key_id_idx).
		// A worker saving the session at the same time waits for the row
		// lock and then writes its own value, sealed under the current key.
		name: "posts",
		selectBatch: `
			SELECT id, upload_url_key_id, upload_url_ciphertext FROM posts
			WHERE upload_url_key_id IS NOT NULL AND upload_url_key_id <> $1 AND NOT (id::text = ANY($3))
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
		scan: func(rows pgx.Rows) (sealedRow, error) {
			var r sealedRow
			var id uuid.UUID
			var session []byte
			err := rows.Scan(&id, &r.keyID, &session)
			r.key, r.id = id.String(), id
			// posts.SessionAdditionalData is social.AdditionalData(id, "upload_url").
			r.values, r.columns = [][]byte{session}, []string{"upload_url"}
			return r, err
		},
		update: `UPDATE posts SET upload_url_key_id = $2, upload_url_ciphertext = $3 WHERE id = $1`,
	},
}

// sealedRow is one row of a batch, opened and re-sealed before any write.
type sealedRow struct {
	key      string // the row's id as text
	id       any    // the row's key for the UPDATE
	keyID    string
	values   [][]byte // sealed values; nil stays nil
	columns  []string
	resealed [][]byte
}

func reencryptTable(ctx context.Context, db *DB, box *secretbox.Box, batch int, progress func(ReencryptCounts), t sealedTable) (ReencryptCounts, error) {
	counts := ReencryptCounts{Table: t.name}
	failed := []string{}
	for {
		var n int
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, t.selectBatch, box.Primary(), batch, failed)
			if err != nil {
				return err
			}
			var batchRows []sealedRow
			for rows.Next() {
				r, err := t.scan(rows)
				if err != nil {
					rows.Close()
					return err
				}
				batchRows = append(batchRows, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			n = len(batchRows)
			for _, r := range batchRows {
				ok := true
				r.resealed = make([][]byte, len(r.values))
				for i, v := range r.values {
					if v == nil {
						continue
					}
					ad := social.AdditionalData(r.key, r.columns[i])
					plain, err := box.Open(r.keyID, v, ad)
					if err != nil {
						ok = false
						break
					}
					if _, r.resealed[i], err = box.Seal(plain, ad); err != nil {
						return err
					}
				}
				if !ok {
					counts.Failed++
					failed = append(failed, r.key)
					continue
				}
				args := []any{r.id, box.Primary()}
				for _, v := range r.resealed {
					args = append(args, v)
				}
				if _, err := tx.Exec(ctx, t.update, args...); err != nil {
					return fmt.Errorf("update %s %s: %w", t.name, r.key, err)
				}
				counts.Moved++
			}
			return nil
		})
		if err != nil {
			return counts, fmt.Errorf("reencrypt %s: %w", t.name, err)
		}
		if progress != nil && n > 0 {
			progress(counts)
		}
		if n < batch {
			return counts, nil
		}
	}
}
