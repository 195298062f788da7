// Package apitest checks real HTTP exchanges against openapi.yaml, so that
// every HTTP test also proves the spec tells the truth. It is used by tests
// only.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/videofn/videofn/internal/httpapi"
)

// Load parses and validates the embedded OpenAPI document.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPIYAML())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	return doc, nil
}

// Validator validates requests and responses against the embedded spec.
type Validator struct {
	router routers.Router
}

// New loads the spec; the test fails when the spec is invalid.
func New(t testing.TB) *Validator {
	t.Helper()
	doc, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	// Match on path only: the spec's server is relative and tests run on
	// random ports.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &Validator{router: router}
}

// Do sends req with client, validates the request and the response against
// the spec (failing the test on any mismatch), and returns the response with
// its body read into the returned slice.
func (v *Validator) Do(t testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	v.Check(t, req, reqBody, resp, body)
	return resp, body
}

// Check validates one exchange against the spec.
func (v *Validator) Check(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	// The router matches on the path only; give it a copy without host.
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		t.Errorf("openapi: %s %s is not in the spec: %v", req.Method, req.URL.Path, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	// Requests the test sends on purpose to be rejected need not match the
	// spec; only check requests that the server accepted.
	if resp.StatusCode < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("openapi: request %s %s does not match the spec: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("openapi: response %d to %s %s does not match the spec: %v\nbody: %s", resp.StatusCode, req.Method, req.URL.Path, err, respBody)
	}
}
