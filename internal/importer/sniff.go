package importer

import (
	"io"

	"github.com/videofn/videofn/internal/media"
)

// sniffer keeps the first bytes of the stream to tell its container.
type sniffer struct {
	head []byte
}

func (s *sniffer) Write(p []byte) (int, error) {
	if room := media.SniffLen - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func teeReader(r io.Reader, s *sniffer) io.Reader { return io.TeeReader(r, s) }

// extTypes maps yt-dlp's extension to a content type hint.
var extTypes = map[string]string{
	"mp4": "video/mp4", "m4v": "video/x-m4v", "mov": "video/quicktime", "3gp": "video/3gpp",
	"webm": "video/webm", "mkv": "video/x-matroska", "ts": "video/mp2t",
}

// contentType returns the media type of the stream from its first bytes,
// by the same rules as uploads, or "" when it is not a video container this
// project accepts. yt-dlp's extension is a hint only: HLS of MPEG-TS
// segments is reported as mp4.
func (s *sniffer) contentType(ext string) string {
	ct, ok := media.Sniff(s.head, extTypes[ext])
	if !ok {
		return ""
	}
	return ct
}
