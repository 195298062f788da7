package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func fuzzTokens(f *testing.F) (*Tokens, time.Time) {
	f.Helper()
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tokens, err := NewTokens([]byte("fuzz-secret-0123456789abcdef0123456789"), 15*time.Minute, func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	return tokens, now
}

// FuzzVerifyAccessToken: no input panics Verify, and an accepted token
// (the fuzzer cannot forge the MAC) carries exactly the claims issued.
func FuzzVerifyAccessToken(f *testing.F) {
	tokens, _ := fuzzTokens(f)
	user := uuid.MustParse("7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5")
	session := uuid.MustParse("0b0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5")
	issued, err := tokens.Issue(user, session)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(issued)
	f.Add(strings.Replace(issued, ".", "x.", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := tokens.Verify(token)
		if err != nil {
			if err != ErrInvalidToken {
				t.Fatalf("Verify(%q) error = %v, want ErrInvalidToken", token, err)
			}
			return
		}
		if c.UserID != user || c.SessionID != session || c.TokenID == "" {
			t.Fatalf("Verify(%q) accepted claims %+v that were never issued", token, c)
		}
	})
}

// FuzzRefreshToken: wellFormedToken accepts exactly 43 characters of
// base64url holding 32 bytes, and a successor is always well formed.
func FuzzRefreshToken(f *testing.F) {
	tokens, _ := fuzzTokens(f)
	plain, _ := opaqueToken()
	f.Add(plain)
	f.Add(tokens.Successor(plain))
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("/", 43))
	f.Add(strings.Repeat("A", 44))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if wellFormedToken(s) {
			b, err := base64.RawURLEncoding.DecodeString(s)
			if len(s) != 43 || err != nil || len(b) != 32 {
				t.Fatalf("wellFormedToken(%q) accepted %d bytes (%v)", s, len(b), err)
			}
		}
		if next := tokens.Successor(s); !wellFormedToken(next) {
			t.Fatalf("Successor(%q) = %q is not well formed", s, next)
		}
	})
}

// FuzzVerifyCSRF: no input panics VerifyCSRF; an accepted token is the one
// minted for that binding (the MAC cannot be forged without the key) and no
// other binding accepts it.
func FuzzVerifyCSRF(f *testing.F) {
	tokens, _ := fuzzTokens(f)
	b := SessionBinding(uuid.MustParse("0b0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5"))
	// A fixed random part (CSRF would draw a new one in every fuzz worker
	// process) and its MAC: the one token the fuzzer may find accepted.
	random := strings.Repeat("r", 43)
	minted := random + "." + base64.RawURLEncoding.EncodeToString(csrfMAC(tokens.keys.csrfKey, b, random))
	if !tokens.VerifyCSRF(b, tokens.CSRF(b)) || !tokens.VerifyCSRF(b, minted) {
		f.Fatal("VerifyCSRF refuses minted tokens")
	}
	f.Add(minted)
	f.Add(random + ".")
	f.Add(random)
	f.Add(".")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if !tokens.VerifyCSRF(b, token) {
			return
		}
		if r, _, _ := strings.Cut(token, "."); r != random {
			t.Fatalf("VerifyCSRF accepted %q, not minted here", token)
		}
		if tokens.VerifyCSRF(CSRFBinding{}, token) || tokens.VerifyCSRF(PreSessionBinding(random), token) {
			t.Fatalf("VerifyCSRF accepted %q for another binding", token)
		}
	})
}
