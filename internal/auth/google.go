package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// GoogleOptions configure Google sign-in. The endpoint URLs are settings so
// tests can run a local fake provider.
type GoogleOptions struct {
	ClientID, ClientSecret, RedirectURL string
	AuthURL, TokenURL, UserinfoURL      string
	// HTTPClient is used for the token exchange and the userinfo call;
	// nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Google holds the OAuth configuration and the key that signs the
// browser-bound state cookie.
type Google struct {
	cfg         *oauth2.Config
	userinfoURL string
	stateKey    []byte
	oldKeys     [][]byte // state keys of the previous secret: open only
	client      *http.Client
}

// stateTTL bounds how long a sign-in may take between start and callback.
const stateTTL = 10 * time.Minute

// GoogleEnabled reports whether Google sign-in is configured (EnableGoogle
// was called).
func (s *Service) GoogleEnabled() bool { return s.google != nil }

// EnableGoogle turns Google sign-in on. secret is the same secret that keys
// access tokens; the state cookie uses a key derived for that purpose only.
// previous (JWT_SECRET_PREVIOUS, optional) still opens state cookies set
// before a key rotation.
func (s *Service) EnableGoogle(o GoogleOptions, secret []byte, previous ...[]byte) {
	var oldKeys [][]byte
	for _, p := range previous {
		if len(p) > 0 {
			oldKeys = append(oldKeys, deriveKey(p, "oauth-state"))
		}
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	s.google = &Google{
		cfg: &oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			RedirectURL:  o.RedirectURL,
			Scopes:       []string{"openid", "email", "profile"},
			Endpoint:     oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		userinfoURL: o.UserinfoURL,
		stateKey:    deriveKey(secret, "oauth-state"),
		oldKeys:     oldKeys,
		client:      client,
	}
}

// oauthState is what the state cookie carries: the state sent to Google,
// the PKCE verifier, and an expiry. It is signed, not encrypted; the
// verifier is useless without the authorization code, which only the
// browser that holds this cookie receives.
type oauthState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

func (g *Google) sign(payload []byte) string {
	m := hmac.New(sha256.New, g.stateKey)
	m.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (g *Google) open(cookie string, now time.Time) (oauthState, bool) {
	p, sig, ok := strings.Cut(cookie, ".")
	if !ok {
		return oauthState{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return oauthState{}, false
	}
	valid := false
	for _, k := range append([][]byte{g.stateKey}, g.oldKeys...) {
		m := hmac.New(sha256.New, k)
		m.Write(payload)
		valid = hmac.Equal(mac, m.Sum(nil)) || valid
	}
	if !valid {
		return oauthState{}, false
	}
	var st oauthState
	if json.Unmarshal(payload, &st) != nil || now.Unix() > st.Expires || st.State == "" || st.Verifier == "" {
		return oauthState{}, false
	}
	return st, true
}

// StartGoogle returns the URL to send the browser to and the value of the
// short-lived state cookie that binds the flow to this browser (state and
// PKCE S256 verifier).
func (s *Service) StartGoogle() (redirectURL, stateCookie string, err error) {
	if s.google == nil {
		return "", "", ErrOAuthDisabled
	}
	state, _ := opaqueToken()
	st := oauthState{State: state, Verifier: oauth2.GenerateVerifier(), Expires: s.now().Add(stateTTL).Unix()}
	payload, err := json.Marshal(st)
	if err != nil {
		return "", "", err
	}
	u := s.google.cfg.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oauth2.AccessTypeOnline,
		oauth2.SetAuthURLParam("prompt", "select_account"))
	return u, s.google.sign(payload), nil
}

// StateTTL is the lifetime of the state cookie.
func StateTTL() time.Duration { return stateTTL }

// googleProfile is the part of the OpenID Connect userinfo response used.
type googleProfile struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
}

// FinishGoogle completes the callback: it checks the state against the
// cookie, exchanges the code with the PKCE verifier, reads the profile,
// finds or links or creates the user, and returns where to send the
// browser: <FRONTEND_URL>/auth/oauth/success#code=<one-time code>, or
// #error=<reason>. No long-lived token ever appears in a URL. With a code
// it also returns the PreSession (nonce and CSRF token) the browser needs
// for setup-session; with an error, the zero PreSession, so that a failed
// sign-in leaves the browser's cookies alone.
func (s *Service) FinishGoogle(ctx context.Context, c Client, query url.Values, stateCookie string) (string, PreSession) {
	u, reason := s.finishGoogle(ctx, c, query, stateCookie)
	target := *s.opts.FrontendURL
	target.Path = "/auth/oauth/success"
	if reason != "" {
		s.audit(ctx, nil, "oauth_login", false, c, map[string]any{"provider": "google", "reason": reason})
		target.Fragment = "error=" + reason
		return target.String(), PreSession{}
	}
	code, hash := opaqueToken()
	if err := s.handoff.Put(ctx, hash, u.ID, s.opts.HandoffTTL); err != nil {
		s.logger.Error("oauth hand-off not stored", "err", err.Error())
		target.Fragment = "error=server_error"
		return target.String(), PreSession{}
	}
	target.Fragment = "code=" + code
	return target.String(), s.tokens.NewPreSession()
}

func (s *Service) finishGoogle(ctx context.Context, c Client, query url.Values, stateCookie string) (User, string) {
	if s.google == nil {
		return User{}, "oauth_disabled"
	}
	if e := query.Get("error"); e != "" {
		if e == "access_denied" {
			return User{}, "access_denied"
		}
		return User{}, "provider_error"
	}
	st, ok := s.google.open(stateCookie, s.now())
	if !ok || !equalStrings(st.State, query.Get("state")) {
		return User{}, "invalid_state"
	}
	code := query.Get("code")
	if code == "" {
		return User{}, "invalid_request"
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.google.client)
	tok, err := s.google.cfg.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.logger.Warn("oauth code exchange failed", "err", err.Error())
		return User{}, "exchange_failed"
	}
	p, err := s.google.profile(ctx, tok)
	if err != nil {
		s.logger.Warn("oauth userinfo failed", "err", err.Error())
		return User{}, "exchange_failed"
	}
	u, reason, err := s.signInGoogle(ctx, c, p)
	if err != nil {
		s.logger.Error("oauth sign-in failed", "err", err.Error())
		return User{}, "server_error"
	}
	return u, reason
}

func (g *Google) profile(ctx context.Context, tok *oauth2.Token) (googleProfile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.userinfoURL, nil)
	if err != nil {
		return googleProfile{}, err
	}
	tok.SetAuthHeader(req)
	resp, err := g.client.Do(req)
	if err != nil {
		return googleProfile{}, fmt.Errorf("userinfo: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return googleProfile{}, fmt.Errorf("userinfo: status %d", resp.StatusCode)
	}
	var p googleProfile
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&p); err != nil {
		return googleProfile{}, fmt.Errorf("userinfo: %w", err)
	}
	p.Email = NormalizeEmail(p.Email)
	if p.Subject == "" || !validEmail(p.Email) {
		return googleProfile{}, errors.New("userinfo: missing subject or email")
	}
	return p, nil
}

// signInGoogle finds the user by (provider, subject) first; links by email
// only when Google says the email is verified; creates the user otherwise.
// The returned reason is non-empty when sign-in is refused.
func (s *Service) signInGoogle(ctx context.Context, c Client, p googleProfile) (User, string, error) {
	const provider = "google"
	u, err := s.store.UserByIdentity(ctx, provider, p.Subject)
	if err == nil {
		s.audit(ctx, &u.ID, "oauth_login", true, c, map[string]any{"provider": provider})
		return u, "", nil
	}
	if !errors.Is(err, ErrNotFound) {
		return User{}, "", err
	}
	id := Identity{Provider: provider, Subject: p.Subject, Email: p.Email, EmailVerified: p.EmailVerified}
	existing, err := s.store.UserByEmail(ctx, p.Email)
	switch {
	case err == nil && p.EmailVerified:
		u, revoked, err := s.store.LinkIdentity(ctx, existing.ID, id)
		if err != nil {
			return User{}, "", err
		}
		if err := s.revokeCached(ctx, revoked...); err != nil {
			return User{}, "", err
		}
		s.audit(ctx, &u.ID, "oauth_link", true, c, map[string]any{"provider": provider, "was_verified": existing.EmailVerified})
		return u, "", nil
	case err == nil:
		// An account with this address exists and Google does not vouch for
		// the address: linking would let whoever controls this Google
		// account into someone else's account.
		s.audit(ctx, &existing.ID, "oauth_link", false, c, map[string]any{"provider": provider, "reason": "email_not_verified_by_provider"})
		return User{}, "email_not_verified", nil
	case !errors.Is(err, ErrNotFound):
		return User{}, "", err
	}
	u, err = s.store.CreateUserWithIdentity(ctx, NewUser{Email: p.Email, Name: strings.TrimSpace(p.Name), EmailVerified: p.EmailVerified}, id)
	if errors.Is(err, ErrEmailTaken) {
		return User{}, "", errors.New("email registered concurrently")
	}
	if err != nil {
		return User{}, "", err
	}
	s.audit(ctx, &u.ID, "register", true, c, map[string]any{"provider": provider})
	return u, "", nil
}
