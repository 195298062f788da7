package importer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/videofn/videofn/internal/netguard"
)

// FuzzValidateURL: a refused URL gets *InvalidURLError; an accepted one is
// http(s), has a host, no credentials, fits MaxURLLength, names no
// non-public literal address, and is accepted again as printed.
func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{
		"https://www.youtube.com/watch?v=dQw4w9WgXcQ",
		"http://example.com:8080/a?b=c#d",
		"https://[2001:db8::1]/",
		"https://[::ffff:127.0.0.1]/",
		"http://127.0.0.1/",
		"http://2130706433/",
		"http://0x7f.1/",
		"http://user:pw@example.com/",
		"ftp://example.com/",
		"https://example.com:0/",
		"https://example.com:99999/",
		" https://example.com/ ",
		"https://exa mple.com/",
		"https:///path",
		"https://1.1.1.1./",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ValidateURL(raw, false, nil)
		if err != nil {
			var inv *InvalidURLError
			if !errors.As(err, &inv) || inv.Reason == "" {
				t.Fatalf("ValidateURL(%q) error = %#v, want *InvalidURLError", raw, err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("ValidateURL(%q) accepted scheme %q", raw, u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil {
			t.Fatalf("ValidateURL(%q) accepted host %q user %v", raw, u.Hostname(), u.User)
		}
		if len(strings.TrimSpace(raw)) > MaxURLLength {
			t.Fatalf("ValidateURL accepted %d bytes", len(raw))
		}
		if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !netguard.Allowed(ip, false) {
			t.Fatalf("ValidateURL(%q) accepted non-public address %v", raw, ip)
		}
		if _, err := ValidateURL(u.String(), false, nil); err != nil {
			t.Fatalf("ValidateURL(%q) accepted, but not its printed form %q: %v", raw, u.String(), err)
		}
	})
}
