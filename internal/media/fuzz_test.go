package media

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FuzzUploadTitle: a filename the upload validation accepts becomes a
// title that is trimmed, non-empty, valid UTF-8 without control characters
// or path separators, and at most MaxFilenameLength characters; a refused
// one is refused with a filename problem.
func FuzzUploadTitle(f *testing.F) {
	for _, s := range []string{
		"holiday.mp4", "  spaced name.mov ", `C:\Users\me\clip.webm`, "/tmp/a/b.mp4", "dir/", "a/ ",
		"bad\x00name.mp4", "tab\tname.mp4", "\xff\xfe.mp4", "ünïcødé 🎬.mkv", strings.Repeat("é", 256),
	} {
		f.Add(s)
	}
	s := &Service{opts: Options{UploadMaxBytes: 1 << 30}}
	f.Fuzz(func(t *testing.T, filename string) {
		title, _, problems := s.validate(UploadRequest{Filename: filename, ContentType: "video/mp4", SizeBytes: 1})
		if _, bad := problems["filename"]; bad {
			return
		}
		switch {
		case title == "" || title != strings.TrimSpace(title):
			t.Fatalf("validate(%q) title %q: empty or untrimmed", filename, title)
		case strings.ContainsAny(title, `/\`):
			t.Fatalf("validate(%q) title %q keeps a path separator", filename, title)
		case !utf8.ValidString(title) || strings.ContainsFunc(title, unicode.IsControl):
			t.Fatalf("validate(%q) title %q is not clean text", filename, title)
		case utf8.RuneCountInString(title) > MaxFilenameLength:
			t.Fatalf("validate(%q) title has %d characters", filename, utf8.RuneCountInString(title))
		case !strings.Contains(filename, title):
			t.Fatalf("validate(%q) title %q is not part of the filename", filename, title)
		}
	})
}

// FuzzVideoCursor: every position survives encode then decode, and a
// string that decodes is a fixed point of decode∘encode.
func FuzzVideoCursor(f *testing.F) {
	id := uuid.MustParse("7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5")
	f.Add(encodeCursor(Position{CreatedAt: time.Date(2026, 11, 30, 8, 0, 0, 123456000, time.UTC), ID: id}), int64(0), id[:])
	f.Add("", int64(-1), make([]byte, 16))
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", int64(1<<62), []byte("0123456789abcdef"))
	f.Add("not a cursor!", int64(1764489600000000), []byte{1})
	f.Fuzz(func(t *testing.T, s string, micros int64, idBytes []byte) {
		if p, ok := decodeCursor(s); ok {
			if p.ID == uuid.Nil {
				t.Fatalf("decodeCursor(%q) accepted the nil id", s)
			}
			q, ok := decodeCursor(encodeCursor(p))
			if !ok || !q.CreatedAt.Equal(p.CreatedAt) || q.ID != p.ID {
				t.Fatalf("decodeCursor(encodeCursor(%+v)) = %+v, %v", p, q, ok)
			}
		}
		id, err := uuid.FromBytes(idBytes)
		if err != nil || id == uuid.Nil {
			return
		}
		p := Position{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}
		q, ok := decodeCursor(encodeCursor(p))
		if !ok || !q.CreatedAt.Equal(p.CreatedAt) || q.ID != p.ID {
			t.Fatalf("decodeCursor(encodeCursor(%+v)) = %+v, %v", p, q, ok)
		}
	})
}
