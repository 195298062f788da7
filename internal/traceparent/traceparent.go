// Package traceparent carries a W3C trace context (the traceparent header,
// https://www.w3.org/TR/trace-context/) from an HTTP request or a queue
// message through the context to the messages it sends and to the log
// lines of the worker that handles them, so that Application Insights
// finds a request, its queue messages and the workers' lines by one trace
// id (docs/operations.md).
//
// Only well-formed values are ever stored, returned or generated: every
// function that takes a traceparent from outside parses it first.
package traceparent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strings"
)

// pattern is a traceparent's first four fields: version, trace id, parent
// (span) id and flags, lowercase hex. Later versions may append fields.
var pattern = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})`)

const (
	zeroTraceID = "00000000000000000000000000000000"
	zeroSpanID  = "0000000000000000"
	// length of a version 00 traceparent.
	length = 55
)

// Parse returns the traceparent in s (surrounding space removed), or ""
// when s is not one: not lowercase hex, version ff, an all-zero trace or
// parent id, or a version 00 value with anything after its four fields. Of
// a later version, only the four fields version 00 defines are kept.
func Parse(s string) string {
	s = strings.TrimSpace(s)
	m := pattern.FindStringSubmatch(s)
	if m == nil || m[1] == "ff" || m[2] == zeroTraceID || m[3] == zeroSpanID {
		return ""
	}
	if m[1] == "00" && len(s) != length {
		return ""
	}
	if m[1] != "00" && len(s) > length && s[length] != '-' {
		return "" // a later version still separates its extra fields with '-'
	}
	return m[0]
}

// TraceID returns the trace id (32 hex digits) of traceparent tp, or "" when
// tp is not a valid traceparent.
func TraceID(tp string) string {
	if tp = Parse(tp); tp == "" {
		return ""
	}
	return tp[3:35]
}

// New returns a fresh version 00 traceparent: a random trace id and parent
// id, sampled (flags 01). It starts a trace where no caller sent one.
func New() string {
	return "00-" + randomHex(16) + "-" + randomHex(8) + "-01"
}

// Child returns the traceparent of a new span under tp: the same trace id
// and flags, a new random parent id, in the version 00 form (the only one
// this package writes). It returns "" when tp is not a valid traceparent.
func Child(tp string) string {
	if tp = Parse(tp); tp == "" {
		return ""
	}
	return "00-" + tp[3:35] + "-" + randomHex(8) + "-" + tp[53:55]
}

// randomHex returns n random bytes in hex, never all zero (an all-zero id
// is invalid).
func randomHex(n int) string {
	b := make([]byte, n)
	for {
		rand.Read(b) // never fails (crypto/rand)
		for _, c := range b {
			if c != 0 {
				return hex.EncodeToString(b)
			}
		}
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying tp as its trace context. A tp that is
// not a valid traceparent leaves ctx as it is (any context it carried
// stays).
func NewContext(ctx context.Context, tp string) context.Context {
	if tp = Parse(tp); tp == "" {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, tp)
}

// FromContext returns the traceparent ctx carries, or "".
func FromContext(ctx context.Context) string {
	tp, _ := ctx.Value(ctxKey{}).(string)
	return tp
}

// Logger returns logger with the attribute traceparent set to ctx's trace
// context, or logger itself when ctx carries none.
func Logger(ctx context.Context, logger *slog.Logger) *slog.Logger {
	if tp := FromContext(ctx); tp != "" {
		return logger.With("traceparent", tp)
	}
	return logger
}
