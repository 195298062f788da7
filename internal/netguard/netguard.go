// Package netguard is the SSRF guard of URL import: an HTTP proxy for yt-dlp
// (`--proxy`) that lets it reach public unicast addresses only.
//
// yt-dlp follows redirects, manifests and page embeds to any address; with
// the proxy every connection it makes goes through one place. For each
// destination, plain http:// (absolute-form requests, forwarded) or any
// other scheme tunnelled with CONNECT, the proxy resolves the host itself,
// refuses the request with 403 Forbidden if any resolved address is not
// allowed (see Allowed), and otherwise connects to the very address it
// checked, so there is no DNS-rebinding window between check and connect and
// nothing is ever sent to a refused address. Redirects are returned to the
// client, never followed, so every hop comes back through the check.
//
// The proxy listens on 127.0.0.1 only and requires random credentials
// (Proxy-Authorization Basic, embedded in URL), so other local processes
// cannot use it as an open relay.
package netguard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a Proxy. The zero value is the production setting:
// public addresses only, default timeouts, the default resolver, no logs.
type Options struct {
	// AllowPrivate (IMPORT_ALLOW_PRIVATE_NETWORKS=true, tests only) also
	// allows loopback and private addresses; see Allowed.
	AllowPrivate bool
	// Allow lists exact destinations (address and port) allowed even when
	// AllowPrivate is false, such as a test's local media server. Nothing
	// else private is opened; IPv4-mapped entries are unmapped.
	Allow []netip.AddrPort
	// DialTimeout bounds resolving a destination plus connecting to it.
	// Zero means 10 s.
	DialTimeout time.Duration
	// IdleTimeout closes an upstream connection or a CONNECT tunnel on
	// which no byte has moved in either direction for this long, and an
	// idle keep-alive connection from the client. Zero means 2 minutes.
	IdleTimeout time.Duration
	// Resolver resolves destination host names. Nil means
	// net.DefaultResolver.
	Resolver *net.Resolver
	// Logger receives refusals (warn) and connection details (debug). Nil
	// discards.
	Logger *slog.Logger
}

const (
	defaultDialTimeout = 10 * time.Second
	defaultIdleTimeout = 2 * time.Minute
	readHeaderTimeout  = 10 * time.Second
	maxHeaderBytes     = 64 << 10
	// maxDenied caps what Denied remembers, so a long-lived shared proxy
	// does not grow without bound; the first refusals are the telling ones.
	maxDenied = 100
)

// Proxy is one listening proxy: start one per import or share one. It is
// safe for concurrent use.
type Proxy struct {
	opts  Options
	log   *slog.Logger
	self  netip.AddrPort // the listener; never dialled, even with AllowPrivate
	allow []netip.AddrPort
	cred  []byte // "user:pass" expected in Proxy-Authorization
	url   string
	hooks hooks

	dialer    *net.Dialer
	transport *http.Transport
	forwarder *httputil.ReverseProxy
	srv       *http.Server
	ctx       context.Context // parent of every request; cancelled by Close
	cancel    context.CancelFunc
	served    chan struct{} // closed when Serve has returned

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{} // both ends of every open tunnel
	denied   []Refusal
	requests int            // authenticated requests so far
	handler  sync.WaitGroup // requests and tunnels in flight
}

// Start listens on 127.0.0.1 at a random port with fresh random
// credentials and serves until Close. It fails only if it cannot listen.
func Start(opts Options) (*Proxy, error) {
	return start(opts, hooks{})
}

// hooks let tests observe connection attempts and fake name resolution.
type hooks struct {
	onDial func(netip.AddrPort)                                         // called just before each connect
	lookup func(ctx context.Context, host string) ([]netip.Addr, error) // replaces the resolver
}

// start is Start with test hooks.
func start(opts Options, h hooks) (*Proxy, error) {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	user, pass := rand.Text(), rand.Text() // 128 bits each; rand.Text cannot fail

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("netguard: listen: %w", err)
	}
	self := ln.Addr().(*net.TCPAddr).AddrPort()

	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		opts:   opts,
		log:    logger,
		self:   self,
		cred:   []byte(user + ":" + pass),
		url:    (&url.URL{Scheme: "http", User: url.UserPassword(user, pass), Host: self.String()}).String(),
		hooks:  h,
		ctx:    ctx,
		cancel: cancel,
		served: make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
	}
	for _, ap := range opts.Allow {
		p.allow = append(p.allow, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
	// Control re-checks the socket address right before connect(2): a
	// second line of defence should a refused address ever reach the dialer.
	p.dialer = &net.Dialer{ControlContext: p.controlDial}
	p.transport = &http.Transport{
		Proxy:                 nil, // never chain to HTTP_PROXY: the checked dial must be the real one
		DialContext:           func(ctx context.Context, _, addr string) (net.Conn, error) { return p.dial(ctx, addr) },
		DisableCompression:    true, // pass Accept-Encoding and bodies through untouched
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       opts.IdleTimeout,
		ResponseHeaderTimeout: opts.IdleTimeout,
		ExpectContinueTimeout: time.Second,
	}
	debugLog := slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
	p.forwarder = &httputil.ReverseProxy{
		// ReverseProxy has already cloned the absolute-form request and
		// removed hop-by-hop headers (Proxy-Authorization included) and
		// client-sent X-Forwarded-*; the outgoing Host is the target's.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Host = pr.In.URL.Host
			pr.Out.Header.Del("Proxy-Authorization")
		},
		Transport:     p.transport,
		FlushInterval: -1, // stream: no added latency, nothing held back
		ErrorLog:      debugLog,
		ErrorHandler:  p.forwardError,
	}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.serve),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          debugLog,
	}
	go func() {
		defer close(p.served)
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("netguard: serve", "err", err)
		}
	}()
	return p, nil
}

// Port is the TCP port the proxy listens on (on 127.0.0.1).
func (p *Proxy) Port() uint16 { return p.self.Port() }

// URL is the proxy address with its credentials,
// http://user:pass@127.0.0.1:port, for yt-dlp's --proxy. It is a secret for
// as long as the proxy runs: do not log it.
func (p *Proxy) URL() string { return p.url }

// Close stops accepting, ends every request and tunnel in flight, and
// returns once they have all finished. Calling it again does nothing.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()

	err := p.srv.Close() // the listener and every connection not hijacked
	p.cancel()           // every request's context, and with it its upstream
	for _, c := range conns {
		c.Close()
	}
	p.handler.Wait()
	<-p.served
	p.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("netguard: close: %w", err)
	}
	return nil
}

// Refusal is a destination the proxy refused.
type Refusal struct {
	Dest   string // "host:port" as the client asked for it
	Reason string // such as "10.0.0.1 is private"
	// First is true when the refused destination is the one of the
	// client's first request: the address it started from, not one a
	// redirect, manifest or embed led it to.
	First bool
}

// String is "host:port (reason)".
func (r Refusal) String() string { return r.Dest + " (" + r.Reason + ")" }

// Denied returns the destinations refused so far, oldest first, for error
// messages and tests. It keeps the first 100.
func (p *Proxy) Denied() []Refusal {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Refusal(nil), p.denied...)
}

// firstRequest marks the context of the proxy's first authenticated
// request.
type firstRequest struct{}

// serve is the proxy's only handler: authenticate, then tunnel or forward.
func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if !p.enter() {
		http.Error(w, "netguard: proxy closed", http.StatusServiceUnavailable)
		return
	}
	defer p.handler.Done()

	// Authenticate before anything else, so that an unauthenticated client
	// cannot even make the proxy resolve a name.
	if !p.authorized(r) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="netguard"`)
		http.Error(w, "netguard: proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	p.mu.Lock()
	p.requests++
	first := p.requests == 1
	p.mu.Unlock()
	if first {
		r = r.WithContext(context.WithValue(r.Context(), firstRequest{}, true))
	}
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	p.forward(w, r)
}

// enter registers a handler in flight, unless the proxy is closed.
func (p *Proxy) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.handler.Add(1)
	return true
}

func (p *Proxy) authorized(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(r.Header.Get("Proxy-Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, p.cred) == 1
}

// forward proxies one absolute-form http:// request, streaming both bodies.
// The upstream connection comes from p.dial through the shared transport,
// so a reused keep-alive connection is one that was checked when dialled.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "netguard: only absolute-form http:// requests and CONNECT are proxied", http.StatusBadRequest)
		return
	}
	if r.Header.Get("Upgrade") != "" {
		http.Error(w, "netguard: protocol upgrades are not proxied", http.StatusNotImplemented)
		return
	}
	p.forwarder.ServeHTTP(w, r)
}

// forwardError answers a forward request whose round trip failed.
func (p *Proxy) forwardError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client left or the proxy is closing: nobody reads an answer.
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	p.dialError(w, r.URL.Host, err)
}

// dialError writes the response for a destination that could not be
// reached: 403 for a refusal, 504 for a timeout, 502 otherwise.
func (p *Proxy) dialError(w http.ResponseWriter, dest string, err error) {
	var denied *deniedError
	var netErr net.Error
	switch {
	case errors.As(err, &denied):
		http.Error(w, "netguard: "+denied.Error(), http.StatusForbidden)
	case errors.As(err, &netErr) && netErr.Timeout():
		p.log.Info("netguard: upstream timeout", "dest", dest, "err", err)
		http.Error(w, "netguard: timeout reaching "+dest, http.StatusGatewayTimeout)
	default:
		p.log.Info("netguard: upstream unreachable", "dest", dest, "err", err)
		http.Error(w, "netguard: cannot reach "+dest, http.StatusBadGateway)
	}
}

// deny records and logs a refusal and returns the error that carries it.
// ctx is the request's: it tells whether this was the first request.
func (p *Proxy) deny(ctx context.Context, dest, reason string) error {
	first, _ := ctx.Value(firstRequest{}).(bool)
	p.log.Warn("netguard: refused", "dest", dest, "reason", reason, "first_request", first)
	p.mu.Lock()
	if len(p.denied) < maxDenied {
		p.denied = append(p.denied, Refusal{Dest: dest, Reason: reason, First: first})
	}
	p.mu.Unlock()
	return &deniedError{dest: dest, reason: reason}
}

// deniedError is a refused destination; it becomes a 403.
type deniedError struct{ dest, reason string }

func (e *deniedError) Error() string { return "refused " + e.dest + ": " + e.reason }
