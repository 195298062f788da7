package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/videofn/videofn/internal/ratelimit"
)

// Domain errors that any package may return (directly or wrapped); the table
// in statusOf turns them into a status and a public code. Packages that own
// a concept declare their own sentinels and wrap these, so one table stays
// the only place where errors become HTTP.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("not authenticated")
	ErrForbidden    = errors.New("forbidden")
	ErrUnavailable  = errors.New("dependency unavailable")
)

// Error is an error with a public face: the status, code and message sent to
// the client. Err, when set, is the internal cause; it is logged, never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is the one error shape of the API (see API.md).
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// publicError maps any error to what the client may see. Unknown errors are
// 500 internal_error with a fixed message.
func publicError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := authError(err); e != nil {
		return e
	}
	if e := importError(err); e != nil {
		return e
	}
	if e := mediaError(err); e != nil {
		return e
	}
	if e := clipError(err); e != nil {
		return e
	}
	if e := postError(err); e != nil {
		return e
	}
	if e := socialError(err); e != nil {
		return e
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "The request body is too large."}
	case errors.Is(err, ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The resource does not exist."}
	case errors.Is(err, ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "The request conflicts with the current state."}
	case errors.Is(err, ErrUnauthorized):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "Authentication is required."}
	case errors.Is(err, ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "This action is not allowed."}
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded),
		// The server cancels in-flight work when it shuts down: the work
		// may succeed on another instance or after the restart.
		errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "A service this request needs is unavailable; try again shortly."}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "Something went wrong on our side."}
}

// writeError sends err in the API's error shape and logs it once: server
// errors at error level with the internal cause, client errors at debug.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	pub := publicError(err)
	level := slog.LevelDebug
	if pub.Status >= 500 {
		level = slog.LevelError
	}
	logger.Log(r.Context(), level, "request failed", append(logAttrs(r.Context()), "method", r.Method, "path", r.URL.Path,
		"status", pub.Status, "code", pub.Code, "err", err.Error())...)
	var rl *ratelimit.LimitError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", retryAfterSeconds(rl.RetryAfter))
	case pub.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "":
		w.Header().Set("Retry-After", "5")
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Fields = pub.Code, pub.Message, pub.Fields
	writeJSON(w, pub.Status, body)
}

// writeJSON writes v as the JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal_error","message":"Something went wrong on our side."}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// handlerFunc is an HTTP handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: a returned error is written by writeError.
func (s *Server) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			writeError(w, r, s.logger, err)
		}
	})
}
