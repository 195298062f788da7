package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxEnvelopeBytes caps an invocation body. Service Bus messages are at most
// 256 KiB (Standard) and base64 grows them by a third; 1 MiB leaves room for
// Premium's larger messages up to that size.
const maxEnvelopeBytes = 1 << 20

// Invocation is one non-HTTP function invocation as the Functions host sends
// it: POST /<function name> with {"Data": {...}, "Metadata": {...}}.
type Invocation struct {
	Data     map[string]json.RawMessage
	Metadata map[string]json.RawMessage
}

// decodeInvocation reads the host's envelope. It fails when the body is not a
// JSON object with an object "Data" (Metadata may be absent or null).
func decodeInvocation(r *http.Request, w http.ResponseWriter) (*Invocation, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEnvelopeBytes))
	if err != nil {
		return nil, err
	}
	var env struct {
		Data     map[string]json.RawMessage `json:"Data"`
		Metadata map[string]json.RawMessage `json:"Metadata"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, invalidEnvelope("the body is not a JSON object of the form {\"Data\":{...},\"Metadata\":{...}}")
	}
	if dec.More() {
		return nil, invalidEnvelope("the body holds more than one JSON value")
	}
	if env.Data == nil {
		return nil, invalidEnvelope(`"Data" is missing or not an object`)
	}
	if env.Metadata == nil {
		env.Metadata = map[string]json.RawMessage{}
	}
	return &Invocation{Data: env.Data, Metadata: env.Metadata}, nil
}

func invalidEnvelope(msg string) error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_envelope", Message: "Invalid invocation: " + msg + "."}
}

// Message returns the body of the queue message in binding name, in any
// of the forms the host may send it, so that neither a function.json
// without "dataType": "binary" nor a change in the host dead-letters every
// message:
//   - a base64 JSON string ("dataType": "binary");
//   - a JSON string whose content is the body's JSON text (a string
//     binding: the body encoded once more, or several times);
//   - the body's JSON object or array itself.
//
// The forms cannot be confused: base64 text never starts with '{', '[' or
// '"'. A message body that is not JSON arrives only in the base64 form.
func (inv *Invocation) Message(name string) ([]byte, error) {
	raw, ok := inv.Data[name]
	if !ok {
		return nil, invalidEnvelope(fmt.Sprintf("Data.%s is missing", name))
	}
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || (v[0] != '"' && v[0] != '{' && v[0] != '[') {
		return nil, invalidEnvelope(fmt.Sprintf("Data.%s must be a base64 string, a JSON string or a JSON object", name))
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalidEnvelope(fmt.Sprintf("Data.%s is not valid JSON", name))
		}
		if t := strings.TrimSpace(s); t == "" || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
			b, err := base64.StdEncoding.DecodeString(t)
			if err != nil {
				return nil, invalidEnvelope(fmt.Sprintf("Data.%s is neither base64 nor JSON text", name))
			}
			return b, nil
		}
	}
	return unwrapJSON(v, name)
}

// JSON returns the JSON document of binding name for a trigger without
// "dataType": "binary". The host sends such a body JSON-encoded again, as a
// string (sometimes more than once); an object is also accepted as is.
func (inv *Invocation) JSON(name string) ([]byte, error) {
	raw, ok := inv.Data[name]
	if !ok {
		return nil, invalidEnvelope(fmt.Sprintf("Data.%s is missing", name))
	}
	return unwrapJSON(raw, name)
}

// unwrapJSON removes string encodings until a JSON object or array remains.
func unwrapJSON(raw json.RawMessage, name string) ([]byte, error) {
	v := bytes.TrimSpace(raw)
	for range 3 {
		if len(v) == 0 {
			break
		}
		switch v[0] {
		case '{', '[':
			return v, nil
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, invalidEnvelope(fmt.Sprintf("Data.%s is not valid JSON", name))
			}
			v = bytes.TrimSpace([]byte(s))
			continue
		}
		break
	}
	return nil, invalidEnvelope(fmt.Sprintf("Data.%s does not hold a JSON object", name))
}

// metaString returns a metadata value as a string: quoted strings are
// unquoted (the host sends "\"abc\""), other JSON scalars are returned as
// their text. ok is false when the key is absent or null.
func (inv *Invocation) metaString(key string) (string, bool) {
	raw, found := inv.Metadata[key]
	if !found {
		return "", false
	}
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return "", false
	}
	// At most two levels of quoting: the JSON string, and the quoted value in it.
	for range 2 {
		if len(v) > 0 && v[0] == '"' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", false
			}
			v = []byte(s)
			continue
		}
		break
	}
	return string(v), true
}

// messageTraceparent returns the traceparent the queue message carries: its
// application property "traceparent", or "Diagnostic-Id" (what the Azure
// SDKs set), from the Service Bus trigger's ApplicationProperties (or
// UserProperties, the older name) metadata; "" when it has none.
func (inv *Invocation) messageTraceparent() string {
	for _, key := range []string{"ApplicationProperties", "UserProperties"} {
		raw, ok := inv.metaString(key)
		if !ok {
			continue
		}
		var props map[string]any
		if json.Unmarshal([]byte(raw), &props) != nil {
			continue
		}
		for _, name := range []string{"traceparent", "Diagnostic-Id"} {
			if s, ok := props[name].(string); ok && s != "" {
				return s
			}
		}
	}
	return ""
}

// MetaString returns a string metadata value such as MessageId.
func (inv *Invocation) MetaString(key string) string {
	s, _ := inv.metaString(key)
	return s
}

// MetaInt returns an integer metadata value such as DeliveryCount, which the
// host sends as a string. ok is false when absent or not an integer.
func (inv *Invocation) MetaInt(key string) (int64, bool) {
	s, found := inv.metaString(key)
	if !found {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// MetaTime returns a date metadata value such as EnqueuedTimeUtc. The host
// writes dates without a zone; they are UTC.
func (inv *Invocation) MetaTime(key string) (time.Time, bool) {
	s, found := inv.metaString(key)
	if !found {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "01/02/2006 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// invocationResponse is what the host expects back from a non-HTTP
// function. An empty body would hang the invocation until the function
// timeout, so this is always written in full.
type invocationResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// TriggerFunc runs one non-HTTP invocation. It returns nil when the
// invocation is done (including permanent failures it has recorded) and
// an error when the host should retry (Service Bus redelivers the message).
// Logs are returned to the host, which adds them to the invocation's log.
type TriggerFunc func(r *http.Request, inv *Invocation) (logs []string, err error)

// trigger adapts a TriggerFunc to the host's protocol: 200 with the full
// response object on success, 400 for an envelope or message the handler can
// never process (the host abandons it; Service Bus dead-letters it after
// maxDeliveryCount, so nothing is lost), 5xx for transient failures.
func (s *Server) trigger(name string, fn TriggerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inv, err := decodeInvocation(r, w)
		var logs []string
		if err == nil {
			// The message's trace context, set by whoever sent it: the
			// request that enqueued it, found again by its traceparent. The
			// worker's log lines and the messages it sends carry it on.
			r = r.WithContext(setTraceparent(r.Context(), inv.messageTraceparent()))
			logs, err = fn(r, inv)
		}
		if err != nil {
			writeError(w, r, s.logger.With("function", name), err)
			return
		}
		if logs == nil {
			logs = []string{}
		}
		writeJSON(w, http.StatusOK, invocationResponse{Outputs: map[string]any{}, Logs: logs, ReturnValue: nil})
	})
}

// errInvalidMessage marks a message body that can never be processed.
var errInvalidMessage = errors.New("invalid message")

func invalidMessage(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_message", Message: "Invalid message: " + fmt.Sprintf(format, args...) + ".", Err: errInvalidMessage}
}
