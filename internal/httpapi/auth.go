package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/ratelimit"
)

// cookieNames are the names of the auth cookies. With Secure cookies they
// carry the __Secure- / __Host- prefixes, which browsers enforce (HTTPS,
// and for __Host- no Domain and Path=/); plain-http local runs cannot use
// prefixed cookies.
type cookieNames struct {
	refresh, csrf, state, preSession string
}

func newCookieNames(secure bool) cookieNames {
	if secure {
		return cookieNames{refresh: "__Secure-refresh_token", csrf: "__Host-csrf_token", state: "__Secure-oauth_state", preSession: "__Secure-pre_session"}
	}
	return cookieNames{refresh: "refresh_token", csrf: "csrf_token", state: "oauth_state", preSession: "pre_session"}
}

const (
	// refreshCookiePath scopes the refresh cookie to the auth routes, so it
	// is not sent with every API request.
	refreshCookiePath = "/api/auth"
	stateCookiePath   = "/api/auth/oauth"
	// preSessionCookiePath scopes the pre-session nonce to the one route
	// that reads it.
	preSessionCookiePath = "/api/auth/setup-session"
)

// userJSON is the public shape of a user (API.md).
type userJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"email_verified"`
	CreatedAt     time.Time `json:"created_at"`
}

func toUserJSON(u auth.User) userJSON {
	return userJSON{ID: u.ID.String(), Email: u.Email, Name: u.Name, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC()}
}

type sessionJSON struct {
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	ExpiresIn   int      `json:"expires_in"`
	User        userJSON `json:"user"`
}

type userResponse struct {
	User userJSON `json:"user"`
}

// acceptedResponse is the body of every 202 of the auth routes: the same
// whatever the account's existence.
type acceptedResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// client returns who sent r, for rate limits and the audit log. Behind the
// Functions front end the client address is the trustedHops-th entry of
// X-Forwarded-For from the right (the one the platform appended);
// without the header it is the peer address.
func (s *Server) client(r *http.Request) auth.Client {
	ua := r.UserAgent()
	if xff := r.Header.Values("X-Forwarded-For"); s.trustedHops > 0 && len(xff) > 0 {
		var hops []string
		for _, v := range xff {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					hops = append(hops, p)
				}
			}
		}
		if i := len(hops) - s.trustedHops; len(hops) > 0 {
			ip := hops[max(i, 0)]
			if h, _, err := net.SplitHostPort(ip); err == nil {
				ip = h
			}
			if net.ParseIP(ip) != nil {
				return auth.Client{IP: ip, UserAgent: ua}
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return auth.Client{IP: host, UserAgent: ua}
}

var errCrossSite = &Error{Status: http.StatusForbidden, Code: "cross_site_request", Message: "Cross-site requests are not allowed."}
var errCSRF = &Error{Status: http.StatusForbidden, Code: "csrf_failed", Message: "The CSRF token is missing or does not match."}

// checkOrigin refuses state-changing requests that a browser marks as
// coming from another site. An Origin header, when present, decides alone:
// it must be the frontend or an allowed origin (exact match; "null"
// included in the refusals), whatever Sec-Fetch-Site says. Without Origin,
// Sec-Fetch-Site must be absent, same-origin or none (typed in the address
// bar). Clients that send neither header (not browsers) pass; the CSRF
// token still applies to them where the route asks for one.
func (s *Server) checkOrigin(r *http.Request) error {
	if origin := r.Header.Values("Origin"); len(origin) > 0 {
		if len(origin) == 1 && slices.Contains(s.trustedOrigins, origin[0]) {
			return nil
		}
		return errCrossSite
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return nil
	}
	return errCrossSite
}

// checkCSRF is the double-submit half of the CSRF check of
// cookie-authenticated requests: the X-CSRF-Token header must equal the
// CSRF cookie. It returns the token, which the auth service then checks is
// signed for the request's session (or pre-session nonce): see
// auth.CSRFBinding.
func (s *Server) checkCSRF(r *http.Request) (string, error) {
	c, err := r.Cookie(s.cookies.csrf)
	header := r.Header.Get("X-CSRF-Token")
	if err != nil || c.Value == "" || header == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(header)) != 1 {
		return "", errCSRF
	}
	return header, nil
}

// setCSRFCookie sets the CSRF cookie, readable by JavaScript on purpose.
func (s *Server) setCSRFCookie(w http.ResponseWriter, token string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookies.csrf, Value: token, Path: "/",
		Secure: s.cookieSecure, SameSite: http.SameSiteStrictMode,
		MaxAge: int(maxAge.Seconds()),
	})
}

func (s *Server) clearAuthCookies(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookies.refresh, Value: "", Path: refreshCookiePath, MaxAge: -1, HttpOnly: true, Secure: s.cookieSecure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: s.cookies.csrf, Value: "", Path: "/", MaxAge: -1, Secure: s.cookieSecure, SameSite: http.SameSiteStrictMode})
}

// setPreSessionCookie sets (or, with an empty nonce, clears) the
// HttpOnly pre-session nonce that setup-session's CSRF token is bound to.
func (s *Server) setPreSessionCookie(w http.ResponseWriter, nonce string) {
	maxAge := int(auth.PreSessionTTL.Seconds())
	if nonce == "" {
		maxAge = -1
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookies.preSession, Value: nonce, Path: preSessionCookiePath,
		HttpOnly: true, Secure: s.cookieSecure, SameSite: http.SameSiteStrictMode, MaxAge: maxAge,
	})
}

// writeSession sends the session response and sets the refresh cookie
// when the result has a new refresh token (not on a concurrent refresh
// inside the grace window) and the CSRF cookie when a session starts (a
// session keeps its CSRF token for life).
func (s *Server) writeSession(w http.ResponseWriter, res auth.SessionResult) {
	if res.RefreshToken != "" {
		http.SetCookie(w, &http.Cookie{
			Name: s.cookies.refresh, Value: res.RefreshToken, Path: refreshCookiePath,
			HttpOnly: true, Secure: s.cookieSecure, SameSite: http.SameSiteStrictMode,
			MaxAge: int(s.sessionAbsolute.Seconds()),
		})
	}
	if res.CSRFToken != "" {
		s.setCSRFCookie(w, res.CSRFToken, s.sessionAbsolute)
	}
	writeJSON(w, http.StatusOK, sessionJSON{
		AccessToken: res.AccessToken, TokenType: "Bearer",
		ExpiresIn: int(res.ExpiresIn.Seconds()), User: toUserJSON(res.User),
	})
}

func writeAccepted(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusAccepted, acceptedResponse{Status: "accepted", Message: msg})
}

// authedFunc is a handler of an authenticated route.
type authedFunc func(w http.ResponseWriter, r *http.Request, claims auth.Claims) error

var errNoBearer = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "A bearer access token is required."}
var errBadBearer = &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "The access token is invalid or expired."}

// authed wraps a handler that needs a valid access token whose session is
// still live.
func (s *Server) authed(fn authedFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		claims, err := s.bearer(w, r, s.auth.Authenticate)
		if err != nil {
			return err
		}
		return fn(w, r, claims)
	})
}

// bearer returns the claims check gives for the request's bearer token, and
// the API's 401 (with WWW-Authenticate) when there is none or check refuses
// it.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request, check func(ctx context.Context, token string) (auth.Claims, error)) (auth.Claims, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		return auth.Claims{}, errNoBearer
	}
	claims, err := check(r.Context(), strings.TrimSpace(token))
	if errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrInvalidSession) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
		return auth.Claims{}, errBadBearer
	}
	return claims, err
}

// authError maps the auth package's errors to the API's.
func authError(err error) *Error {
	var v *auth.ValidationError
	var rl *ratelimit.LimitError
	switch {
	case errors.As(err, &v):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields are invalid.", Fields: v.Fields}
	case errors.As(err, &rl):
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "Too many requests; try again later.", Err: err}
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: "invalid_credentials", Message: "The email or password is incorrect."}
	case errors.Is(err, auth.ErrEmailNotVerified):
		return &Error{Status: http.StatusForbidden, Code: "email_not_verified", Message: "Verify your email address before logging in."}
	case errors.Is(err, auth.ErrInvalidToken):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_token", Message: "The link or code is invalid, expired or already used."}
	case errors.Is(err, auth.ErrRevocationNotCached):
		// Committed in PostgreSQL, not in the session cache: retrying
		// writes it again.
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "A service this request needs is unavailable; try again shortly.", Err: err}
	case errors.Is(err, auth.ErrInvalidSession):
		return &Error{Status: http.StatusUnauthorized, Code: "invalid_session", Message: "The session has expired or was revoked; log in again."}
	case errors.Is(err, auth.ErrCSRF):
		return errCSRF
	case errors.Is(err, auth.ErrOAuthDisabled):
		return &Error{Status: http.StatusNotFound, Code: "oauth_disabled", Message: "Google sign-in is not configured."}
	case errors.Is(err, auth.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "The resource does not exist."}
	}
	return nil
}

func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// --- request bodies ---

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func (registerRequest) Valid(context.Context) map[string]string { return nil } // rules live in auth

type emailRequest struct {
	Email string `json:"email"`
}

func (emailRequest) Valid(context.Context) map[string]string { return nil }

type tokenRequest struct {
	Token string `json:"token"`
}

func (t tokenRequest) Valid(context.Context) map[string]string {
	if t.Token == "" {
		return map[string]string{"token": "is required"}
	}
	return nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (loginRequest) Valid(context.Context) map[string]string { return nil }

type resetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (r resetRequest) Valid(context.Context) map[string]string {
	if r.Token == "" {
		return map[string]string{"token": "is required"}
	}
	return nil
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (changePasswordRequest) Valid(context.Context) map[string]string { return nil }

type codeRequest struct {
	Code string `json:"code"`
}

func (c codeRequest) Valid(context.Context) map[string]string {
	if c.Code == "" {
		return map[string]string{"code": "is required"}
	}
	return nil
}

type updateMeRequest struct {
	Name *string `json:"name"`
}

func (updateMeRequest) Valid(context.Context) map[string]string { return nil }

// --- handlers ---

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[registerRequest](r, w)
	if err != nil {
		return err
	}
	if err := s.auth.Register(r.Context(), s.client(r), req.Email, req.Password, req.Name); err != nil {
		return err
	}
	writeAccepted(w, "If the address can be registered, a confirmation email is on its way.")
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[tokenRequest](r, w)
	if err != nil {
		return err
	}
	u, err := s.auth.VerifyEmail(r.Context(), s.client(r), req.Token)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userResponse{User: toUserJSON(u)})
	return nil
}

func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[emailRequest](r, w)
	if err != nil {
		return err
	}
	if err := s.auth.ResendVerification(r.Context(), s.client(r), req.Email); err != nil {
		return err
	}
	writeAccepted(w, "If the address belongs to an unverified account, a new confirmation email is on its way.")
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[loginRequest](r, w)
	if err != nil {
		return err
	}
	res, err := s.auth.Login(r.Context(), s.client(r), req.Email, req.Password)
	if err != nil {
		return err
	}
	s.writeSession(w, res)
	return nil
}

// refreshCookie returns the refresh token the request carries, or "".
func (s *Server) refreshCookie(r *http.Request) string {
	c, err := r.Cookie(s.cookies.refresh)
	if err != nil {
		return ""
	}
	return c.Value
}

// refresh and logout act only on the session of the refresh cookie. A
// request without one has no session to act on, so no CSRF token is asked:
// refresh answers 401 invalid_session (what a frontend restoring a session
// on page load expects for a visitor who never logged in) and logout 204;
// both clear whatever auth cookies are left. Cross-site requests are refused
// first in every case.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	token := s.refreshCookie(r)
	if token == "" {
		s.clearAuthCookies(w)
		return auth.ErrInvalidSession
	}
	csrf, err := s.checkCSRF(r)
	if err != nil {
		return err
	}
	res, err := s.auth.Refresh(r.Context(), s.client(r), token, csrf)
	if errors.Is(err, auth.ErrInvalidSession) {
		s.clearAuthCookies(w)
	}
	if err != nil {
		return err
	}
	s.writeSession(w, res)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	if token := s.refreshCookie(r); token != "" {
		csrf, err := s.checkCSRF(r)
		if err != nil {
			return err
		}
		if err := s.auth.Logout(r.Context(), s.client(r), token, csrf); err != nil {
			return err
		}
	}
	s.clearAuthCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	if err := s.auth.LogoutAll(r.Context(), s.client(r), claims); err != nil {
		return err
	}
	s.clearAuthCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[emailRequest](r, w)
	if err != nil {
		return err
	}
	if err := s.auth.ForgotPassword(r.Context(), s.client(r), req.Email); err != nil {
		return err
	}
	writeAccepted(w, "If an account uses this address, a reset link is on its way.")
	return nil
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[resetRequest](r, w)
	if err != nil {
		return err
	}
	if err := s.auth.ResetPassword(r.Context(), s.client(r), req.Token, req.Password); err != nil {
		return err
	}
	s.clearAuthCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	req, err := decodeValid[changePasswordRequest](r, w)
	if err != nil {
		return err
	}
	if err := s.auth.ChangePassword(r.Context(), s.client(r), claims, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// authProvidersResponse says which ways to sign in exist, for the sign-in
// page (it shows "Continue with Google" only when google is true).
type authProvidersResponse struct {
	Password bool `json:"password"`
	Google   bool `json:"google"`
}

// authProviders answers the sign-in methods. It is public and the same for
// everyone, so it may be cached briefly; the configuration changes only with
// a deployment. Like health and openapi.json it reads no dependency and is
// not rate limited.
func (s *Server) authProviders(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, authProvidersResponse{
		Password: true,
		Google:   s.auth != nil && s.auth.GoogleEnabled(),
	})
	return nil
}

func (s *Server) googleStart(w http.ResponseWriter, r *http.Request) error {
	target, state, err := s.auth.StartGoogle()
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookies.state, Value: state, Path: stateCookiePath,
		HttpOnly: true, Secure: s.cookieSecure,
		// Lax: the callback is a top-level navigation from Google.
		SameSite: http.SameSiteLaxMode, MaxAge: int(auth.StateTTL().Seconds()),
	})
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

func (s *Server) googleCallback(w http.ResponseWriter, r *http.Request) error {
	var state string
	if c, err := r.Cookie(s.cookies.state); err == nil {
		state = c.Value
	}
	target, pre := s.auth.FinishGoogle(r.Context(), s.client(r), r.URL.Query(), state)
	http.SetCookie(w, &http.Cookie{Name: s.cookies.state, Value: "", Path: stateCookiePath, MaxAge: -1, HttpOnly: true, Secure: s.cookieSecure, SameSite: http.SameSiteLaxMode})
	if pre.Nonce != "" {
		// No session exists yet: the CSRF token the frontend sends with
		// setup-session is bound to a nonce only this browser holds.
		s.setPreSessionCookie(w, pre.Nonce)
		s.setCSRFCookie(w, pre.CSRFToken, auth.PreSessionTTL)
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// setupSession always needs the CSRF pair, even without cookies: it starts
// a session, and a forged one would sign the browser into someone else's
// account.
func (s *Server) setupSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	csrf, err := s.checkCSRF(r)
	if err != nil {
		return err
	}
	req, err := decodeValid[codeRequest](r, w)
	if err != nil {
		return err
	}
	var nonce string
	if c, err := r.Cookie(s.cookies.preSession); err == nil {
		nonce = c.Value
	}
	res, err := s.auth.SetupSession(r.Context(), s.client(r), req.Code, nonce, csrf)
	if err != nil {
		return err
	}
	s.setPreSessionCookie(w, "")
	s.writeSession(w, res)
	return nil
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	u, err := s.auth.Me(r.Context(), claims)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userResponse{User: toUserJSON(u)})
	return nil
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request, claims auth.Claims) error {
	req, err := decodeValid[updateMeRequest](r, w)
	if err != nil {
		return err
	}
	u, err := s.auth.UpdateMe(r.Context(), claims, req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userResponse{User: toUserJSON(u)})
	return nil
}
