package postgres

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
)

// TestConcurrentTokensLeaveOneValid: "a new one supersedes the old" must
// hold when two tokens of one purpose are minted at once (two mail-sender
// workers delivering two forgot or resend mails of one account). Each
// transaction used to supersede only the tokens committed before it, so
// both new tokens stayed valid; the account's row lock now orders them.
func TestConcurrentTokensLeaveOneValid(t *testing.T) {
	db := migratedDB(t)
	store := AuthStore{DB: db}
	ctx := t.Context()
	u, err := store.CreateUser(ctx, auth.NewUser{Email: "race@example.com", Name: "Race", PasswordHash: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	valid := func(purpose string) int {
		t.Helper()
		var n int
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM auth_tokens WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL`,
			u.ID, purpose).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	purposes := []string{auth.PurposePasswordReset, auth.PurposeEmailVerification}
	const rounds, perPurpose = 30, 2
	for round := range rounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, purpose := range purposes {
			for range perPurpose {
				wg.Go(func() {
					<-start
					hash := sha256.Sum256([]byte(uuid.NewString()))
					err := store.CreateAuthToken(context.Background(), auth.AuthToken{UserID: u.ID, Purpose: purpose, Hash: hash[:], Email: u.Email, ExpiresAt: time.Now().Add(time.Hour)})
					if err != nil {
						t.Errorf("CreateAuthToken: %v", err)
					}
				})
			}
		}
		close(start)
		wg.Wait()
		for _, purpose := range purposes {
			if n := valid(purpose); n != 1 {
				t.Fatalf("round %d: %d valid %s tokens after %d concurrent ones, want 1", round+1, n, purpose, perPurpose)
			}
		}
	}
}
