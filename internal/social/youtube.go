package social

import (
	"context"
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

// YouTube scopes: upload videos, and read the channel (channels.list
// mine=true) for the profile.
var youTubeScopes = []string{
	"https://www.googleapis.com/auth/youtube.upload",
	"https://www.googleapis.com/auth/youtube.readonly",
}

// YouTubeOptions configure the YouTube connector. The endpoint URLs are
// settings so that tests run against youtubetest.
type YouTubeOptions struct {
	ClientID, ClientSecret, RedirectURL string
	AuthURL, TokenURL, RevokeURL        string
	// APIURL is the base of the Data API, e.g.
	// https://www.googleapis.com/youtube/v3 (channels.list is APIURL+"/channels").
	APIURL string
	// HTTPClient is used for every call; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
}

// YouTubeConnector is the Connector for YouTube (Google OAuth).
type YouTubeConnector struct {
	cfg       *oauth2.Config
	revokeURL string
	apiURL    string
	client    *http.Client
}

var _ Connector = (*YouTubeConnector)(nil)

// NewYouTube returns the YouTube connector.
func NewYouTube(o YouTubeOptions) *YouTubeConnector {
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &YouTubeConnector{
		cfg: &oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			RedirectURL:  o.RedirectURL,
			Scopes:       youTubeScopes,
			Endpoint:     oauth2.Endpoint{AuthURL: o.AuthURL, TokenURL: o.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		revokeURL: o.RevokeURL,
		apiURL:    strings.TrimRight(o.APIURL, "/"),
		client:    client,
	}
}

func (y *YouTubeConnector) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, y.client)
}

// AuthCodeURL implements Connector: offline access (a refresh token) and
// prompt=consent, so that reconnecting an account yields a new refresh
// token even when Google remembers the earlier consent.
func (y *YouTubeConnector) AuthCodeURL(state, verifier string) string {
	return y.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline,
		oauth2.SetAuthURLParam("prompt", "consent"), oauth2.SetAuthURLParam("include_granted_scopes", "true"))
}

// Exchange implements Connector.
func (y *YouTubeConnector) Exchange(ctx context.Context, code, verifier string) (Tokens, Profile, error) {
	tok, err := y.cfg.Exchange(y.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Tokens{}, Profile{}, fmt.Errorf("youtube exchange: %w", err)
	}
	if tok.RefreshToken == "" {
		return Tokens{}, Profile{}, errors.New("youtube exchange: no refresh token granted")
	}
	p, err := y.profile(ctx, tok.AccessToken)
	if err != nil {
		return Tokens{}, Profile{}, err
	}
	return tokens(tok, ""), p, nil
}

func tokens(tok *oauth2.Token, oldRefresh string) Tokens {
	t := Tokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry,
		ExpiresIn: time.Duration(tok.ExpiresIn) * time.Second}
	if t.RefreshToken == "" {
		t.RefreshToken = oldRefresh
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		t.Scopes = strings.Fields(s)
	}
	return t
}

// ErrNoChannel is returned by Exchange when the Google account has no
// YouTube channel to publish to.
var ErrNoChannel = errors.New("the Google account has no YouTube channel")

func (y *YouTubeConnector) profile(ctx context.Context, accessToken string) (Profile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, y.apiURL+"/channels?part=snippet&mine=true", nil)
	if err != nil {
		return Profile{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := y.client.Do(req)
	if err != nil {
		return Profile{}, fmt.Errorf("youtube channels: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Profile{}, fmt.Errorf("youtube channels: status %d", resp.StatusCode)
	}
	var body struct {
		Items []struct {
			ID      string `json:"id"`
			Snippet struct {
				Title      string `json:"title"`
				CustomURL  string `json:"customUrl"`
				Thumbnails map[string]struct {
					URL string `json:"url"`
				} `json:"thumbnails"`
			} `json:"snippet"`
		} `json:"items"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return Profile{}, fmt.Errorf("youtube channels: %w", err)
	}
	if len(body.Items) == 0 || body.Items[0].ID == "" {
		return Profile{}, ErrNoChannel
	}
	ch := body.Items[0]
	p := Profile{ExternalID: ch.ID, Handle: ch.Snippet.CustomURL, DisplayName: ch.Snippet.Title}
	if p.Handle == "" {
		p.Handle = ch.ID
	}
	for _, size := range []string{"default", "medium", "high"} {
		if th, ok := ch.Snippet.Thumbnails[size]; ok && th.URL != "" {
			p.AvatarURL = th.URL
			break
		}
	}
	return p, nil
}

// Refresh implements Connector.
func (y *YouTubeConnector) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	src := y.cfg.TokenSource(y.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "unauthorized_client" ||
			re.Response != nil && (re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized)) {
			return Tokens{}, fmt.Errorf("youtube refresh: %w (%s)", ErrRefreshRefused, re.ErrorCode)
		}
		return Tokens{}, fmt.Errorf("youtube refresh: %w", err)
	}
	return tokens(tok, refreshToken), nil
}

// Revoke implements Connector. Revoking either token revokes the grant.
func (y *YouTubeConnector) Revoke(ctx context.Context, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, y.revokeURL, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := y.client.Do(req)
	if err != nil {
		return fmt.Errorf("youtube revoke: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	// 400 invalid_token: already revoked or expired, which is what we want.
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadRequest {
		return nil
	}
	return fmt.Errorf("youtube revoke: status %d", resp.StatusCode)
}
