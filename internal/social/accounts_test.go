package social_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/media/mediatest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/posts"
	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
	"github.com/videofn/videofn/internal/social/youtubetest"
	"github.com/videofn/videofn/internal/testenv"
)

// clock is a test clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	url   string
	db    *postgres.DB
	store postgres.SocialStore
	fake  *youtubetest.Server
	clock *clock
	logs  *testenv.Logs
	ann   uuid.UUID
	bob   uuid.UUID
	// secret, when set, is the client secret accounts gives YouTube
	// instead of the fake's.
	secret string
}

var (
	keyOld = bytes.Repeat([]byte("o"), 32)
	keyNew = bytes.Repeat([]byte("n"), 32)
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{url: testenv.Postgres(t), fake: youtubetest.New(t), clock: &clock{t: time.Now()}, logs: &testenv.Logs{}}
	if _, err := postgres.Migrate(t.Context(), f.url, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db, err := postgres.Open(t.Context(), f.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	f.db, f.store = db, postgres.SocialStore{DB: db}
	for _, u := range []struct {
		id    *uuid.UUID
		email string
	}{{&f.ann, "ann@example.com"}, {&f.bob, "bob@example.com"}} {
		if err := db.Pool().QueryRow(t.Context(), `INSERT INTO users (email) VALUES ($1) RETURNING id`, u.email).Scan(u.id); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// accounts returns the service with a box of current key and previous keys.
func (f *fixture) accounts(t *testing.T, current []byte, previous ...[]byte) *social.Accounts {
	t.Helper()
	box, err := secretbox.FromKeys(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	secret := f.fake.ClientSecret
	if f.secret != "" {
		secret = f.secret
	}
	yt := social.NewYouTube(social.YouTubeOptions{
		ClientID: f.fake.ClientID, ClientSecret: secret, RedirectURL: "http://app.test/api/social-accounts/youtube/callback",
		AuthURL: f.fake.AuthURL(), TokenURL: f.fake.TokenURL(), RevokeURL: f.fake.RevokeURL(), APIURL: f.fake.APIURL(),
	})
	front, _ := url.Parse("http://app.test")
	return social.NewAccounts(social.Options{
		Store: f.store, Box: box, Connectors: map[string]social.Connector{social.YouTube: yt}, FrontendURL: front,
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: f.clock.Now,
	})
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize follows the consent URL to the fake, which approves, and
// returns the query of the callback it redirects to.
func authorize(t *testing.T, authorizeURL string) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Path != "/api/social-accounts/youtube/callback" {
		t.Fatalf("authorize redirected to %s", loc)
	}
	return loc.Query()
}

func (f *fixture) connect(t *testing.T, a *social.Accounts, user uuid.UUID) social.Account {
	t.Helper()
	u, state, err := a.StartConnect(t.Context(), user, social.YouTube)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.FinishConnect(t.Context(), social.YouTube, authorize(t, u), state), "http://app.test/settings/connections?connected=youtube"; got != want {
		t.Fatalf("callback redirect: got %s, want %s", got, want)
	}
	list, err := a.List(t.Context(), user)
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %v, %v", list, err)
	}
	return list[0]
}

func TestConnectStoresTheChannel(t *testing.T) {
	f := newFixture(t)
	a := f.accounts(t, keyNew)
	acct := f.connect(t, a, f.ann)
	if acct.Platform != "youtube" || acct.ExternalID != "UCfakechannel000000000001" || acct.DisplayName != "Fake Channel" ||
		acct.Handle != "@fakechannel" || acct.AvatarURL != "https://yt3.example/avatar.jpg" || acct.Status != social.StatusActive {
		t.Errorf("account: %+v", acct)
	}
	if !strings.Contains(strings.Join(acct.Scopes, " "), "youtube.upload") {
		t.Errorf("scopes %v, want the upload scope", acct.Scopes)
	}
	tok, err := a.AccessToken(t.Context(), f.ann, acct.ID)
	if err != nil || !strings.HasPrefix(tok, "ya29.") {
		t.Fatalf("AccessToken: %q, %v", tok, err)
	}
	// Connecting the same channel again updates the row, not a second one.
	again := f.connect(t, a, f.ann)
	if again.ID != acct.ID {
		t.Errorf("reconnect made a new row %s, want %s", again.ID, acct.ID)
	}
	if f.fake.Exchanges() != 2 {
		t.Errorf("exchanges: %d", f.fake.Exchanges())
	}
}

func TestCallbackRefusesBadStates(t *testing.T) {
	f := newFixture(t)
	a := f.accounts(t, keyNew)
	const refused = "http://app.test/settings/connections?error=invalid_state"

	// start returns the callback's query and the browser's state.
	start := func() (url.Values, string) {
		u, state, err := a.StartConnect(t.Context(), f.ann, social.YouTube)
		if err != nil {
			t.Fatal(err)
		}
		return authorize(t, u), state
	}
	t.Run("wrong state", func(t *testing.T) {
		q, _ := start()
		forged := "forged-" + q.Get("state")
		q.Set("state", forged)
		if got := a.FinishConnect(t.Context(), social.YouTube, q, forged); got != refused {
			t.Errorf("got %s", got)
		}
	})
	t.Run("another browser", func(t *testing.T) {
		// The consent URL was opened by a browser that did not start the
		// flow (it lacks the state cookie): refused, and the state stays
		// usable by the browser that did.
		q, state := start()
		if got := a.FinishConnect(t.Context(), social.YouTube, q, ""); got != refused {
			t.Errorf("without the browser's state: %s", got)
		}
		if got := a.FinishConnect(t.Context(), social.YouTube, q, state); strings.Contains(got, "error") {
			t.Errorf("the starting browser: %s", got)
		}
	})
	t.Run("used twice", func(t *testing.T) {
		q, state := start()
		if got := a.FinishConnect(t.Context(), social.YouTube, q, state); strings.Contains(got, "error") {
			t.Fatalf("first use: %s", got)
		}
		if got := a.FinishConnect(t.Context(), social.YouTube, q, state); got != refused {
			t.Errorf("second use: %s", got)
		}
	})
	t.Run("expired", func(t *testing.T) {
		q, state := start()
		f.clock.Advance(social.StateTTL + time.Second)
		if got := a.FinishConnect(t.Context(), social.YouTube, q, state); got != refused {
			t.Errorf("got %s", got)
		}
	})
	t.Run("no state", func(t *testing.T) {
		if got := a.FinishConnect(t.Context(), social.YouTube, url.Values{"code": {"x"}}, ""); got != refused {
			t.Errorf("got %s", got)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		// A code obtained for one flow cannot be redeemed with another
		// flow's state (its verifier does not match the challenge): the
		// fake checks PKCE.
		q1, _ := start()
		q2, state2 := start()
		q2.Set("code", q1.Get("code"))
		if got := a.FinishConnect(t.Context(), social.YouTube, q2, state2); got != "http://app.test/settings/connections?error=exchange_failed" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		f.secret = "not-the-secret"
		defer func() { f.secret = "" }()
		bad := f.accounts(t, keyNew)
		u, state, err := bad.StartConnect(t.Context(), f.ann, social.YouTube)
		if err != nil {
			t.Fatal(err)
		}
		if got := bad.FinishConnect(t.Context(), social.YouTube, authorize(t, u), state); got != "http://app.test/settings/connections?error=exchange_failed" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("denied", func(t *testing.T) {
		q, state := start()
		q.Del("code")
		q.Set("error", "access_denied")
		if got := a.FinishConnect(t.Context(), social.YouTube, q, state); got != "http://app.test/settings/connections?error=access_denied" {
			t.Errorf("got %s", got)
		}
	})
}

func TestAccessTokenRefreshesBeforeExpiry(t *testing.T) {
	f := newFixture(t)
	a := f.accounts(t, keyNew)
	acct := f.connect(t, a, f.ann)
	first, err := a.AccessToken(t.Context(), f.ann, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour - social.RefreshMargin - time.Minute)
	if tok, err := a.AccessToken(t.Context(), f.ann, acct.ID); err != nil || tok != first || f.fake.Refreshes() != 0 {
		t.Fatalf("before the margin: %v, refreshes %d, same token %v", err, f.fake.Refreshes(), tok == first)
	}
	f.clock.Advance(2 * time.Minute) // now within the margin
	second, err := a.AccessToken(t.Context(), f.ann, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || f.fake.Refreshes() != 1 {
		t.Errorf("within the margin: refreshes %d, new token %v", f.fake.Refreshes(), second != first)
	}
	if again, _ := a.AccessToken(t.Context(), f.ann, acct.ID); again != second || f.fake.Refreshes() != 1 {
		t.Errorf("the refreshed token was not stored")
	}
}

func TestRefusedRefreshNeedsReconnect(t *testing.T) {
	f := newFixture(t)
	a := f.accounts(t, keyNew)
	acct := f.connect(t, a, f.ann)
	f.fake.RefuseRefresh(true)
	f.clock.Advance(time.Hour)
	if _, err := a.AccessToken(t.Context(), f.ann, acct.ID); !errors.Is(err, social.ErrNeedsReconnect) {
		t.Fatalf("AccessToken: got %v, want ErrNeedsReconnect", err)
	}
	got, err := a.Get(t.Context(), f.ann, acct.ID)
	if err != nil || got.Status != social.StatusNeedsReconnect {
		t.Fatalf("status %q, %v", got.Status, err)
	}
	// Connecting again makes it active.
	f.fake.RefuseRefresh(false)
	if again := f.connect(t, a, f.ann); again.Status != social.StatusActive {
		t.Errorf("after reconnecting: %s", again.Status)
	}
}

func TestDisconnectRevokes(t *testing.T) {
	f := newFixture(t)
	a := f.accounts(t, keyNew)
	acct := f.connect(t, a, f.ann)
	issued := f.fake.IssuedTokens()

	if err := a.Disconnect(t.Context(), f.bob, acct.ID); !errors.Is(err, social.ErrNotFound) {
		t.Errorf("another user's Disconnect: %v", err)
	}
	if _, err := a.AccessToken(t.Context(), f.bob, acct.ID); !errors.Is(err, social.ErrNotFound) {
		t.Errorf("another user's AccessToken: %v", err)
	}
	if len(f.fake.Revoked()) != 0 {
		t.Fatal("revoked for another user")
	}
	if err := a.Disconnect(t.Context(), f.ann, acct.ID); err != nil {
		t.Fatal(err)
	}
	revoked := f.fake.Revoked()
	if len(revoked) != 1 || !strings.HasPrefix(revoked[0], "1//refresh-") {
		t.Errorf("revoked %v, want the refresh token", revoked)
	}
	if left := f.fake.IssuedTokens(); len(left) != 0 {
		t.Errorf("tokens still valid at the platform: %d of %d", len(left), len(issued))
	}
	if list, _ := a.List(t.Context(), f.ann); len(list) != 0 {
		t.Errorf("still listed: %v", list)
	}
	if err := a.Disconnect(t.Context(), f.ann, acct.ID); !errors.Is(err, social.ErrNotFound) {
		t.Errorf("second Disconnect: %v", err)
	}
}

// A token sealed under the old key still opens once the key is rotated
// (DATA_ENCRYPTION_KEY_PREVIOUS), and the next refresh stores it under the
// new key.
func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	old := f.accounts(t, keyOld)
	acct := f.connect(t, old, f.ann)
	keyID := func() string {
		var id string
		if err := f.db.Pool().QueryRow(t.Context(), `SELECT token_key_id FROM social_accounts WHERE id = $1`, acct.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	if got, want := keyID(), secretbox.KeyID(keyOld); got != want {
		t.Fatalf("key id %s, want %s", got, want)
	}
	before, err := old.AccessToken(t.Context(), f.ann, acct.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Without the previous key the stored token cannot be opened.
	if _, err := f.accounts(t, keyNew).AccessToken(t.Context(), f.ann, acct.ID); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Errorf("new key alone: got %v, want ErrUnknownKey", err)
	}
	rotated := f.accounts(t, keyNew, keyOld)
	if tok, err := rotated.AccessToken(t.Context(), f.ann, acct.ID); err != nil || tok != before {
		t.Fatalf("after rotation: %v, same token %v", err, tok == before)
	}
	if got := keyID(); got != secretbox.KeyID(keyOld) {
		t.Errorf("re-sealed without a refresh: %s", got)
	}
	f.clock.Advance(time.Hour)
	after, err := rotated.AccessToken(t.Context(), f.ann, acct.ID)
	if err != nil || after == before {
		t.Fatalf("refresh after rotation: %v", err)
	}
	if got, want := keyID(), secretbox.KeyID(keyNew); got != want {
		t.Errorf("after the refresh: key id %s, want %s", got, want)
	}
	// The old key can now be dropped.
	if tok, err := f.accounts(t, keyNew).AccessToken(t.Context(), f.ann, acct.ID); err != nil || tok != after {
		t.Errorf("new key alone after re-sealing: %v", err)
	}
}

// publishHalfway publishes a post of a new video to acct with the publish
// worker (tokens from a, sessions sealed under keyNew, the fake's upload
// endpoint) and makes the worker die mid-upload, leaving the post
// publishing with its upload session stored. It returns the fake's
// endpoint and the post's id.
func (f *fixture) publishHalfway(t *testing.T, a *social.Accounts, acct social.Account) (*youtubetest.Uploads, uuid.UUID) {
	t.Helper()
	uploads := f.fake.MountUploads(t)
	store, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureContainer(t.Context()); err != nil {
		t.Fatal(err)
	}
	data := mediatest.MP4Like(4*posts.ChunkUnit + 100)
	var video, post uuid.UUID
	pool := f.db.Pool()
	if err := pool.QueryRow(t.Context(), `
		INSERT INTO videos (user_id, title, source, source_url, status, content_type, size_bytes, width, height)
		VALUES ($1, 'v', 'url', 'https://example.com/v', 'ready', 'video/mp4', $2, 1920, 1080) RETURNING id`,
		f.ann, len(data)).Scan(&video); err != nil {
		t.Fatal(err)
	}
	name := f.ann.String() + "/" + video.String() + "/source.mp4"
	if _, err := store.Container().NewBlockBlobClient(name).UploadBuffer(t.Context(), data, &blockblob.UploadBufferOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(t.Context(), `
		WITH f AS (INSERT INTO file_storage (user_id, video_id, kind, container, blob_name, content_type, size_bytes)
			VALUES ($1, $2, 'source', $3, $4, 'video/mp4', $5))
		INSERT INTO posts (user_id, video_id, social_account_id, title, scheduled_at)
		VALUES ($1, $2, $6, 'Trip', now()) RETURNING id`,
		f.ann, video, store.ContainerName(), name, len(data), acct.ID).Scan(&post); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.FromKeys(keyNew)
	if err != nil {
		t.Fatal(err)
	}
	worker := posts.NewWorker(posts.WorkerOptions{}, postgres.PostStore{DB: f.db}, a, posts.BlobRanges{Client: store.Container()},
		map[string]posts.Publisher{social.YouTube: &posts.YouTube{UploadURL: uploads.URL, ChunkSize: posts.ChunkUnit}}, box,
		slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx, crash := context.WithCancel(t.Context())
	defer crash()
	uploads.AfterPut(func(committed int64) {
		if committed >= 2*posts.ChunkUnit {
			crash()
		}
	})
	defer uploads.AfterPut(nil)
	if err := worker.Publish(ctx, post); err == nil {
		t.Fatal("the crashed attempt returned nil")
	}
	var status string
	var sealed bool
	if err := pool.QueryRow(t.Context(), `SELECT status, upload_url_ciphertext IS NOT NULL FROM posts WHERE id = $1`, post).
		Scan(&status, &sealed); err != nil || status != "publishing" || !sealed || len(uploads.SessionURLs()) != 1 {
		t.Fatalf("post %s with a stored session %v, %d sessions (%v); want publishing mid-upload", status, sealed, len(uploads.SessionURLs()), err)
	}
	return uploads, post
}

// No token the fake issued, and no upload session URL of a post
// publishing, appears in clear text in a dump of the database (as text,
// or as the hex pg_dump writes bytea in), nor in the logs.
func TestTokensNotInClearText(t *testing.T) {
	f := newFixture(t)
	a := f.accounts(t, keyNew)
	acct := f.connect(t, a, f.ann)
	f.clock.Advance(time.Hour)
	if _, err := a.AccessToken(t.Context(), f.ann, acct.ID); err != nil {
		t.Fatal(err)
	}
	uploads, post := f.publishHalfway(t, a, acct)
	// A half-done flow leaves a sealed verifier behind.
	if _, _, err := a.StartConnect(t.Context(), f.ann, social.YouTube); err != nil {
		t.Fatal(err)
	}
	f.fake.RefuseRefresh(true)
	f.clock.Advance(time.Hour)
	a.AccessToken(t.Context(), f.ann, acct.ID) // logs the refusal

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dump, err := exec.CommandContext(ctx, "pg_dump", "--data-only", "--dbname", f.url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("UCfakechannel000000000001")) || !bytes.Contains(dump, []byte(post.String())) {
		t.Fatal("the dump does not hold the account and the post at all")
	}
	tokens := f.fake.IssuedTokens()
	if len(tokens) < 3 {
		t.Fatalf("issued tokens: %d", len(tokens))
	}
	logs := f.logs.String()
	for _, tok := range tokens {
		if bytes.Contains(dump, []byte(tok)) || bytes.Contains(dump, []byte(hex.EncodeToString([]byte(tok)))) {
			t.Errorf("pg_dump holds a token in clear text")
		}
		if strings.Contains(logs, tok) {
			t.Errorf("the logs hold a token")
		}
	}
	for _, u := range uploads.SessionURLs() {
		// The upload_id alone is the capability.
		_, id, _ := strings.Cut(u, "upload_id=")
		if bytes.Contains(dump, []byte(id)) || bytes.Contains(dump, []byte(hex.EncodeToString([]byte(id)))) {
			t.Errorf("pg_dump holds the upload session URL of a post in clear text")
		}
		if strings.Contains(logs, id) {
			t.Errorf("the logs hold an upload session URL")
		}
	}
	if !strings.Contains(logs, "refresh refused") {
		t.Errorf("the refusal was not logged: %s", logs)
	}
}
