package posts

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// FuzzPostCursor: every position survives encode then decode, and a string
// that decodes is a fixed point of decode∘encode.
func FuzzPostCursor(f *testing.F) {
	id := uuid.MustParse("7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5")
	f.Add(encodeCursor(Position{CreatedAt: time.Date(2026, 11, 30, 8, 0, 0, 123456000, time.UTC), ID: id}), int64(0), id[:])
	f.Add("", int64(-1), make([]byte, 16))
	f.Add("MTIzLjdmMGMxZDJlLTNiNGEtNGM1ZC04ZTZmLTcwODE5MmEzYjRjNQ", int64(1<<62), []byte("0123456789abcdef"))
	f.Add("not a cursor!", int64(-1<<63), []byte{1})
	f.Fuzz(func(t *testing.T, s string, micros int64, idBytes []byte) {
		if p, ok := decodeCursor(s); ok {
			q, ok := decodeCursor(encodeCursor(p))
			if !ok || !q.CreatedAt.Equal(p.CreatedAt) || q.ID != p.ID {
				t.Fatalf("decodeCursor(encodeCursor(%+v)) = %+v, %v", p, q, ok)
			}
		}
		id, err := uuid.FromBytes(idBytes)
		if err != nil {
			return
		}
		p := Position{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}
		q, ok := decodeCursor(encodeCursor(p))
		if !ok || !q.CreatedAt.Equal(p.CreatedAt) || q.ID != p.ID {
			t.Fatalf("decodeCursor(encodeCursor(%+v)) = %+v, %v", p, q, ok)
		}
	})
}
