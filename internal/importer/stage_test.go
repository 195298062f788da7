package importer

import "testing"

// TestBlockIDsAreFencedByAttempt: the IDs of two attempts never meet, are
// deterministic within one, and all have the length the IDs had before
// attempts were in them (Blob Storage refuses a block ID of another length
// than the blob's other blocks).
func TestBlockIDsAreFencedByAttempt(t *testing.T) {
	const before = "YmxvY2stMDAwMDAwMDA=" // base64("block-00000000")
	seen := map[string]bool{}
	for _, a := range []Attempt{1, 2, 1 << 40} {
		for _, i := range []int{0, 1, maxBlocks - 1} {
			id := blockID(a, i)
			if len(id) != len(before) {
				t.Errorf("blockID(%d, %d) = %q: %d characters, want %d", a, i, id, len(id), len(before))
			}
			if seen[id] {
				t.Errorf("blockID(%d, %d) = %q is used twice", a, i, id)
			}
			seen[id] = true
			if again := blockID(a, i); again != id {
				t.Errorf("blockID(%d, %d) is not deterministic: %q then %q", a, i, id, again)
			}
		}
	}
}
