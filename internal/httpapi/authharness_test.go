package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/videofn/videofn/internal/apitest"
	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/jobs"
	"github.com/videofn/videofn/internal/mail"
	"github.com/videofn/videofn/internal/mail/mailtest"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
	"github.com/videofn/videofn/internal/redisstore"
	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
	"github.com/videofn/videofn/internal/social/youtubetest"
	"github.com/videofn/videofn/internal/testenv"
	"github.com/videofn/videofn/internal/testenv/pgtest"
)

const (
	testSecret   = "test-secret-test-secret-test-secret!"
	testFrontend = "http://app.test"
)

// authHarness is the API with real PostgreSQL, Redis and SMTP, and a fake
// Google provider, wired as the handler wires it (with a short refresh
// grace window and bcrypt cost 4).
type authHarness struct {
	t      testing.TB
	srv    *httptest.Server
	db     *pgx.Conn
	mail   *mailtest.Sink
	google *fakeGoogle
	spec   *apitest.Validator
	tokens *auth.Tokens
	media  *mediaHarness // set when harnessOptions.media is (videos_test.go)
	outbox *mailWorker
	// youtube is the fake YouTube the social account routes use, when
	// harnessOptions.social is set (social_test.go).
	youtube *youtubetest.Server
}

type harnessOptions struct {
	grace      time.Duration
	now        func() time.Time // the auth service's clock; default time.Now
	bcryptCost int              // default 4
	redisURL   string           // default: the test Redis
	// media, when set, also serves the upload and video routes against a
	// fresh Azurite container (videos_test.go).
	media *mediaOptions
	// mailDelay makes the SMTP sink take that long per mail (a slow server).
	mailDelay time.Duration
	// smtpAddr, when set, is where the mail sender sends (default: the sink).
	smtpAddr *net.TCPAddr
	// mailRetry is the outbox's wait after a failed attempt (default 30 s
	// doubling).
	mailRetry    func(attempt int) time.Duration
	mailAttempts int // attempts per mail (default 10)
	// mailReject makes the sink refuse those recipients for good (550).
	mailReject func(rcpt string) bool
	// social, when set, also serves the social account routes against a
	// fake YouTube, logging to logs (social_test.go).
	social *socialOptions
}

type socialOptions struct {
	logs io.Writer
	now  func() time.Time
}

func newAuthHarness(t testing.TB, ho harnessOptions) *authHarness {
	t.Helper()
	ctx := context.Background()
	dbURL, db := pgtest.Migrated(t)
	redisURL, prefix := testenv.Redis(t)
	if ho.redisURL != "" {
		redisURL = ho.redisURL
	}
	rdb, err := redisstore.Open(redisURL, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	sinkOpts := []mailtest.Option{mailtest.WithDelay(ho.mailDelay)}
	if ho.mailReject != nil {
		sinkOpts = append(sinkOpts, mailtest.RejectRecipients(ho.mailReject))
	}
	sink := mailtest.NewSink(t, sinkOpts...)
	smtpHost, smtpPort := sink.Host(), sink.Port()
	if ho.smtpAddr != nil {
		smtpHost, smtpPort = ho.smtpAddr.IP.String(), ho.smtpAddr.Port
	}
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: smtpHost, Port: smtpPort, From: "noreply@app.test"})
	if err != nil {
		t.Fatal(err)
	}
	logw := io.Discard
	if ho.social != nil && ho.social.logs != nil {
		logw = ho.social.logs
	}
	logger := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tokens, err := auth.NewTokens([]byte(testSecret), 15*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	frontend, _ := url.Parse(testFrontend)
	if ho.grace == 0 {
		ho.grace = 2 * time.Second
	}
	if ho.bcryptCost == 0 {
		ho.bcryptCost = 4
	}
	// Mails go through the outbox and the local queue, as in `make dev`.
	mailQueue := queue.NewLocal(db.Pool(), logger)
	svc := auth.NewService(auth.Options{BcryptCost: ho.bcryptCost, FrontendURL: frontend, RefreshGrace: ho.grace,
		MailQueue: mailQueue, MailQueueName: "mail", MailRetry: ho.mailRetry, MailAttempts: ho.mailAttempts},
		postgres.AuthStore{DB: db}, ratelimit.New(rdb.Client, rdb.Prefix, logger), sender, redisstore.Handoff{Client: rdb}, tokens, logger, ho.now)
	svc.EnableSessionCache(redisstore.Sessions{Client: rdb})
	g := newFakeGoogle(t)
	svc.EnableGoogle(auth.GoogleOptions{
		ClientID: "client-id", ClientSecret: "client-secret", RedirectURL: "http://api.test/api/auth/oauth/callback",
		AuthURL: g.srv.URL + "/auth", TokenURL: g.srv.URL + "/token", UserinfoURL: g.srv.URL + "/userinfo",
	}, []byte(testSecret))

	outbox := &mailWorker{svc: svc, changed: make(chan struct{})}
	consumeCtx, stopConsuming := context.WithCancel(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		if err := mailQueue.Consume(consumeCtx, "mail", jobs.LocalMail(outbox), queue.ConsumerOptions{Poll: 100 * time.Millisecond}); err != nil {
			t.Errorf("mail queue: %v", err)
		}
	}()
	t.Cleanup(func() { stopConsuming(); <-consumed })

	var mh *mediaHarness
	if ho.media != nil {
		mo := *ho.media
		mo.limiter = ratelimit.New(rdb.Client, rdb.Prefix, logger)
		mh = newMediaHarness(t, db, mo)
	}
	var yt *youtubetest.Server
	var accounts *social.Accounts
	if ho.social != nil {
		yt = youtubetest.New(t)
		box, err := secretbox.FromKeys(bytes.Repeat([]byte("k"), 32))
		if err != nil {
			t.Fatal(err)
		}
		accounts = social.NewAccounts(social.Options{
			Store: postgres.SocialStore{DB: db}, Box: box, FrontendURL: frontend, Logger: logger, Now: ho.social.now,
			Connectors: map[string]social.Connector{social.YouTube: social.NewYouTube(social.YouTubeOptions{
				ClientID: yt.ClientID, ClientSecret: yt.ClientSecret, RedirectURL: "http://api.test/api/social-accounts/youtube/callback",
				AuthURL: yt.AuthURL(), TokenURL: yt.TokenURL(), RevokeURL: yt.RevokeURL(), APIURL: yt.APIURL(),
			})},
		})
	}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Options{
		Logger: logger, Auth: svc, FrontendURL: testFrontend, TrustedProxyHops: 1,
		ImportWorker: noJobs{}, VideoProcessor: noJobs{}, Sweeper: noJobs{},
		Media: mh.service(), Social: accounts,
	}))
	t.Cleanup(srv.Close)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &authHarness{t: t, srv: srv, db: conn, mail: sink, google: g, spec: apitest.New(t), tokens: tokens, media: mh, outbox: outbox, youtube: yt}
}

// mailWorker is the harness's mail sender: auth.Service.DeliverMail, with
// an event after each attempt so that tests wait for the outbox, not for
// time.
type mailWorker struct {
	svc     *auth.Service
	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each attempt
}

func (w *mailWorker) DeliverMail(ctx context.Context, id uuid.UUID) error {
	err := w.svc.DeliverMail(ctx, id)
	w.mu.Lock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	return err
}

// waitMailSettled waits until the outbox holds no pending mail (every mail
// recorded so far is sent, skipped or failed).
func (h *authHarness) waitMailSettled() {
	h.t.Helper()
	h.waitMailSender(func() bool {
		return h.count(`SELECT count(*) FROM mail_outbox WHERE state = 'pending'`) == 0
	}, func() string { return "mails still pending" })
}

// waitMailSender waits up to 30 s for done, re-checking it after each
// attempt of the mail sender; on timeout it fails with what().
func (h *authHarness) waitMailSender(done func() bool, what func() string) {
	h.t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		h.outbox.mu.Lock()
		changed := h.outbox.changed
		h.outbox.mu.Unlock()
		if done() {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			h.t.Fatalf("after 30 s: %s", what())
		}
	}
}

// browser is one user agent: its own cookie jar and client address.
type browser struct {
	h      *authHarness
	client *http.Client
	ip     string
}

func (h *authHarness) browser(ip string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, ip: ip, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) errorCode() string {
	var e struct{ Error struct{ Code string } }
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a request from the browser, adding the CSRF header from its
// cookie jar unless headers set one, and checks the exchange against the
// OpenAPI spec.
func (b *browser) do(method, path string, body any, headers map[string]string) response {
	b.h.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.h.srv.URL+path, rd)
	if err != nil {
		b.h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Forwarded-For", b.ip)
	req.Header.Set("User-Agent", "test-browser/1.0")
	if csrf := b.cookie("csrf_token"); csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, raw := b.h.spec.Do(b.h.t, b.client, req)
	return response{resp, raw}
}

func (b *browser) post(path string, body any) response { return b.do(http.MethodPost, path, body, nil) }

// cookie returns the value of a cookie the browser would send to /api/auth.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.h.srv.URL + "/api/auth/refresh")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

type session struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	User        struct {
		ID            string `json:"id"`
		Email         string `json:"email"`
		Name          string `json:"name"`
		EmailVerified bool   `json:"email_verified"`
	} `json:"user"`
}

// signUp registers, verifies through the emailed link and logs in.
func (h *authHarness) signUp(b *browser, email, password string) session {
	h.t.Helper()
	if r := b.post("/api/auth/register", map[string]string{"email": email, "password": password, "name": "Test User"}); r.StatusCode != 202 {
		h.t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	token := h.mailedToken(email, "/auth/verify")
	if r := b.post("/api/auth/verify-email", map[string]string{"token": token}); r.StatusCode != 200 {
		h.t.Fatalf("verify: %d %s", r.StatusCode, r.body)
	}
	return h.login(b, email, password)
}

func (h *authHarness) login(b *browser, email, password string) session {
	h.t.Helper()
	r := b.post("/api/auth/login", map[string]string{"email": email, "password": password})
	if r.StatusCode != 200 {
		h.t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	var s session
	r.json(h.t, &s)
	return s
}

// mailedToken waits for the newest mail to `to` and returns the token of
// its link to the frontend path.
func (h *authHarness) mailedToken(to, path string) string {
	h.t.Helper()
	h.waitMailSettled()
	// The newest mail to `to` that carries such a link: once the outbox has
	// settled every mail is in the sink, but not in the order they were
	// queued (a "password changed" notice may land after the reset mail
	// requested later), so the newest mail overall may be another kind.
	prefix := testFrontend + path + "?token="
	msg, found := mailtest.Received{}, false
	msgs := h.mail.Messages()
	for i := len(msgs) - 1; i >= 0 && !found; i-- {
		m := msgs[i]
		if slices.ContainsFunc(m.To, func(r string) bool { return strings.EqualFold(r, to) }) && strings.Contains(m.Text, prefix) {
			msg, found = m, true
		}
	}
	if !found {
		msg = h.mail.WaitFor(h.t, to, 5*time.Second)
	}
	link := mailtest.Link(h.t, msg, prefix)
	u, err := url.Parse(link)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.Query().Get("token")
}

func (h *authHarness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// fakeGoogle is a local OAuth 2.0 + OpenID userinfo provider that checks
// the client credentials and PKCE (S256) like Google does.
type fakeGoogle struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	codes  map[string]grant // code -> grant
	tokens map[string]googleUser
}

type grant struct {
	challenge string
	user      googleUser
}

type googleUser struct {
	Sub           string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
}

func newFakeGoogle(t testing.TB) *fakeGoogle {
	g := &fakeGoogle{t: t, codes: map[string]grant{}, tokens: map[string]googleUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		g.mu.Lock()
		gr, ok := g.codes[r.Form.Get("code")]
		delete(g.codes, r.Form.Get("code"))
		g.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		switch {
		case r.Form.Get("client_id") != "client-id" || r.Form.Get("client_secret") != "client-secret":
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case !ok, base64.RawURLEncoding.EncodeToString(sum[:]) != gr.challenge, r.Form.Get("grant_type") != "authorization_code":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		tok := "at-" + testenv.RandomSuffix(16)
		g.mu.Lock()
		g.tokens[tok] = gr.user
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		u, ok := g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		g.mu.Unlock()
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(u)
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// authorize plays the user consenting at Google: it checks the
// authorization request and returns the code Google would send back.
func (g *fakeGoogle) authorize(authURL string, u googleUser) (code, state string) {
	g.t.Helper()
	parsed, err := url.Parse(authURL)
	if err != nil {
		g.t.Fatal(err)
	}
	q := parsed.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("client_id") != "client-id" || q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "email") {
		g.t.Fatalf("authorization request lacks PKCE S256, state or client: %s", authURL)
	}
	code = "code-" + testenv.RandomSuffix(16)
	g.mu.Lock()
	g.codes[code] = grant{challenge: q.Get("code_challenge"), user: u}
	g.mu.Unlock()
	return code, q.Get("state")
}
