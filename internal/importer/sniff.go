package importer

import (
	"bytes"
	"io"
)

// sniffer keeps the first bytes of the stream to tell its container.
type sniffer struct {
	head []byte
}

const sniffLen = 4096

func (s *sniffer) Write(p []byte) (int, error) {
	if room := sniffLen - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func teeReader(r io.Reader, s *sniffer) io.Reader { return io.TeeReader(r, s) }

// contentType returns the media type of the stream from its first bytes,
// or "" when it is not a video container this project accepts. yt-dlp's
// extension is a hint only: HLS of MPEG-TS segments is reported as mp4.
func (s *sniffer) contentType(ext string) string {
	h := s.head
	switch {
	case len(h) >= 12 && bytes.Equal(h[4:8], []byte("ftyp")):
		if bytes.HasPrefix(h[8:], []byte("qt  ")) {
			return "video/quicktime"
		}
		return "video/mp4"
	case len(h) >= 4 && bytes.Equal(h[:4], []byte{0x1a, 0x45, 0xdf, 0xa3}):
		if ext == "mkv" {
			return "video/x-matroska"
		}
		return "video/webm"
	case isMPEGTS(h):
		return "video/mp2t"
	case len(h) >= 3 && string(h[:3]) == "FLV":
		return "video/x-flv"
	}
	return ""
}

// isMPEGTS reports sync bytes 0x47 at 188-byte intervals.
func isMPEGTS(h []byte) bool {
	if len(h) < 188*3 {
		return len(h) >= 188 && h[0] == 0x47
	}
	for i := 0; i < 188*3; i += 188 {
		if h[i] != 0x47 {
			return false
		}
	}
	return true
}
