package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCSRFTokensAreBoundAndSigned(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	tokens, err := NewTokens(secret, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTokens([]byte("another secret, another secret!!"), 0, nil)
	sidA, sidB := uuid.New(), uuid.New()
	tokA := tokens.CSRF(SessionBinding(sidA))
	pre := tokens.NewPreSession()
	random, _, _ := strings.Cut(tokA, ".")
	// A MAC computed like the real one but under the access-token key (no
	// key separation) or over the bare random part (no binding).
	macWith := func(key []byte, msg string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}

	tests := []struct {
		name    string
		binding CSRFBinding
		token   string
		want    bool
	}{
		{"its own session", SessionBinding(sidA), tokA, true},
		{"another session", SessionBinding(sidB), tokA, false},
		{"its own pre-session nonce", PreSessionBinding(pre.Nonce), pre.CSRFToken, true},
		{"a session token as a pre-session token", PreSessionBinding(pre.Nonce), tokA, false},
		{"a pre-session token as a session token", SessionBinding(sidA), pre.CSRFToken, false},
		{"another nonce", PreSessionBinding(tokens.NewPreSession().Nonce), pre.CSRFToken, false},
		{"a malformed nonce binds nothing", PreSessionBinding("x"), tokens.CSRF(CSRFBinding{kind: "pre-session", value: "x"}), false},
		{"the zero binding", CSRFBinding{}, tokA, false},
		{"minted under another secret", SessionBinding(sidA), other.CSRF(SessionBinding(sidA)), false},
		{"MAC under the access-token key", SessionBinding(sidA), random + "." + macWith(deriveKey(secret, "access-token"), "session\x00"+sidA.String()+"\x00"+random), false},
		{"MAC under the raw secret", SessionBinding(sidA), random + "." + macWith(secret, "session\x00"+sidA.String()+"\x00"+random), false},
		{"unbound MAC of the random part", SessionBinding(sidA), random + "." + macWith(deriveKey(secret, "csrf-token"), random), false},
		{"random part only", SessionBinding(sidA), random, false},
		{"MAC only", SessionBinding(sidA), strings.SplitN(tokA, ".", 2)[1], false},
		{"other random part, same MAC", SessionBinding(sidA), pre.Nonce + "." + strings.SplitN(tokA, ".", 2)[1], false},
		{"truncated MAC", SessionBinding(sidA), tokA[:len(tokA)-2], false},
		{"empty", SessionBinding(sidA), "", false},
	}
	for _, tt := range tests {
		if got := tokens.VerifyCSRF(tt.binding, tt.token); got != tt.want {
			t.Errorf("%s: VerifyCSRF = %v, want %v", tt.name, got, tt.want)
		}
	}
	if a, b := tokens.CSRF(SessionBinding(sidA)), tokens.CSRF(SessionBinding(sidA)); a == b {
		t.Error("two tokens for one session are equal: the random part is missing")
	}
}
