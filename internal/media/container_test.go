package media

import (
	"bytes"
	"strings"
	"testing"

	"github.com/videofn/videofn/internal/media/mediatest"
)

func TestSniffRecognisesRealVideos(t *testing.T) {
	tests := []struct {
		format   string
		declared string // what the client said
		want     string // what is stored
	}{
		{"mp4", "video/mp4", "video/mp4"},
		{"mp4", "video/quicktime", "video/quicktime"}, // same container family: the declaration stands
		{"mp4", "video/webm", "video/mp4"},            // another family: the bytes win
		{"mov", "video/quicktime", "video/quicktime"},
		{"mov", "video/mp2t", "video/quicktime"},
		{"webm", "video/webm", "video/webm"},
		{"webm", "video/mp4", "video/webm"},
		{"mkv", "video/x-matroska", "video/x-matroska"},
		{"mkv", "video/mp4", "video/x-matroska"},
		{"ts", "video/mp2t", "video/mp2t"},
		{"ts", "video/mp4", "video/mp2t"},
	}
	for _, tt := range tests {
		t.Run(tt.format+" declared "+tt.declared, func(t *testing.T) {
			head := mediatest.Video(t, tt.format)
			head = head[:min(len(head), sniffLen)]
			got, ok := sniff(head, tt.declared)
			if !ok || got != tt.want {
				t.Errorf("sniff = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestSniffRefusesOtherFiles(t *testing.T) {
	tsPacket := append([]byte{0x47}, bytes.Repeat([]byte{0xff}, 187)...)
	ftyp := func(size byte, brand string) []byte {
		return append([]byte{0, 0, 0, size, 'f', 't', 'y', 'p'}, append([]byte(brand), make([]byte, 32)...)...)
	}
	tests := []struct {
		name string
		head []byte
	}{
		{"empty", nil},
		{"text", []byte("just some text, certainly not a video file at all\n")},
		{"html", []byte("<!doctype html><html><script>alert(1)</script></html>")},
		{"png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)},
		{"jpeg", append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 64)...)},
		{"zip", append([]byte("PK\x03\x04"), make([]byte, 64)...)},
		{"pdf", []byte("%PDF-1.7\n" + strings.Repeat("x", 64))},
		{"one sync byte", append([]byte{0x47}, make([]byte, 1000)...)},
		{"three ts packets", bytes.Repeat(tsPacket, 3)},
		{"ts packets at the wrong stride", bytes.Repeat(append(tsPacket, 0), 5)},
		{"ftyp too short", ftyp(8, "isom")},
		{"ftyp with a binary brand", ftyp(32, "\x00\x01\x02\x03")},
		{"eight bytes", []byte{0, 0, 0, 32, 'f', 't', 'y', 'p'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := sniff(tt.head, "video/mp4"); ok {
				t.Errorf("sniff accepted it as %q", got)
			}
		})
	}
}

func TestSniffAcceptsM2TSAndLegacyQuickTime(t *testing.T) {
	m2ts := bytes.Repeat(append([]byte{0, 0, 0, 0, 0x47}, bytes.Repeat([]byte{0xff}, 187)...), 5)
	if got, ok := sniff(m2ts, "video/mp2t"); !ok || got != "video/mp2t" {
		t.Errorf("m2ts: %q %v", got, ok)
	}
	legacy := append([]byte{0, 0, 0x10, 0, 'm', 'o', 'o', 'v'}, make([]byte, 64)...)
	if got, ok := sniff(legacy, "video/quicktime"); !ok || got != "video/quicktime" {
		t.Errorf("legacy QuickTime: %q %v", got, ok)
	}
}

func TestAllowedContentType(t *testing.T) {
	tests := []struct {
		declared, want string
		ok             bool
	}{
		{"video/mp4", "video/mp4", true},
		{"VIDEO/MP4", "video/mp4", true},
		{`video/mp4; codecs="avc1.42E01E"`, "video/mp4", true},
		{"video/webm", "video/webm", true},
		{"video/mp2t", "video/mp2t", true},
		{"video/x-msvideo", "", false}, // AVI: a container the server does not check
		{"image/png", "", false},
		{"text/html", "", false},
		{"application/octet-stream", "", false},
		{"", "", false},
		{"video/", "", false},
	}
	for _, tt := range tests {
		got, ok := allowedContentType(tt.declared)
		if got != tt.want || ok != tt.ok {
			t.Errorf("allowedContentType(%q) = %q, %v; want %q, %v", tt.declared, got, ok, tt.want, tt.ok)
		}
	}
}
