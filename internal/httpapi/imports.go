package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/importer"
)

type importRequest struct {
	URL string `json:"url"`
}

func (r importRequest) Valid(context.Context) map[string]string {
	if r.URL == "" {
		return map[string]string{"url": "is required"}
	}
	return nil
}

type importResponse struct {
	VideoID string `json:"video_id"`
	Status  string `json:"status"`
}

// importError maps the importer's errors to the API's.
func importError(err error) *Error {
	var inv *importer.InvalidURLError
	switch {
	case errors.As(err, &inv):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.", Fields: map[string]string{"url": inv.Reason}}
	case errors.Is(err, importer.ErrTooManyImports):
		return &Error{Status: http.StatusConflict, Code: "too_many_imports", Message: "Too many imports are running; wait for one to finish or cancel one."}
	case errors.Is(err, importer.ErrFinished):
		return &Error{Status: http.StatusConflict, Code: "import_finished", Message: "The import has already finished."}
	case errors.Is(err, importer.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The import does not exist."}
	}
	return nil
}

func (s *Server) createImport(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	req, err := decodeValid[importRequest](r, w)
	if err != nil {
		return err
	}
	row, err := s.imports.Enqueue(r.Context(), claims.UserID, req.URL)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, importResponse{VideoID: row.ID.String(), Status: row.Status})
	return nil
}

func importID(r *http.Request) (uuid.UUID, error) {
	id, ok := parseID(r, "video_id")
	if !ok {
		return uuid.Nil, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The import does not exist."}
	}
	return id, nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	id, err := importID(r)
	if err != nil {
		return err
	}
	p, err := s.imports.Progress(r.Context(), claims.UserID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) cancelImport(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	id, err := importID(r)
	if err != nil {
		return err
	}
	if err := s.imports.Cancel(r.Context(), claims.UserID, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, importResponse{VideoID: id.String(), Status: "cancelled"})
	return nil
}
