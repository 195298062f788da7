package netguard

import "net/netip"

// Allowed reports whether ip may be dialled: true only for public unicast
// addresses. It refuses loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16 with the cloud metadata address, fe80::/10), unspecified,
// multicast, broadcast, shared address space (100.64/10), 0/8, 192.0.0/24,
// 192.88.99/24, benchmarking (198.18/15, 2001:2::/48), documentation
// (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20),
// 240/4, zoned addresses, IPv6 outside 2000::/3 (site-local, ::/96
// IPv4-compatible, discard-only, ...), and NAT64 (64:ff9b::/96), 6to4
// (2002::/16) and Teredo (2001::/32) addresses that carry any refused IPv4
// address. IPv4-mapped IPv6 is judged as the IPv4 address it maps.
//
// With allowPrivate, loopback (127/8, ::1) and private (RFC 1918, fc00::/7)
// addresses are allowed too; everything else above stays refused, link-local
// (cloud metadata) included.
func Allowed(ip netip.Addr, allowPrivate bool) bool {
	return classify(ip, allowPrivate) == ""
}

// rangeRule names one refused range. private marks the ranges that
// Options.AllowPrivate opens.
type rangeRule struct {
	prefix  netip.Prefix
	kind    string
	private bool
}

// v4Rules is searched in order; a more specific prefix comes before a wider
// one that contains it (0.0.0.0/32 before 0/8, 255.255.255.255 before 240/4).
var v4Rules = []rangeRule{
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified", false},
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network (0.0.0.0/8)", false},
	{netip.MustParsePrefix("10.0.0.0/8"), "private", true},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (CGNAT)", false},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback", true},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local", false},
	{netip.MustParsePrefix("172.16.0.0/12"), "private", true},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment", false},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation", false},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast", false},
	{netip.MustParsePrefix("192.168.0.0/16"), "private", true},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking", false},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation", false},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation", false},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast", false},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast", false},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)", false},
}

// v6Rules is searched in order before the embedded-IPv4 and 2000::/3 checks.
var v6Rules = []rangeRule{
	{netip.MustParsePrefix("::/128"), "unspecified", false},
	{netip.MustParsePrefix("::1/128"), "loopback", true},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)", false},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64", false},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking", false},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation", false},
	{netip.MustParsePrefix("3fff::/20"), "documentation", false},
	{netip.MustParsePrefix("fc00::/7"), "private", true},
	{netip.MustParsePrefix("fe80::/10"), "link-local", false},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)", false},
	{netip.MustParsePrefix("ff00::/8"), "multicast", false},
}

var (
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	teredo        = netip.MustParsePrefix("2001::/32")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// classify returns what makes ip refused ("loopback", "private", ...), or ""
// when ip may be dialled.
func classify(ip netip.Addr, allowPrivate bool) string {
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.Zone() != "":
		return "scoped (has a zone)"
	}
	ip = ip.Unmap()
	if ip.Is4() {
		kind, _ := match(v4Rules, ip, allowPrivate)
		return kind
	}
	if kind, found := match(v6Rules, ip, allowPrivate); found {
		return kind
	}
	a := ip.As16()
	switch {
	case nat64.Contains(ip):
		// The NAT64 gateway would carry the connection to the embedded
		// IPv4 address, so that address decides; never opened by
		// allowPrivate, which is for direct loopback only.
		return embedded("NAT64", netip.AddrFrom4([4]byte(a[12:16])))
	case sixToFour.Contains(ip):
		return embedded("6to4", netip.AddrFrom4([4]byte(a[2:6])))
	case teredo.Contains(ip):
		if kind := embedded("Teredo server", netip.AddrFrom4([4]byte(a[4:8]))); kind != "" {
			return kind
		}
		client := [4]byte{^a[12], ^a[13], ^a[14], ^a[15]} // stored inverted (RFC 4380)
		return embedded("Teredo client", netip.AddrFrom4(client))
	case !globalUnicast.Contains(ip):
		return "not global unicast (outside 2000::/3)"
	}
	return ""
}

// match finds the first rule whose range holds ip: found reports whether
// one did, kind is "" when that range is open (private with allowPrivate).
func match(rules []rangeRule, ip netip.Addr, allowPrivate bool) (kind string, found bool) {
	for _, r := range rules {
		if r.prefix.Contains(ip) {
			if r.private && allowPrivate {
				return "", true
			}
			return r.kind, true
		}
	}
	return "", false
}

// embedded judges the IPv4 address that a translation prefix carries.
func embedded(what string, v4 netip.Addr) string {
	if kind, _ := match(v4Rules, v4, false); kind != "" {
		return what + " of " + kind + " " + v4.String()
	}
	return ""
}
