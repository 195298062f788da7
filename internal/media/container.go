package media

import (
	"bytes"
	"encoding/binary"
	"mime"
	"slices"
	"strings"
)

// container is a family of video file formats recognised by its first bytes.
type container int

const (
	unknownContainer container = iota
	isoBMFF                    // MP4, QuickTime, 3GPP: ISO base media file format boxes
	matroska                   // WebM, Matroska: an EBML header
	mpegTS                     // MPEG transport stream (and M2TS): 0x47 every 188 (192) bytes
)

// contentTypes lists, per container, the types a client may declare for it;
// the first is the one used when the declared type does not fit the bytes.
var contentTypes = map[container][]string{
	isoBMFF:  {"video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp", "video/3gpp2"},
	matroska: {"video/x-matroska", "video/webm"},
	mpegTS:   {"video/mp2t"},
}

// sniffLen is how many leading bytes sniff needs: four transport stream
// packets of the larger (M2TS) size, with room to spare.
const sniffLen = 1024

// SniffLen is how many leading bytes Sniff needs.
const SniffLen = sniffLen

// allowedContentType normalises a declared content type and reports whether
// uploads may declare it: the video types whose containers sniff recognises.
func allowedContentType(declared string) (string, bool) {
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return "", false
	}
	for _, types := range contentTypes {
		if slices.Contains(types, mt) {
			return mt, true
		}
	}
	return "", false
}

// allowedContentTypes lists every type uploads may declare, for messages.
func allowedContentTypes() string {
	var all []string
	for _, c := range []container{isoBMFF, matroska, mpegTS} {
		all = append(all, contentTypes[c]...)
	}
	return strings.Join(all, ", ")
}

// sniff recognises the container of a file from its first bytes (up to
// sniffLen) and returns the content type to store: the declared one when it
// belongs to that container, otherwise the type the bytes say. ok is false
// when the bytes are not a video container sniff knows.
func sniff(head []byte, declared string) (contentType string, ok bool) {
	return Sniff(head, declared)
}

// Sniff is sniff for other packages (the URL importer checks what yt-dlp
// produced with the same rules as uploads): head is the file's first bytes
// (SniffLen is enough), declared a content type hint.
func Sniff(head []byte, declared string) (contentType string, ok bool) {
	c, detected := detect(head)
	if c == unknownContainer {
		return "", false
	}
	if slices.Contains(contentTypes[c], declared) {
		return declared, true
	}
	return detected, true
}

func detect(head []byte) (container, string) {
	switch {
	case isMatroska(head):
		if isWebM(head) {
			return matroska, "video/webm"
		}
		return matroska, "video/x-matroska"
	case isTransportStream(head, 0, 188), isTransportStream(head, 4, 192):
		return mpegTS, "video/mp2t"
	}
	if brand, ok := isoBox(head); ok {
		switch {
		case brand == "qt  ":
			return isoBMFF, "video/quicktime"
		case strings.HasPrefix(brand, "3g2"):
			return isoBMFF, "video/3gpp2"
		case strings.HasPrefix(brand, "3gp"):
			return isoBMFF, "video/3gpp"
		case brand == "M4V " || brand == "M4VH" || brand == "M4VP":
			return isoBMFF, "video/x-m4v"
		}
		return isoBMFF, "video/mp4"
	}
	return unknownContainer, ""
}

// isoBox recognises an ISO base media file: a leading ftyp box whose size
// covers at least its major brand and minor version, with a printable major
// brand (returned). Old QuickTime files have no ftyp and start with a
// top-level atom instead; those are recognised with brand "qt  ".
func isoBox(head []byte) (brand string, ok bool) {
	if len(head) < 16 {
		return "", false
	}
	size := binary.BigEndian.Uint32(head[0:4])
	typ := string(head[4:8])
	if typ == "ftyp" {
		b := head[8:12]
		if size < 16 || size > 4096 || !printable(b) {
			return "", false
		}
		return string(b), true
	}
	switch typ {
	case "moov", "mdat", "wide", "free", "skip", "pnot":
		// size 0 (to end of file) and 1 (64-bit size follows) are valid
		if size == 0 || size == 1 || size >= 8 {
			return "qt  ", true
		}
	}
	return "", false
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// ebmlMagic starts every EBML document (WebM, Matroska).
var ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}

func isMatroska(head []byte) bool { return bytes.HasPrefix(head, ebmlMagic) }

// isWebM looks for the DocType element (ID 0x4282) with the 4-byte value
// "webm" in the EBML header.
func isWebM(head []byte) bool {
	h := head[:min(len(head), 64)]
	return bytes.Contains(h, []byte{0x42, 0x82, 0x84, 'w', 'e', 'b', 'm'})
}

// tsPackets is how many consecutive packets must start with the sync byte:
// one or two could be chance, four in a row at the right spacing are not.
const tsPackets = 4

// isTransportStream checks for the MPEG-TS sync byte 0x47 at offset, then
// every stride bytes (188: plain TS; 192: M2TS with a 4-byte timestamp
// before each packet).
func isTransportStream(head []byte, offset, stride int) bool {
	if len(head) < offset+(tsPackets-1)*stride+1 {
		return false
	}
	for i := range tsPackets {
		if head[offset+i*stride] != 0x47 {
			return false
		}
	}
	return true
}
