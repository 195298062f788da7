package traceparent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

const valid = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{valid, valid},
		{" " + valid + "\n", valid},
		{valid + "-x", ""}, // version 00 has exactly four fields
		{"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		{"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		{"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x", ""},
		{"00-00000000000000000000000000000000-b7ad6b7169203331-01", ""},
		{"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", ""},
		{"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", ""},
		{"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", ""},
		{"00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01", ""},
		{"", ""},
		{"nonsense", ""},
		{"garbage\n{\"x\":1}", ""},
	} {
		if got := Parse(tc.in); got != tc.want {
			t.Errorf("Parse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewIsValidAndFresh(t *testing.T) {
	a, b := New(), New()
	if Parse(a) != a || Parse(b) != b {
		t.Fatalf("New() = %q, %q: not valid traceparents", a, b)
	}
	if a[:3] != "00-" || a[52:] != "-01" {
		t.Errorf("New() = %q, want version 00, flags 01", a)
	}
	if TraceID(a) == TraceID(b) || a[36:52] == b[36:52] {
		t.Errorf("two New() share an id: %q, %q", a, b)
	}
}

func TestChildKeepsTraceIDAndFlags(t *testing.T) {
	for _, tc := range []struct{ parent, wantPrefix, wantFlags string }{
		{valid, "00-0af7651916cd43dd8448eb211c80319c-", "-01"},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "00-4bf92f3577b34da6a3ce929d0e0e4736-", "-00"},
		// A later version's child is written in version 00, the only one defined.
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "00-4bf92f3577b34da6a3ce929d0e0e4736-", "-01"},
	} {
		c1, c2 := Child(tc.parent), Child(tc.parent)
		for _, c := range []string{c1, c2} {
			if Parse(c) != c || c[:36] != tc.wantPrefix || c[52:] != tc.wantFlags {
				t.Errorf("Child(%q) = %q, want %s<span>%s", tc.parent, c, tc.wantPrefix, tc.wantFlags)
			}
			if c[36:52] == Parse(tc.parent)[36:52] {
				t.Errorf("Child(%q) = %q kept the parent's span id", tc.parent, c)
			}
		}
		if c1 == c2 {
			t.Errorf("two children of %q are both %q", tc.parent, c1)
		}
	}
}

func TestMalformedInputIsIgnored(t *testing.T) {
	for _, bad := range []string{"", "nonsense", "00-00000000000000000000000000000000-b7ad6b7169203331-01", valid + "\r\nX-Injected: 1"} {
		if got := Child(bad); got != "" {
			t.Errorf("Child(%q) = %q, want \"\"", bad, got)
		}
		if got := TraceID(bad); got != "" {
			t.Errorf("TraceID(%q) = %q, want \"\"", bad, got)
		}
		if got := FromContext(NewContext(context.Background(), bad)); got != "" {
			t.Errorf("NewContext(%q) carries %q, want nothing", bad, got)
		}
		// A malformed value does not replace a valid one.
		if got := FromContext(NewContext(NewContext(context.Background(), valid), bad)); got != valid {
			t.Errorf("NewContext(ctx with a traceparent, %q) carries %q, want %q", bad, got, valid)
		}
	}
}

func TestContextCarriesTheTraceparent(t *testing.T) {
	ctx := context.Background()
	if got := FromContext(ctx); got != "" {
		t.Errorf("empty context carries %q", got)
	}
	ctx = NewContext(ctx, " "+valid)
	if got := FromContext(ctx); got != valid {
		t.Errorf("FromContext = %q, want %q", got, valid)
	}
	if got := TraceID(FromContext(ctx)); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("TraceID = %q", got)
	}
}

func TestLoggerAddsTheTraceparent(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, nil))
	Logger(NewContext(context.Background(), valid), base).Info("with")
	Logger(context.Background(), base).Info("without")
	dec := json.NewDecoder(&buf)
	var with, without map[string]any
	if err := dec.Decode(&with); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&without); err != nil {
		t.Fatal(err)
	}
	if with["traceparent"] != valid {
		t.Errorf("line %v, want traceparent %s", with, valid)
	}
	if _, ok := without["traceparent"]; ok {
		t.Errorf("line %v has a traceparent, want none", without)
	}
}
