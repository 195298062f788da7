package httpapi

import (
	"context"
	"encoding/json"
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

var errImportNotFound = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The import does not exist."}

func importID(r *http.Request) (uuid.UUID, error) {
	id, ok := parseID(r, "video_id")
	if !ok {
		return uuid.Nil, errImportNotFound
	}
	return id, nil
}

// PollRead is what Redis held for an import poll: the session of the
// access token and the import's progress, each with the error of its read.
type PollRead struct {
	Session     auth.CachedSession
	SessionErr  error
	Progress    importer.CachedProgress
	ProgressErr error
}

// PollReader reads the session and the progress of an import poll in one
// Redis round trip (see handler/main.go).
type PollReader func(ctx context.Context, sessionID, videoID uuid.UUID) PollRead

// getImport answers the frontend's progress poll in one Redis round trip
// for a running import: the access token's signature is checked locally,
// then PollReads reads the session and the progress together, and
// PostgreSQL is asked only for what Redis cannot answer
// (auth.Service.CheckSession, importer.Service.ProgressJSON).
func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	id, validID := parseID(r, "video_id")
	var read PollRead
	claims, err := s.bearer(w, r, func(ctx context.Context, token string) (auth.Claims, error) {
		if !validID {
			return s.auth.Authenticate(ctx, token) // no import to read: the session alone
		}
		claims, err := s.auth.VerifyToken(token)
		if err != nil {
			return auth.Claims{}, err
		}
		read = s.pollReads(ctx, claims.SessionID, id)
		return s.auth.CheckSession(ctx, claims, read.Session, read.SessionErr)
	})
	if err != nil {
		return err
	}
	if !validID {
		return errImportNotFound
	}
	b, err := s.imports.ProgressJSON(r.Context(), claims.UserID, id, read.Progress, read.ProgressErr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, json.RawMessage(b))
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
