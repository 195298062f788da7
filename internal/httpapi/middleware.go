package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/videofn/videofn/internal/traceparent"
)

type ctxKey int

const requestIDKey ctxKey = iota

// requestInfo is what identifies a request in the logs: its id, the
// Functions invocation id and the W3C trace context the host forwards. A
// pointer in the context, so that a queue invocation can add the
// traceparent its message carries (setTraceparent) after the middleware ran.
type requestInfo struct {
	id           string
	invocationID string
	traceparent  string
}

func info(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestIDKey).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// requestID returns the id of the request carried by ctx, or "".
func requestID(ctx context.Context) string { return info(ctx).id }

// logAttrs are the attributes every log line about a request carries:
// request_id, and invocation_id and traceparent when known (Application
// Insights correlates on them: docs/operations.md).
func logAttrs(ctx context.Context) []any {
	ri := info(ctx)
	attrs := []any{"request_id", ri.id}
	if ri.invocationID != "" {
		attrs = append(attrs, "invocation_id", ri.invocationID)
	}
	if ri.traceparent != "" {
		attrs = append(attrs, "traceparent", ri.traceparent)
	}
	return attrs
}

// invocationIDHeader is the header the Functions host sets on every request
// it forwards to a custom handler (HTTP and trigger invocations alike).
const invocationIDHeader = "X-Azure-Functions-InvocationId"

// setTraceparent records the trace context of a queue invocation's message
// (the request carries the host's own) for the invocation's log lines, and
// returns ctx carrying it, for what the invocation logs and sends. ctx is
// returned as it is when tp is not a valid traceparent.
func setTraceparent(ctx context.Context, tp string) context.Context {
	if tp = traceparent.Parse(tp); tp == "" {
		return ctx
	}
	if ri, ok := ctx.Value(requestIDKey).(*requestInfo); ok {
		ri.traceparent = tp
	}
	return traceparent.NewContext(ctx, tp)
}

// validRequestID accepts ids a client or proxy may send (the Functions host
// and Azure front ends send GUIDs); anything else is replaced.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withRequestID gives every request an id, taken from X-Request-ID when it is
// well formed, and echoes it in the response. It also keeps, for the logs,
// the Functions invocation id when well formed, and puts the request's W3C
// traceparent in the context (traceparent.FromContext; a fresh one when the
// request has none that is valid, so that local runs correlate too): the
// messages the request sends carry it on.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		tp := traceparent.Parse(r.Header.Get("traceparent"))
		if tp == "" {
			tp = traceparent.New()
		}
		ri := &requestInfo{id: id, traceparent: tp}
		if inv := r.Header.Get(invocationIDHeader); validRequestID.MatchString(inv) {
			ri.invocationID = inv
		}
		ctx := traceparent.NewContext(context.WithValue(r.Context(), requestIDKey, ri), tp)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusRecorder remembers the status and size of a response for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withLogging logs one line per request and turns a panic into a 500 (the
// panic and its stack are logged; the client sees the generic error).
func withLogging(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.Error("panic", append(logAttrs(r.Context()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))...)
				if rec.status == 0 {
					writeError(rec, r, logger, fmt.Errorf("panic: %v", p))
				}
			}
			level := slog.LevelInfo
			if r.URL.Path == "/" {
				level = slog.LevelDebug // the host polls GET / for readiness
			}
			logger.Log(r.Context(), level, "request", append(logAttrs(r.Context()), "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", time.Since(start).Milliseconds())...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// SecurityHeaders are the headers every response carries, in canonical
// form. The API serves JSON only, so the content security policy forbids
// everything, framing included (the frontend's pages replace it with their
// own: internal/webapp). HSTS is sent only when cookies are secure (HTTPS).
func SecurityHeaders(secure bool) [][2]string {
	h := [][2]string{
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
		{"Referrer-Policy", "no-referrer"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
	}
	if secure {
		h = append(h, [2]string{"Strict-Transport-Security", "max-age=63072000; includeSubDomains"})
	}
	return h
}

// withSecurityHeaders sets the security headers on every response of the
// handler; ListenerWithSecurityHeaders covers the replies net/http writes
// without calling it.
func withSecurityHeaders(secure bool, next http.Handler) http.Handler {
	headers := SecurityHeaders(secure)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range headers {
			h.Set(kv[0], kv[1])
		}
		next.ServeHTTP(w, r)
	})
}

// ListenerWithSecurityHeaders returns ln with connections whose
// server-level error replies carry the security headers. net/http answers
// some requests itself, on the connection, without calling any handler:
// 431 (headers too large), 400 (malformed request), 501 (unknown transfer
// coding), 505 (HTTP version) and 417 (unknown Expect). It has no hook for
// them, so the connection recognises them: a write that holds a whole
// response head, starts with an HTTP/1.x status line, says
// "Connection: close" (all of those replies do) and lacks
// X-Content-Type-Options gets the security headers inserted before the
// blank line. Every response the handler writes already carries
// X-Content-Type-Options (withSecurityHeaders is outside the routes) and
// the API never serves a body that starts with a status line, so nothing
// else is touched.
func ListenerWithSecurityHeaders(ln net.Listener, secure bool) net.Listener {
	var extra bytes.Buffer
	for _, kv := range SecurityHeaders(secure) {
		extra.WriteString("\r\n" + kv[0] + ": " + kv[1])
	}
	return &headerListener{Listener: ln, extra: extra.Bytes()}
}

type headerListener struct {
	net.Listener
	extra []byte // "\r\nName: value" lines
}

func (l *headerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headerConn{Conn: c, extra: l.extra}, nil
}

type headerConn struct {
	net.Conn
	extra []byte
}

var (
	statusLinePrefix = []byte("HTTP/1.")
	endOfHead        = []byte("\r\n\r\n")
	connectionClose  = []byte("\r\nConnection: close\r\n")
	nosniffHeader    = []byte("\r\nX-Content-Type-Options:")
)

func (c *headerConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, statusLinePrefix) {
		return c.Conn.Write(p)
	}
	end := bytes.Index(p, endOfHead)
	if end < 0 || bytes.Contains(p[:end+2], nosniffHeader) || !bytes.Contains(p[:end+4], connectionClose) {
		return c.Conn.Write(p)
	}
	patched := make([]byte, 0, len(p)+len(c.extra))
	patched = append(patched, p[:end]...)
	patched = append(patched, c.extra...)
	patched = append(patched, p[end:]...)
	if _, err := c.Conn.Write(patched); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite lets net/http half-close the connection after a 431, as it
// does on a bare TCP connection, so the client can read the reply.
func (c *headerConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// withCORS allows the exact origins listed, with credentials. Requests from
// other origins get no CORS headers, so browsers refuse to expose responses;
// same-origin requests (the normal case) need none.
func withCORS(allowed []string, next http.Handler) http.Handler {
	if len(allowed) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin == "" || !slices.Contains(allowed, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-ID")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-CSRF-Token, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withNoStore marks /api responses as not cacheable: they are per-user.
func withNoStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
