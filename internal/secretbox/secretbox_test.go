package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpen(t *testing.T) {
	box, err := New("k1", map[string][]byte{"k1": key(1)})
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("social_accounts/0b6f/access_token")
	id, sealed, err := box.Seal([]byte("ya29.token"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if id != "k1" || bytes.Contains(sealed, []byte("ya29.token")) {
		t.Fatalf("id %q, sealed %x", id, sealed)
	}
	got, err := box.Open(id, sealed, ad)
	if err != nil || string(got) != "ya29.token" {
		t.Fatalf("got %q, %v", got, err)
	}
	_, again, _ := box.Seal([]byte("ya29.token"), ad)
	if bytes.Equal(sealed, again) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
}

func TestOpenRefuses(t *testing.T) {
	box, _ := New("k1", map[string][]byte{"k1": key(1)})
	other, _ := New("k1", map[string][]byte{"k1": key(2)})
	ad := []byte("row-a")
	_, sealed, _ := box.Seal([]byte("secret"), ad)
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name    string
		box     *Box
		keyID   string
		sealed  []byte
		ad      []byte
		wantErr error
	}{
		{"other row", box, "k1", sealed, []byte("row-b"), ErrDecrypt},
		{"tampered", box, "k1", tampered, ad, ErrDecrypt},
		{"wrong key", other, "k1", sealed, ad, ErrDecrypt},
		{"unknown key id", box, "k9", sealed, ad, ErrUnknownKey},
		{"truncated", box, "k1", sealed[:10], ad, ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.box.Open(tt.keyID, tt.sealed, tt.ad); !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old, _ := New("2025", map[string][]byte{"2025": key(1)})
	id, sealed, _ := old.Seal([]byte("secret"), nil)
	rotated, err := New("2026", map[string][]byte{"2025": key(1), "2026": key(2)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(id, sealed, nil); err != nil || string(got) != "secret" {
		t.Fatalf("old value after rotation: %q %v", got, err)
	}
	if newID, _, _ := rotated.Seal([]byte("x"), nil); newID != "2026" {
		t.Errorf("sealed under %q, want the primary 2026", newID)
	}
}

func TestNewValidatesKeys(t *testing.T) {
	if _, err := New("a", map[string][]byte{"b": key(1)}); err == nil {
		t.Error("missing primary accepted")
	}
	if _, err := New("a", map[string][]byte{"a": []byte("short")}); err == nil {
		t.Error("short key accepted")
	}
}

func TestFromKeysRotates(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	before, err := FromKeys(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	id, sealed, err := before.Seal([]byte("token"), []byte("row:col"))
	if err != nil || id != KeyID(oldKey) {
		t.Fatalf("Seal: %s, %v", id, err)
	}
	after, err := FromKeys(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if after.Primary() != KeyID(newKey) || KeyID(newKey) == KeyID(oldKey) {
		t.Fatalf("primary %s", after.Primary())
	}
	if got, err := after.Open(id, sealed, []byte("row:col")); err != nil || string(got) != "token" {
		t.Errorf("old value after rotation: %q, %v", got, err)
	}
	if id, _, _ := after.Seal([]byte("token"), nil); id != KeyID(newKey) {
		t.Errorf("sealed under %s, want the new key", id)
	}
	if _, err := FromKeys(newKey, nil); err != nil {
		t.Errorf("an empty previous key: %v", err)
	}
	if _, err := FromKeys(newKey); err != nil {
		t.Fatal(err)
	}
	alone, _ := FromKeys(newKey)
	if _, err := alone.Open(id, sealed, []byte("row:col")); err != ErrUnknownKey {
		t.Errorf("old value without the old key: %v", err)
	}
}
