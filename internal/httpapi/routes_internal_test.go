package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	const id = "0b6f7d2c-8a1e-4c3b-9f5d-2e7a1c9b4d60"
	tests := []struct {
		in string
		ok bool
	}{
		{id, true},
		{"00000000-0000-0000-0000-000000000000", true},
		{strings.ToUpper(id), false},
		{"0B6f7d2c-8a1e-4c3b-9f5d-2e7a1c9b4d60", false},
		{"{" + id + "}", false},
		{"urn:uuid:" + id, false},
		{strings.ReplaceAll(id, "-", ""), false},
		{id + " ", false},
		{"0b6f7d2c-8a1e-4c3b-9f5d-2e7a1c9b4d6g", false},
		{"0b6f7d2c_8a1e_4c3b_9f5d_2e7a1c9b4d60", false},
		{"", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/x", nil)
		r.SetPathValue("id", tt.in)
		got, ok := parseID(r, "id")
		if ok != tt.ok || (ok && got.String() != tt.in) {
			t.Errorf("parseID(%q) = %v, %v; want ok=%v", tt.in, got, ok, tt.ok)
		}
	}
}
