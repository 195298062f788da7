package netguard

import (
	"net/netip"
	"testing"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		name         string
		ip           string
		allowPrivate bool
		want         bool
	}{
		{"public v4", "8.8.8.8", false, true},
		{"public v4 other", "93.184.215.14", false, true},
		{"public v6", "2606:4700::1111", false, true},
		{"public v6 other", "2a00:1450:4001:80b::200e", false, true},
		{"public v4 mapped", "::ffff:8.8.8.8", false, true},
		{"NAT64 of public", "64:ff9b::808:808", false, true},
		{"6to4 of public", "2002:808:808::1", false, true},
		{"Teredo of public", "2001:0:808:808::f7f7:f7f7", false, true}, // client 8.8.8.8 stored inverted

		{"loopback", "127.0.0.1", false, false},
		{"loopback other", "127.255.0.9", false, false},
		{"loopback v6", "::1", false, false},
		{"loopback mapped", "::ffff:127.0.0.1", false, false},
		{"loopback compatible", "::127.0.0.1", false, false},
		{"private 10", "10.0.0.1", false, false},
		{"private 172.16", "172.16.5.4", false, false},
		{"private 172.31", "172.31.255.255", false, false},
		{"not private 172.32", "172.32.0.1", false, true},
		{"private 192.168", "192.168.1.1", false, false},
		{"private mapped", "::ffff:10.1.2.3", false, false},
		{"ULA fc00", "fc00::1", false, false},
		{"ULA fd00", "fd12:3456::1", false, false},
		{"link-local", "169.254.1.1", false, false},
		{"cloud metadata", "169.254.169.254", false, false},
		{"cloud metadata mapped", "::ffff:169.254.169.254", false, false},
		{"link-local v6", "fe80::1", false, false},
		{"link-local v6 zoned", "fe80::1%eth0", false, false},
		{"zoned public", "2606:4700::1111%eth0", false, false},
		{"site-local v6", "fec0::1", false, false},
		{"unspecified", "0.0.0.0", false, false},
		{"unspecified v6", "::", false, false},
		{"this-network", "0.1.2.3", false, false},
		{"multicast", "224.0.0.1", false, false},
		{"multicast high", "239.255.255.250", false, false},
		{"multicast v6", "ff02::1", false, false},
		{"broadcast", "255.255.255.255", false, false},
		{"reserved 240/4", "240.0.0.1", false, false},
		{"CGNAT", "100.64.0.1", false, false},
		{"CGNAT top", "100.127.255.254", false, false},
		{"not CGNAT", "100.128.0.1", false, true},
		{"IETF 192.0.0/24", "192.0.0.8", false, false},
		{"benchmarking", "198.18.0.1", false, false},
		{"benchmarking top", "198.19.255.255", false, false},
		{"benchmarking v6", "2001:2::1", false, false},
		{"documentation 192.0.2", "192.0.2.1", false, false},
		{"documentation 198.51.100", "198.51.100.7", false, false},
		{"documentation 203.0.113", "203.0.113.9", false, false},
		{"documentation v6", "2001:db8::1", false, false},
		{"documentation 3fff", "3fff::1", false, false},
		{"6to4 relay anycast", "192.88.99.1", false, false},
		{"NAT64 of private", "64:ff9b::a00:1", false, false},
		{"NAT64 of loopback", "64:ff9b::7f00:1", false, false},
		{"NAT64 of metadata", "64:ff9b::a9fe:a9fe", false, false},
		{"local-use NAT64", "64:ff9b:1::808:808", false, false},
		{"6to4 of private", "2002:c0a8:101::1", false, false},
		{"6to4 of loopback", "2002:7f00:1::1", false, false},
		{"Teredo client private", "2001:0:808:808::f5ff:fefe", false, false}, // client 10.0.1.1
		{"Teredo server private", "2001:0:a00:1::f7f7:f7f7", false, false},
		{"discard-only v6", "100::1", false, false},
		{"invalid", "", false, false},

		{"allowPrivate loopback", "127.0.0.1", true, true},
		{"allowPrivate loopback v6", "::1", true, true},
		{"allowPrivate loopback mapped", "::ffff:127.0.0.1", true, true},
		{"allowPrivate private", "10.0.0.1", true, true},
		{"allowPrivate 192.168", "192.168.0.10", true, true},
		{"allowPrivate ULA", "fd00::1", true, true},
		{"allowPrivate public", "8.8.8.8", true, true},
		{"allowPrivate still refuses unspecified", "0.0.0.0", true, false},
		{"allowPrivate still refuses unspecified v6", "::", true, false},
		{"allowPrivate still refuses multicast", "224.0.0.1", true, false},
		{"allowPrivate still refuses broadcast", "255.255.255.255", true, false},
		{"allowPrivate still refuses metadata", "169.254.169.254", true, false},
		{"allowPrivate still refuses link-local v6", "fe80::1", true, false},
		{"allowPrivate still refuses NAT64 of loopback", "64:ff9b::7f00:1", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ip netip.Addr // zero (invalid) for ""
			if tt.ip != "" {
				ip = netip.MustParseAddr(tt.ip)
			}
			if got := Allowed(ip, tt.allowPrivate); got != tt.want {
				t.Errorf("Allowed(%s, %v) = %v, want %v (%q)", tt.ip, tt.allowPrivate, got, tt.want, classify(ip, tt.allowPrivate))
			}
		})
	}
}
