package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/social"
)

// socialStatePath scopes the social state cookie to the routes that set and
// read it.
const socialStatePath = "/api/social-accounts"

func (s *Server) socialStateCookie() string {
	if s.cookieSecure {
		return "__Secure-social_state"
	}
	return "social_state"
}

// socialAccountJSON is the public shape of a social account (API.md): never
// any token.
type socialAccountJSON struct {
	ID          string    `json:"id"`
	Platform    string    `json:"platform"`
	ExternalID  string    `json:"external_id"`
	DisplayName string    `json:"display_name"`
	AvatarURL   string    `json:"avatar_url"`
	Scopes      []string  `json:"scopes"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

func toSocialAccountJSON(a social.Account) socialAccountJSON {
	scopes := a.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return socialAccountJSON{ID: a.ID.String(), Platform: a.Platform, ExternalID: a.ExternalID, DisplayName: a.DisplayName,
		AvatarURL: a.AvatarURL, Scopes: scopes, Status: a.Status, CreatedAt: a.CreatedAt.UTC()}
}

type socialPlatformJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Configured bool   `json:"configured"`
}

// errSocialOff answers the social routes of a server built without
// Options.Social (tests of other features).
var errSocialOff = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "No such route."}

// socialError maps the social package's errors to the API's.
func socialError(err error) *Error {
	switch {
	case errors.Is(err, social.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The social account does not exist."}
	case errors.Is(err, social.ErrUnknownPlatform):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "No such platform."}
	case errors.Is(err, social.ErrNotConfigured):
		return &Error{Status: http.StatusConflict, Code: "platform_not_configured", Message: "This platform is not configured on the server."}
	case errors.Is(err, social.ErrNeedsReconnect):
		return &Error{Status: http.StatusConflict, Code: "needs_reconnect", Message: "The social account must be connected again."}
	}
	return nil
}

// GET /api/social-accounts/platforms
func (s *Server) socialPlatforms(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	if s.social == nil {
		return errSocialOff
	}
	out := struct {
		Platforms []socialPlatformJSON `json:"platforms"`
	}{Platforms: []socialPlatformJSON{}}
	for _, p := range s.social.Platforms() {
		out.Platforms = append(out.Platforms, socialPlatformJSON{ID: p.ID, Name: p.Name, Configured: p.Configured})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /api/social-accounts/{platform}/connect: a POST with the Bearer
// token, not a GET navigation (which could not carry it); the frontend
// navigates to the returned URL. The state also goes into an HttpOnly
// cookie, which the callback requires.
func (s *Server) connectSocial(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	if s.social == nil {
		return errSocialOff
	}
	target, state, err := s.social.StartConnect(r.Context(), c.UserID, r.PathValue("platform"))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.socialStateCookie(), Value: state, Path: socialStatePath,
		HttpOnly: true, Secure: s.cookieSecure,
		// Lax: the callback is a top-level navigation from the platform.
		SameSite: http.SameSiteLaxMode, MaxAge: int(social.StateTTL.Seconds()),
	})
	writeJSON(w, http.StatusOK, struct {
		AuthorizeURL string `json:"authorize_url"`
	}{target})
	return nil
}

// GET /api/social-accounts/{platform}/callback: no Bearer; the stored
// state and the cookie authenticate it.
func (s *Server) socialCallback(w http.ResponseWriter, r *http.Request) error {
	if s.social == nil {
		return errSocialOff
	}
	var state string
	if ck, err := r.Cookie(s.socialStateCookie()); err == nil {
		state = ck.Value
	}
	target := s.social.FinishConnect(r.Context(), r.PathValue("platform"), r.URL.Query(), state)
	http.SetCookie(w, &http.Cookie{Name: s.socialStateCookie(), Value: "", Path: socialStatePath, MaxAge: -1,
		HttpOnly: true, Secure: s.cookieSecure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// GET /api/social-accounts
func (s *Server) listSocial(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	if s.social == nil {
		return errSocialOff
	}
	accts, err := s.social.List(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	out := struct {
		Items []socialAccountJSON `json:"items"`
	}{Items: make([]socialAccountJSON, 0, len(accts))}
	for _, a := range accts {
		out.Items = append(out.Items, toSocialAccountJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// DELETE /api/social-accounts/{id}: 204; another user's account is 404.
func (s *Server) deleteSocial(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	if s.social == nil {
		return errSocialOff
	}
	id, ok := parseID(r, "id")
	if !ok {
		return social.ErrNotFound
	}
	if err := s.social.Disconnect(r.Context(), c.UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
