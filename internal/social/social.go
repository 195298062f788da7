// Package social connects users' social media accounts (issue 12): the
// OAuth 2.0 authorization code flow with PKCE that connects one, the
// encrypted storage of its tokens, their refresh before they expire, and
// disconnection with revocation at the platform.
//
// Each platform plugs in through a Connector. YouTube (Google OAuth with the
// YouTube upload scope) is the only one shipped; another platform must
// implement Connector (authorize URL, code exchange returning the account's
// profile, refresh, revoke) and, to publish, the posts package's Publisher.
//
// Tokens are sealed with secretbox under the current DATA_ENCRYPTION_KEY,
// with additional data "<row id>:<column>" so a ciphertext only opens in the
// row and column it was written to. They are never logged and never leave
// this package except through AccessToken.
package social

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Platform ids.
const (
	YouTube = "youtube"
)

// Account statuses.
const (
	StatusActive         = "active"
	StatusNeedsReconnect = "needs_reconnect"
)

// Errors.
var (
	// ErrNotFound: no such account, or another user's.
	ErrNotFound = errors.New("social account not found")
	// ErrUnknownPlatform: the platform id names no platform.
	ErrUnknownPlatform = errors.New("unknown platform")
	// ErrNotConfigured: the platform exists but has no client credentials.
	ErrNotConfigured = errors.New("platform not configured")
	// ErrNeedsReconnect is returned by AccessToken when the platform
	// refused to refresh the account's token (revoked, expired or
	// withdrawn consent): the account is marked needs_reconnect and the
	// user must connect it again.
	ErrNeedsReconnect = errors.New("the social account must be reconnected")
	// ErrStateInvalid is returned by a Store when an OAuth state is
	// unknown, used or expired.
	ErrStateInvalid = errors.New("oauth state invalid or expired")
	// ErrRefreshRefused is returned (wrapped) by Connector.Refresh when
	// the platform answered that the refresh token is no longer valid, as
	// opposed to a transient failure.
	ErrRefreshRefused = errors.New("the platform refused the refresh token")
)

// Connector is one platform's OAuth 2.0 client.
type Connector interface {
	// AuthCodeURL is where to send the browser: the platform's consent
	// page for the posting scopes with offline access, carrying state and
	// the S256 challenge of verifier.
	AuthCodeURL(state, verifier string) string
	// Exchange trades an authorization code (with its PKCE verifier) for
	// tokens and reads the account's profile.
	Exchange(ctx context.Context, code, verifier string) (Tokens, Profile, error)
	// Refresh returns fresh tokens for a refresh token; the returned
	// RefreshToken is the given one when the platform does not rotate it.
	// It wraps ErrRefreshRefused when the platform refuses the token.
	Refresh(ctx context.Context, refreshToken string) (Tokens, error)
	// Revoke revokes a token at the platform. A token the platform no
	// longer knows is not an error.
	Revoke(ctx context.Context, token string) error
}

// Tokens are an account's OAuth tokens.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time // zero when the platform gave none
	// ExpiresIn is the lifetime the platform gave (expires_in); when set,
	// Accounts computes Expiry from it with its own clock.
	ExpiresIn time.Duration
	Scopes    []string // granted scopes, when the platform says
}

// Profile is what a platform says about the connected account.
type Profile struct {
	ExternalID  string // the platform's id (YouTube: channel id)
	Handle      string // e.g. "@name"; ExternalID when there is none
	DisplayName string
	AvatarURL   string
}

// Account is a connected account, without its tokens.
type Account struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	Platform    string
	ExternalID  string
	Handle      string
	DisplayName string
	AvatarURL   string
	Scopes      []string
	Status      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Sealed are an account's tokens as stored: sealed under KeyID.
type Sealed struct {
	KeyID   string
	Access  []byte
	Refresh []byte // nil when the platform gave no refresh token
	Expiry  *time.Time
}

// OAuthState is an authorization in progress (social_oauth_states).
type OAuthState struct {
	Hash     []byte // SHA-256 of the state parameter
	UserID   uuid.UUID
	Platform string
	KeyID    string
	Verifier []byte // sealed PKCE verifier
	Expires  time.Time
}

// Update is what Store.UpdateAccount writes: new tokens, a new status, or
// both (nil/empty fields are left as they are).
type Update struct {
	Sealed *Sealed
	Status string
}

// Store keeps accounts and states. postgres.SocialStore implements it.
type Store interface {
	// PutState stores a new state (and may drop expired ones).
	PutState(ctx context.Context, st OAuthState) error
	// TakeState deletes and returns the state with this hash; it returns
	// ErrStateInvalid when there is none or it expired before now.
	TakeState(ctx context.Context, hash []byte, now time.Time) (OAuthState, error)
	// SaveAccount inserts the account, or updates the user's account with
	// the same platform and external id (profile, scopes, status active),
	// and stores the tokens that seal returns for the row's id.
	SaveAccount(ctx context.Context, a Account, seal func(id uuid.UUID) (Sealed, error)) (Account, error)
	// ListAccounts returns the user's accounts, oldest first.
	ListAccounts(ctx context.Context, userID uuid.UUID) ([]Account, error)
	// Account returns the user's account and its sealed tokens, or
	// ErrNotFound.
	Account(ctx context.Context, userID, id uuid.UUID) (Account, Sealed, error)
	// UpdateAccount locks the user's account (ErrNotFound if none), calls
	// fn with it, stores fn's Update when it is not nil (even when fn also
	// returns an error), and returns fn's error. Concurrent calls for one
	// account run one after the other.
	UpdateAccount(ctx context.Context, userID, id uuid.UUID, fn func(Account, Sealed) (*Update, error)) error
	// DeleteAccount deletes the user's account, or returns ErrNotFound.
	DeleteAccount(ctx context.Context, userID, id uuid.UUID) error
}
