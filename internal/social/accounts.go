package social

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/videofn/videofn/internal/secretbox"
)

// StateTTL bounds how long a user may take between starting a connection
// and the platform's callback.
const StateTTL = 10 * time.Minute

// RefreshMargin: AccessToken refreshes a token that expires within it, so
// a token it returns stays valid for at least that long.
const RefreshMargin = 2 * time.Minute

// PlatformInfo describes a platform for GET /api/social-accounts/platforms.
type PlatformInfo struct {
	ID, Name   string
	Configured bool
}

// platforms are the platforms the product knows, in display order.
var platforms = []struct{ id, name string }{{YouTube, "YouTube"}}

// Options are the dependencies of Accounts.
type Options struct {
	Store Store
	Box   *secretbox.Box
	// Connectors by platform id; a platform without one is not configured.
	Connectors map[string]Connector
	// FrontendURL is where callbacks send the browser back to
	// (<FrontendURL>/settings/connections?...).
	FrontendURL *url.URL
	Logger      *slog.Logger
	Now         func() time.Time // default time.Now
}

// Accounts connects, lists, refreshes and disconnects social accounts.
type Accounts struct {
	store      Store
	box        *secretbox.Box
	connectors map[string]Connector
	frontend   url.URL
	logger     *slog.Logger
	now        func() time.Time
}

// NewAccounts returns the service.
func NewAccounts(o Options) *Accounts {
	a := &Accounts{store: o.Store, box: o.Box, connectors: o.Connectors, logger: o.Logger, now: o.Now}
	if o.FrontendURL != nil {
		a.frontend = *o.FrontendURL
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	return a
}

// Platforms lists the known platforms and whether each is configured.
func (a *Accounts) Platforms() []PlatformInfo {
	out := make([]PlatformInfo, 0, len(platforms))
	for _, p := range platforms {
		_, ok := a.connectors[p.id]
		out = append(out, PlatformInfo{ID: p.id, Name: p.name, Configured: ok})
	}
	return out
}

func (a *Accounts) connector(platform string) (Connector, error) {
	known := false
	for _, p := range platforms {
		known = known || p.id == platform
	}
	if !known {
		return nil, ErrUnknownPlatform
	}
	c, ok := a.connectors[platform]
	if !ok {
		return nil, ErrNotConfigured
	}
	return c, nil
}

// additional data of a sealed value: where it is stored.
func ad(id, column string) []byte { return []byte(id + ":" + column) }

// AdditionalData is the additional data a sealed column is bound to: the
// row's id (social_accounts.id, or the hex of social_oauth_states.state_hash)
// and the column ("access_token", "refresh_token", "verifier"). For
// re-encryption (postgres.Reencrypt), which must open and seal exactly as
// Accounts does.
func AdditionalData(id, column string) []byte { return ad(id, column) }

// StartConnect records a new authorization for the user and returns the
// platform's consent URL and the state it carries. The state is random,
// stored only as a hash, bound to the user and valid once for StateTTL;
// the PKCE verifier is stored sealed beside it. The caller also hands the
// state to the browser that started the flow (an HttpOnly cookie), and
// FinishConnect requires it back: a consent URL sent to someone else's
// browser cannot connect their channel to this user.
func (a *Accounts) StartConnect(ctx context.Context, userID uuid.UUID, platform string) (authorizeURL, state string, err error) {
	c, err := a.connector(platform)
	if err != nil {
		return "", "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	state = base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(state))
	verifier := oauth2.GenerateVerifier()
	keyID, sealed, err := a.box.Seal([]byte(verifier), ad(hex.EncodeToString(hash[:]), "verifier"))
	if err != nil {
		return "", "", err
	}
	st := OAuthState{Hash: hash[:], UserID: userID, Platform: platform, KeyID: keyID, Verifier: sealed, Expires: a.now().Add(StateTTL)}
	if err := a.store.PutState(ctx, st); err != nil {
		return "", "", fmt.Errorf("store oauth state: %w", err)
	}
	return c.AuthCodeURL(state, verifier), state, nil
}

// FinishConnect completes a callback and returns where to send the
// browser: <FrontendURL>/settings/connections?connected=<platform>, or
// ?error=<reason> (access_denied, invalid_state, exchange_failed,
// no_channel, server_error, unknown_platform, not_configured). The state
// authenticates the callback: it names the user who started the flow, for
// this platform, and is deleted as it is used; browserState is the state
// StartConnect gave the browser, and must equal the query's.
func (a *Accounts) FinishConnect(ctx context.Context, platform string, query url.Values, browserState string) string {
	target := a.frontend
	target.Path = "/settings/connections"
	reason := "invalid_state"
	if s := query.Get("state"); s != "" && subtle.ConstantTimeCompare([]byte(s), []byte(browserState)) == 1 {
		reason = a.finishConnect(ctx, platform, query)
	}
	q := url.Values{}
	if reason != "" {
		a.logger.Warn("social account not connected", "platform", platform, "reason", reason)
		q.Set("error", reason)
	} else {
		q.Set("connected", platform)
	}
	target.RawQuery = q.Encode()
	return target.String()
}

func (a *Accounts) finishConnect(ctx context.Context, platform string, query url.Values) string {
	c, err := a.connector(platform)
	if errors.Is(err, ErrUnknownPlatform) {
		return "unknown_platform"
	}
	if err != nil {
		return "not_configured"
	}
	state := query.Get("state")
	if state == "" {
		return "invalid_state"
	}
	hash := sha256.Sum256([]byte(state))
	// Taken (deleted) first, even when the platform reports an error, so
	// that a state is never used twice.
	st, err := a.store.TakeState(ctx, hash[:], a.now())
	if errors.Is(err, ErrStateInvalid) {
		return "invalid_state"
	}
	if err != nil {
		a.logger.Error("oauth state lookup failed", "err", err.Error())
		return "server_error"
	}
	if st.Platform != platform {
		return "invalid_state"
	}
	if e := query.Get("error"); e != "" {
		if e == "access_denied" {
			return "access_denied"
		}
		return "provider_error"
	}
	code := query.Get("code")
	if code == "" {
		return "invalid_request"
	}
	verifier, err := a.box.Open(st.KeyID, st.Verifier, ad(hex.EncodeToString(st.Hash), "verifier"))
	if err != nil {
		a.logger.Error("oauth verifier does not open", "err", err.Error())
		return "server_error"
	}
	tok, prof, err := c.Exchange(ctx, code, string(verifier))
	if errors.Is(err, ErrNoChannel) {
		return "no_channel"
	}
	if err != nil {
		a.logger.Warn("social code exchange failed", "platform", platform, "err", err.Error())
		return "exchange_failed"
	}
	acct := Account{UserID: st.UserID, Platform: platform, ExternalID: prof.ExternalID, Handle: prof.Handle,
		DisplayName: prof.DisplayName, AvatarURL: prof.AvatarURL, Scopes: tok.Scopes, Status: StatusActive}
	if _, err := a.store.SaveAccount(ctx, acct, func(id uuid.UUID) (Sealed, error) { return a.seal(id, tok) }); err != nil {
		a.logger.Error("social account not stored", "platform", platform, "err", err.Error())
		return "server_error"
	}
	return ""
}

// seal seals both tokens for the row id under the current key.
func (a *Accounts) seal(id uuid.UUID, t Tokens) (Sealed, error) {
	keyID, access, err := a.box.Seal([]byte(t.AccessToken), ad(id.String(), "access_token"))
	if err != nil {
		return Sealed{}, err
	}
	s := Sealed{KeyID: keyID, Access: access}
	if t.RefreshToken != "" {
		if _, s.Refresh, err = a.box.Seal([]byte(t.RefreshToken), ad(id.String(), "refresh_token")); err != nil {
			return Sealed{}, err
		}
	}
	if t.ExpiresIn > 0 {
		t.Expiry = a.now().Add(t.ExpiresIn)
	}
	if !t.Expiry.IsZero() {
		e := t.Expiry
		s.Expiry = &e
	}
	return s, nil
}

// open opens both tokens of a row.
func (a *Accounts) open(id uuid.UUID, s Sealed) (Tokens, error) {
	access, err := a.box.Open(s.KeyID, s.Access, ad(id.String(), "access_token"))
	if err != nil {
		return Tokens{}, fmt.Errorf("open access token: %w", err)
	}
	t := Tokens{AccessToken: string(access)}
	if s.Refresh != nil {
		refresh, err := a.box.Open(s.KeyID, s.Refresh, ad(id.String(), "refresh_token"))
		if err != nil {
			return Tokens{}, fmt.Errorf("open refresh token: %w", err)
		}
		t.RefreshToken = string(refresh)
	}
	if s.Expiry != nil {
		t.Expiry = *s.Expiry
	}
	return t, nil
}

// List returns the user's accounts.
func (a *Accounts) List(ctx context.Context, userID uuid.UUID) ([]Account, error) {
	return a.store.ListAccounts(ctx, userID)
}

// Get returns the user's account, or ErrNotFound.
func (a *Accounts) Get(ctx context.Context, userID, id uuid.UUID) (Account, error) {
	acct, _, err := a.store.Account(ctx, userID, id)
	return acct, err
}

// AccessToken returns a valid access token of the user's account,
// refreshing it first when it expires within RefreshMargin (the new
// tokens are sealed under the current key, which is how values sealed
// under DATA_ENCRYPTION_KEY_PREVIOUS move to the new key). When the
// platform refuses the refresh, the account is marked needs_reconnect and
// ErrNeedsReconnect is returned; it is also returned, without asking the
// platform, for an account already marked. It returns ErrNotFound for no
// account of this user.
func (a *Accounts) AccessToken(ctx context.Context, userID, accountID uuid.UUID) (string, error) {
	var access string
	err := a.store.UpdateAccount(ctx, userID, accountID, func(acct Account, s Sealed) (*Update, error) {
		if acct.Status == StatusNeedsReconnect {
			return nil, ErrNeedsReconnect
		}
		t, err := a.open(acct.ID, s)
		if err != nil {
			return nil, err
		}
		if t.Expiry.IsZero() || a.now().Add(RefreshMargin).Before(t.Expiry) {
			access = t.AccessToken
			return nil, nil
		}
		if t.RefreshToken == "" {
			return &Update{Status: StatusNeedsReconnect}, ErrNeedsReconnect
		}
		c, err := a.connector(acct.Platform)
		if err != nil {
			return nil, err
		}
		fresh, err := c.Refresh(ctx, t.RefreshToken)
		if errors.Is(err, ErrRefreshRefused) {
			a.logger.Warn("social token refresh refused; account needs reconnecting",
				"account_id", acct.ID.String(), "platform", acct.Platform, "err", err.Error())
			return &Update{Status: StatusNeedsReconnect}, ErrNeedsReconnect
		}
		if err != nil {
			return nil, fmt.Errorf("refresh token: %w", err)
		}
		sealed, err := a.seal(acct.ID, fresh)
		if err != nil {
			return nil, err
		}
		access = fresh.AccessToken
		return &Update{Sealed: &sealed}, nil
	})
	if err != nil {
		return "", err
	}
	return access, nil
}

// Disconnect revokes the account's grant at the platform when it can (a
// failure is logged, not returned: the user asked for the account to go,
// and a token we no longer hold is of no use to anyone), then deletes it.
// It returns ErrNotFound for no account of this user.
func (a *Accounts) Disconnect(ctx context.Context, userID, id uuid.UUID) error {
	acct, s, err := a.store.Account(ctx, userID, id)
	if err != nil {
		return err
	}
	if c, err := a.connector(acct.Platform); err == nil {
		if t, err := a.open(acct.ID, s); err != nil {
			a.logger.Warn("social token not revoked: does not open", "account_id", id.String(), "err", err.Error())
		} else {
			token := t.RefreshToken
			if token == "" {
				token = t.AccessToken
			}
			if err := c.Revoke(ctx, token); err != nil {
				a.logger.Warn("social token not revoked", "account_id", id.String(), "platform", acct.Platform, "err", err.Error())
			}
		}
	}
	return a.store.DeleteAccount(ctx, userID, id)
}
