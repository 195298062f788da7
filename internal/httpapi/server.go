// Package httpapi is the handler's HTTP surface: the routes the Functions host
// forwards (/api/...), the non-HTTP trigger invocations (/<function name>),
// middleware, the one error-to-status table and the request decoding helper.
//
// Handlers return errors; one adapter writes them in the API's error shape
// and logs internal causes, which never reach the client.
package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/clips"
	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/posts"
	"github.com/videofn/videofn/internal/social"
)

// Options are the dependencies of a Server. Checks, ImportWorker,
// VideoProcessor and Sweeper are required; the rest have defaults.
type Options struct {
	Logger         *slog.Logger
	CookieSecure   bool     // also enables HSTS
	AllowedOrigins []string // exact origins allowed by CORS with credentials

	// Checks are the dependencies reported by GET /api/health, by name
	// ("postgres", "redis", "storage").
	Checks map[string]Pinger
	// Notices are reported by GET /api/health next to the checks, by name
	// ("sandbox"), without changing its status.
	Notices map[string]Notice

	ImportWorker   MessageHandler // messages of the imports queue
	VideoProcessor MessageHandler // messages of the processing queue
	// PublishWorker handles the messages of the publish queue; nil
	// answers them 503 (redelivered).
	PublishWorker MessageHandler
	Sweeper       Sweeper // the import-sweeper timer
	// MailSender delivers the messages of the mail queue; default Auth.
	MailSender MailHandler

	Now func() time.Time // default time.Now

	// Auth serves the account routes.
	Auth *auth.Service
	// FrontendURL is the frontend's origin; with AllowedOrigins it is the
	// set of origins allowed to send state-changing auth requests.
	FrontendURL string
	// TrustedProxyHops is how many proxies in front of the handler append
	// to X-Forwarded-For (the client address is that many entries from the
	// right); 0 uses the peer address.
	TrustedProxyHops int
	// SessionAbsolute is the lifetime of the refresh and CSRF cookies.
	SessionAbsolute time.Duration

	// Media serves the upload and video routes.
	Media *media.Service
	// Imports serves the URL import routes.
	Imports *importer.Service
	// PollReads reads an import poll's session and progress in one Redis
	// round trip (see getImport); required with Imports.
	PollReads PollReader
	// Clips serves the clip routes.
	Clips *clips.Service
	// Posts serves the scheduled post routes.
	Posts *posts.Service
	// Social serves the social account routes.
	Social *social.Accounts

	// Frontend, when set, serves GET and HEAD of every path outside /api/
	// (the static export, internal/webapp), / included; the other
	// middleware (security headers, request id, logging) applies to it too.
	// Without it those paths answer 404 not_found like unknown API routes.
	Frontend http.Handler
}

// Server serves the whole HTTP surface of the handler. Build it with NewServer.
type Server struct {
	logger  *slog.Logger
	checks  map[string]Pinger
	notices map[string]Notice
	now     func() time.Time

	importWorker   MessageHandler
	videoProcessor MessageHandler
	publishWorker  MessageHandler
	sweeper        Sweeper
	mailSender     MailHandler

	auth            *auth.Service
	cookies         cookieNames
	cookieSecure    bool
	trustedOrigins  []string
	trustedHops     int
	sessionAbsolute time.Duration

	media     *media.Service
	imports   *importer.Service
	pollReads PollReader
	clips     *clips.Service
	posts     *posts.Service
	social    *social.Accounts
	frontend  http.Handler

	handler http.Handler
}

// NewServer returns a Server with every route of routes.go registered and the
// middleware applied.
func NewServer(o Options) *Server {
	s := &Server{
		logger:         o.Logger,
		checks:         o.Checks,
		notices:        o.Notices,
		now:            o.Now,
		importWorker:   o.ImportWorker,
		videoProcessor: o.VideoProcessor,
		publishWorker:  o.PublishWorker,
		sweeper:        o.Sweeper,

		auth:            o.Auth,
		cookies:         newCookieNames(o.CookieSecure),
		cookieSecure:    o.CookieSecure,
		trustedOrigins:  append([]string{o.FrontendURL}, o.AllowedOrigins...),
		trustedHops:     o.TrustedProxyHops,
		sessionAbsolute: o.SessionAbsolute,

		media:     o.Media,
		imports:   o.Imports,
		pollReads: o.PollReads,
		clips:     o.Clips,
		posts:     o.Posts,
		social:    o.Social,
		frontend:  o.Frontend,
	}
	s.mailSender = o.MailSender
	if s.mailSender == nil && o.Auth != nil {
		s.mailSender = o.Auth
	}
	if s.sessionAbsolute == 0 {
		s.sessionAbsolute = 30 * 24 * time.Hour
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	notFound := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "No such route."}
	})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.servesFrontend(r) {
			s.frontend.ServeHTTP(w, r)
			return
		}
		notFound.ServeHTTP(w, r)
	}))
	var h http.Handler = mux
	h = withNoStore(h)
	h = withCORS(o.AllowedOrigins, h)
	h = withSecurityHeaders(o.CookieSecure, h)
	h = withLogging(s.logger, h)
	h = withRequestID(h)
	s.handler = h
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// servesFrontend reports whether r is for the frontend: GET or HEAD of a
// path outside /api when a Frontend is set.
func (s *Server) servesFrontend(r *http.Request) bool {
	return s.frontend != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.URL.Path != "/api" && !strings.HasPrefix(r.URL.Path, "/api/")
}

// ready answers the host's readiness probe (GET /) at once, without touching
// any dependency. With a frontend, / is its home page (served from disk, as
// quick).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.frontend != nil {
		s.frontend.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}
