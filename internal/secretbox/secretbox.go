// Package secretbox encrypts the third-party secrets the project stores
// (social account access and refresh tokens) with AES-256-GCM.
//
// A sealed value is nonce || ciphertext || tag; the key id is stored beside
// it (social_accounts.token_key_id) so that keys can be rotated: a Box opens
// values sealed under any key it holds and seals under its primary key. The
// caller's additional data (for example the row's id and column name) binds
// a ciphertext to where it is stored, so one row's token cannot be copied
// into another row and decrypt there.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// ErrUnknownKey is returned by Open for a key id the Box does not hold.
var ErrUnknownKey = errors.New("secretbox: unknown key id")

// ErrDecrypt is returned by Open when a value does not authenticate: wrong
// key, wrong additional data or a modified ciphertext.
var ErrDecrypt = errors.New("secretbox: value does not authenticate")

// Box seals with one primary key and opens with any key it holds.
type Box struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// New returns a Box whose primary key is keys[primary]. Every key must be
// KeySize bytes.
func New(primary string, keys map[string][]byte) (*Box, error) {
	if _, ok := keys[primary]; !ok {
		return nil, fmt.Errorf("secretbox: primary key %q missing", primary)
	}
	b := &Box{primary: primary, aeads: make(map[string]cipher.AEAD, len(keys))}
	for id, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secretbox: key %q is %d bytes, want %d", id, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secretbox: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: key %q: %w", id, err)
		}
		b.aeads[id] = aead
	}
	return b, nil
}

// Seal encrypts plaintext under the primary key with a random nonce and
// returns the key id to store beside the sealed value.
func (b *Box) Seal(plaintext, additionalData []byte) (keyID string, sealed []byte, err error) {
	aead := b.aeads[b.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.primary, aead.Seal(nonce, nonce, plaintext, additionalData), nil
}

// Open decrypts a value sealed under keyID with the same additional data.
// It returns ErrUnknownKey or ErrDecrypt on failure.
func (b *Box) Open(keyID string, sealed, additionalData []byte) ([]byte, error) {
	aead, ok := b.aeads[keyID]
	if !ok {
		return nil, ErrUnknownKey
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrDecrypt
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], additionalData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// KeyID names a key by its content: "k" and the first 16 hex digits of the
// SHA-256 of the key. The id stored beside a value therefore says which
// key sealed it without any registry of ids, and stays the same across
// restarts and instances.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("videofn secretbox key id\x00"), key...))
	return "k" + hex.EncodeToString(sum[:8])
}

// FromKeys returns a Box that seals under current and opens values sealed
// under current or any of previous (DATA_ENCRYPTION_KEY and
// DATA_ENCRYPTION_KEY_PREVIOUS): the rotation window, during which values
// sealed under an old key still open and are re-sealed under the current
// one when next written. Keys are named by KeyID.
func FromKeys(current []byte, previous ...[]byte) (*Box, error) {
	keys := map[string][]byte{KeyID(current): current}
	for _, k := range previous {
		if len(k) > 0 {
			keys[KeyID(k)] = k
		}
	}
	return New(KeyID(current), keys)
}

// Primary returns the id of the key Seal uses.
func (b *Box) Primary() string { return b.primary }
