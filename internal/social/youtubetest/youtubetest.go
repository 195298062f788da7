// Package youtubetest is a fake of the Google OAuth and YouTube Data API
// endpoints the project uses, for tests: authorize (approves at once and
// redirects with a code), token (authorization_code with client
// credentials and PKCE S256 checked; refresh_token), revoke, and
// channels.list mine=true. Other files of the package add endpoints (the
// resumable upload) through Handle and check callers with Authorized.
package youtubetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Channel is the fake's one channel, returned by channels.list.
type Channel struct {
	ID, Title, Handle, AvatarURL string
}

// Server is a running fake. Its zero values are not usable: call New.
type Server struct {
	*httptest.Server
	ClientID, ClientSecret string

	mux *http.ServeMux

	mu            sync.Mutex
	channel       Channel
	expiresIn     time.Duration
	refuseRefresh bool
	codes         map[string]grant  // authorization code -> grant
	access        map[string]*token // access token -> token
	refresh       map[string]bool   // live refresh tokens
	revoked       []string
	refreshes     int
	exchanges     int
}

type grant struct {
	challenge, redirectURI, scope string
}

type token struct {
	refresh string
	expires time.Time
}

// New starts a fake for the client id and secret "test-client" /
// "test-secret"; it stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		ClientID: "test-client", ClientSecret: "test-secret",
		mux:       http.NewServeMux(),
		channel:   Channel{ID: "UCfakechannel000000000001", Title: "Fake Channel", Handle: "@fakechannel", AvatarURL: "https://yt3.example/avatar.jpg"},
		expiresIn: time.Hour,
		codes:     map[string]grant{}, access: map[string]*token{}, refresh: map[string]bool{},
	}
	s.mux.HandleFunc("GET /o/oauth2/auth", s.authorize)
	s.mux.HandleFunc("POST /token", s.token)
	s.mux.HandleFunc("POST /revoke", s.revoke)
	s.mux.HandleFunc("GET /youtube/v3/channels", s.channels)
	s.Server = httptest.NewServer(s.mux)
	t.Cleanup(s.Close)
	return s
}

// Endpoint URLs, for the YOUTUBE_* settings.
func (s *Server) AuthURL() string   { return s.URL + "/o/oauth2/auth" }
func (s *Server) TokenURL() string  { return s.URL + "/token" }
func (s *Server) RevokeURL() string { return s.URL + "/revoke" }
func (s *Server) APIURL() string    { return s.URL + "/youtube/v3" }

// Handle adds an endpoint to the fake.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// SetChannel changes the channel channels.list returns.
func (s *Server) SetChannel(c Channel) { s.mu.Lock(); s.channel = c; s.mu.Unlock() }

// SetExpiresIn changes the lifetime of the access tokens issued from now on.
func (s *Server) SetExpiresIn(d time.Duration) { s.mu.Lock(); s.expiresIn = d; s.mu.Unlock() }

// RefuseRefresh makes every refresh_token grant fail with invalid_grant.
func (s *Server) RefuseRefresh(refuse bool) { s.mu.Lock(); s.refuseRefresh = refuse; s.mu.Unlock() }

// RevokeAll revokes every token issued so far (as a user withdrawing
// consent in their Google account would).
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access, s.refresh = map[string]*token{}, map[string]bool{}
}

// Revoked returns the tokens posted to the revoke endpoint.
func (s *Server) Revoked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.revoked...)
}

// Refreshes returns how many refresh_token grants succeeded.
func (s *Server) Refreshes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshes }

// Exchanges returns how many authorization codes were exchanged.
func (s *Server) Exchanges() int { s.mu.Lock(); defer s.mu.Unlock(); return s.exchanges }

// IssuedTokens returns every access and refresh token currently valid, for
// tests that look for them where they must not be.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a := range s.access {
		out = append(out, a)
	}
	for r := range s.refresh {
		out = append(out, r)
	}
	return out
}

// Authorized reports whether r carries a live, unexpired access token
// (Authorization: Bearer).
func (s *Server) Authorized(r *http.Request) bool {
	a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.access[a]
	return ok && time.Now().Before(tok.expires)
}

func random(prefix string) string {
	b := make([]byte, 18)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// authorize approves at once: 302 to redirect_uri with a code and the state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.ClientID || q.Get("response_type") != "code" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorize request", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	if q.Get("access_type") != "offline" {
		http.Error(w, "offline access required", http.StatusBadRequest)
		return
	}
	code := random("code-")
	s.mu.Lock()
	s.codes[code] = grant{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), scope: q.Get("scope")}
	s.mu.Unlock()
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	back := u.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID || secret != s.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := s.codes[r.PostForm.Get("code")]
		delete(s.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || g.redirectURI != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		s.exchanges++
		refresh := random("1//refresh-")
		s.refresh[refresh] = true
		s.issue(w, refresh, g.scope, true)
	case "refresh_token":
		refresh := r.PostForm.Get("refresh_token")
		if s.refuseRefresh || !s.refresh[refresh] {
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		s.refreshes++
		s.issue(w, refresh, "", false)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// issue writes a token response; s.mu is held.
func (s *Server) issue(w http.ResponseWriter, refresh, scope string, withRefresh bool) {
	access := random("ya29.access-")
	s.access[access] = &token{refresh: refresh, expires: time.Now().Add(s.expiresIn)}
	body := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(s.expiresIn.Seconds())}
	if scope != "" {
		body["scope"] = scope
	}
	if withRefresh {
		body["refresh_token"] = refresh
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// revoke revokes a refresh token (and its access tokens) or an access token.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	tok := r.PostForm.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, tok)
	known := s.refresh[tok] || s.access[tok] != nil
	delete(s.refresh, tok)
	delete(s.access, tok)
	for a, t := range s.access {
		if t.refresh == tok {
			delete(s.access, a)
		}
	}
	if !known {
		oauthError(w, http.StatusBadRequest, "invalid_token")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) channels(w http.ResponseWriter, r *http.Request) {
	if !s.Authorized(r) {
		http.Error(w, `{"error":{"code":401}}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Query().Get("mine") != "true" || !strings.Contains(r.URL.Query().Get("part"), "snippet") {
		http.Error(w, `{"error":{"code":400}}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	ch := s.channel
	s.mu.Unlock()
	items := []any{}
	if ch.ID != "" {
		items = append(items, map[string]any{"id": ch.ID, "snippet": map[string]any{
			"title": ch.Title, "customUrl": ch.Handle,
			"thumbnails": map[string]any{"default": map[string]string{"url": ch.AvatarURL}},
		}})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"kind": "youtube#channelListResponse", "items": items})
}
