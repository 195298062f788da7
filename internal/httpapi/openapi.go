package httpapi

import (
	_ "embed"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// openAPIYAML is the API description, kept complete by tests: every /api
// route of routes.go is in it and it names no other path.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIYAML returns the embedded OpenAPI document as written.
func OpenAPIYAML() []byte { return openAPIYAML }

// LoadOpenAPI parses and validates the embedded OpenAPI document.
func LoadOpenAPI() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	return doc, nil
}

// openAPIJSON renders the document once, on first use, so that start-up does
// not pay for it.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := LoadOpenAPI()
	if err != nil {
		return nil, err
	}
	return doc.MarshalJSON()
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
