package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func (s sample) Valid(context.Context) map[string]string {
	p := map[string]string{}
	if s.Name == "" {
		p["name"] = "is required"
	}
	if s.Count < 0 {
		p["count"] = "must not be negative"
	}
	return p
}

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		wantFields  []string
	}{
		{"valid", "application/json", `{"name":"a","count":1}`, 200, "", nil},
		{"valid with charset", "application/json; charset=utf-8", `{"name":"a"}`, 200, "", nil},
		{"wrong content type", "text/plain", `{"name":"a"}`, 415, "unsupported_media_type", nil},
		{"missing content type", "", `{"name":"a"}`, 415, "unsupported_media_type", nil},
		{"empty body", "application/json", ``, 400, "malformed_json", nil},
		{"syntax error", "application/json", `{"name":`, 400, "malformed_json", nil},
		{"wrong type", "application/json", `{"name":"a","count":"1"}`, 400, "malformed_json", nil},
		{"unknown field", "application/json", `{"name":"a","admin":true}`, 400, "unknown_field", nil},
		{"trailing data", "application/json", `{"name":"a"} {"name":"b"}`, 400, "malformed_json", nil},
		{"too large", "application/json", `{"name":"` + strings.Repeat("a", maxBodyBytes) + `"}`, 413, "body_too_large", nil},
		{"invalid fields", "application/json", `{"count":-1}`, 422, "validation_failed", []string{"name", "count"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(Options{})
			h := s.handle(func(w http.ResponseWriter, r *http.Request) error {
				v, err := decodeValid[sample](r, w)
				if err != nil {
					return err
				}
				writeJSON(w, 200, v)
				return nil
			})
			req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus == 200 {
				return
			}
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if e.Error.Code != tt.wantCode {
				t.Errorf("code %q, want %q", e.Error.Code, tt.wantCode)
			}
			for _, f := range tt.wantFields {
				if e.Error.Fields[f] == "" {
					t.Errorf("no problem reported for field %q: %+v", f, e.Error.Fields)
				}
			}
		})
	}
}

func TestPanicBecomes500(t *testing.T) {
	s := NewServer(Options{})
	h := withLogging(s.logger, s.handle(func(w http.ResponseWriter, r *http.Request) error { panic("secret detail") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/x", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret detail") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}
