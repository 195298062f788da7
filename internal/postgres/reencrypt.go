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
// OAuth state verifiers) to box's current key, batch rows per transaction.
// Rows already under the current key are not touched, so a second run
// changes nothing and a run interrupted by a crash is finished by the next
// one: each batch commits on its own. Rows locked by someone else (FOR
// UPDATE SKIP LOCKED) are skipped: whoever holds them is writing them, and
// writes always seal under the current key; a later run picks up any left.
// progress, when set, is called after each batch.
func Reencrypt(ctx context.Context, db *DB, box *secretbox.Box, batch int, progress func(ReencryptCounts)) ([]ReencryptCounts, error) {
	if batch < 1 {
		return nil, fmt.Errorf("reencrypt: batch must be at least 1, got %d", batch)
	}
	accounts, err := reencryptTable(ctx, db, box, batch, progress, socialAccountsSealed)
	if err != nil {
		return []ReencryptCounts{accounts}, err
	}
	states, err := reencryptTable(ctx, db, box, batch, progress, oauthStatesSealed)
	return []ReencryptCounts{accounts, states}, err
}

// sealedTable is one table's sealed columns: how to select a batch not under
// the current key, and how to re-seal and write one row.
type sealedTable struct {
	name string
	// selectBatch: $1 the current key id, $2 the batch size, $3 keys (as
	// text) of rows that failed to open in this run.
	selectBatch string
}

var socialAccountsSealed = sealedTable{
	name: "social_accounts",
	selectBatch: `
		SELECT id, token_key_id, access_token_ciphertext, refresh_token_ciphertext FROM social_accounts
		WHERE token_key_id <> $1 AND NOT (id::text = ANY($3))
		ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
}

var oauthStatesSealed = sealedTable{
	name: "social_oauth_states",
	selectBatch: `
		SELECT state_hash, verifier_key_id, verifier_ciphertext FROM social_oauth_states
		WHERE verifier_key_id <> $1 AND NOT (encode(state_hash, 'hex') = ANY($3))
		ORDER BY state_hash LIMIT $2 FOR UPDATE SKIP LOCKED`,
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
				var r sealedRow
				if t.name == "social_accounts" {
					var id uuid.UUID
					var access, refresh []byte
					if err := rows.Scan(&id, &r.keyID, &access, &refresh); err != nil {
						rows.Close()
						return err
					}
					r.key, r.id = id.String(), id
					r.values, r.columns = [][]byte{access, refresh}, []string{"access_token", "refresh_token"}
				} else {
					var hash, verifier []byte
					if err := rows.Scan(&hash, &r.keyID, &verifier); err != nil {
						rows.Close()
						return err
					}
					r.key, r.id = hex.EncodeToString(hash), hash
					r.values, r.columns = [][]byte{verifier}, []string{"verifier"}
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
				var err error
				if t.name == "social_accounts" {
					_, err = tx.Exec(ctx, `
						UPDATE social_accounts SET token_key_id = $2, access_token_ciphertext = $3, refresh_token_ciphertext = $4
						WHERE id = $1`, r.id, box.Primary(), r.resealed[0], r.resealed[1])
				} else {
					_, err = tx.Exec(ctx, `
						UPDATE social_oauth_states SET verifier_key_id = $2, verifier_ciphertext = $3 WHERE state_hash = $1`,
						r.id, box.Primary(), r.resealed[0])
				}
				if err != nil {
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
