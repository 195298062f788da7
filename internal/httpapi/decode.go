package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxBodyBytes is the default request body cap (API.md: 1 MiB).
const maxBodyBytes = 1 << 20

// Validator is implemented by request bodies. Valid returns the problems
// found, keyed by JSON field name; an empty map means valid.
type Validator interface {
	Valid(ctx context.Context) map[string]string
}

// decodeValid reads a JSON body into T, rejecting a wrong content type (415),
// a body over the cap (413), malformed JSON, unknown fields or trailing data
// (400), and failed validation (422 with fields).
func decodeValid[T Validator](r *http.Request, w http.ResponseWriter) (T, error) {
	var v T
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return v, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "The body must be application/json."}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, badJSON(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, err
		}
		return v, &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body must hold a single JSON value."}
	}
	if problems := v.Valid(r.Context()); len(problems) > 0 {
		return v, &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.", Fields: problems}
	}
	return v, nil
}

// badJSON turns a decoding error into a client error that names the problem
// without echoing internal types.
func badJSON(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body is empty."}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body is not valid JSON."}
	case errors.As(err, &typ):
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: fmt.Sprintf("Field %q has the wrong type.", typ.Field)}
	default:
		// json reports unknown fields as `json: unknown field "x"`.
		if msg, ok := unknownField(err); ok {
			return &Error{Status: http.StatusBadRequest, Code: "unknown_field", Message: msg}
		}
		return &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "The body could not be decoded."}
	}
}

func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	if s := err.Error(); len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return "Unknown field " + s[len(prefix):] + ".", true
	}
	return "", false
}
