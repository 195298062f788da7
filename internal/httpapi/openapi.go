package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"go.yaml.in/yaml/v4"
)

// openAPIYAML is the API description, kept complete by tests: every /api
// route of routes.go is in it, it names no other path, and every HTTP
// test's exchange is validated against it (internal/apitest).
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIYAML returns the embedded OpenAPI document as written.
func OpenAPIYAML() []byte { return openAPIYAML }

// openAPIJSON renders the document as JSON once, on first use, so that
// start-up does not pay for it. The server only converts; parsing and
// validating the document with an OpenAPI library is the tests' job, which
// keeps that library out of the binary.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render openapi.json: %w", err)
	}
	return b, nil
})

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	body, err := openAPIJSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(body)
	return nil
}
