package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// FuzzDecodeQueueMessage: any body either decodes to a message that names
// a video or a post and survives encode then decode unchanged, or is
// refused with 400 invalid_message; nothing panics.
func FuzzDecodeQueueMessage(f *testing.F) {
	f.Add([]byte(`{"video_id":"7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5"}`))
	f.Add([]byte(`{"video_id":"7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5","task":"clip","clip_id":"0b0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5"}`))
	f.Add([]byte(`{"post_id":"7f0c1d2e-3b4a-4c5d-8e6f-708192a3b4c5"}`))
	f.Add([]byte(`{"video_id":"00000000-0000-0000-0000-000000000000"}`))
	f.Add([]byte(`{"post_id":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := DecodeQueueMessage(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != "invalid_message" || !errors.Is(err, errInvalidMessage) {
				t.Fatalf("DecodeQueueMessage(%q) error = %#v, want 400 invalid_message", body, err)
			}
			return
		}
		if msg.VideoID == uuid.Nil && (msg.PostID == nil || *msg.PostID == uuid.Nil) {
			t.Fatalf("DecodeQueueMessage(%q) accepted a message with neither video_id nor post_id: %+v", body, msg)
		}
		enc, err := json.Marshal(msg)
		if err != nil {
			t.Fatalf("encode %+v: %v", msg, err)
		}
		again, err := DecodeQueueMessage(enc)
		if err != nil {
			t.Fatalf("DecodeQueueMessage(%s) (re-encoded) = %v", enc, err)
		}
		if !reflect.DeepEqual(again, msg) {
			t.Fatalf("round trip: got %+v, want %+v", again, msg)
		}
	})
}

// FuzzDecodeValid drives the generic decode-and-validate helper with the
// import request: an accepted body has a non-empty url and round-trips; a
// refused one gets one of the documented statuses and codes.
func FuzzDecodeValid(f *testing.F) {
	f.Add("application/json", []byte(`{"url":"https://example.com/v"}`))
	f.Add("application/json; charset=utf-8", []byte(`{"url":"x"}`))
	f.Add("application/json", []byte(`{"url":""}`))
	f.Add("application/json", []byte(`{"url":"x","extra":1}`))
	f.Add("application/json", []byte(`{"url":"x"} {}`))
	f.Add("application/json", []byte(`{"url":1}`))
	f.Add("text/plain", []byte(`{"url":"x"}`))
	f.Add("application/json", []byte(``))
	documented := map[int]map[string]bool{
		http.StatusUnsupportedMediaType: {"unsupported_media_type": true},
		http.StatusBadRequest:           {"malformed_json": true, "unknown_field": true},
		http.StatusUnprocessableEntity:  {"validation_failed": true},
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/imports", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		v, err := decodeValid[importRequest](r, httptest.NewRecorder())
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return
			}
			var e *Error
			if !errors.As(err, &e) || !documented[e.Status][e.Code] {
				t.Fatalf("decodeValid(%q, %q) error = %#v, not a documented one", contentType, body, err)
			}
			return
		}
		if v.URL == "" {
			t.Fatalf("decodeValid(%q) accepted an empty url", body)
		}
		enc, _ := json.Marshal(v)
		r = httptest.NewRequest(http.MethodPost, "/api/imports", bytes.NewReader(enc))
		r.Header.Set("Content-Type", "application/json")
		again, err := decodeValid[importRequest](r, httptest.NewRecorder())
		if err != nil || again != v {
			t.Fatalf("round trip of %s: got %+v, %v; want %+v", enc, again, err, v)
		}
	})
}
