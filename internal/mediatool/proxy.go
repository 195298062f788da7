package mediatool

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// storageProxy is the only address a sandboxed ffmpeg or ffprobe can
// connect to: an HTTP proxy on a random loopback port, with random
// credentials, that forwards absolute-form http:// requests and tunnels
// CONNECT only when the destination is exactly the storage endpoint's
// host:port. Anything else is answered 403 without any connection being
// made. It counts the bytes it relays from storage to the tool.
//
// Unlike netguard (which lets yt-dlp reach the whole public internet but
// private addresses), the rule here is an allow list of one: the storage
// endpoint is configuration, not user input, so its host name is resolved
// by the ordinary dialer.
type storageProxy struct {
	allowed string // "host:port", lower case
	cred    []byte
	url     string
	ln      net.Listener
	srv     *http.Server
	fwd     *httputil.ReverseProxy
	tr      *http.Transport
	dialer  net.Dialer

	read    atomic.Int64 // bytes relayed from storage towards the tool
	refused atomic.Int64 // requests refused for their destination

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// hostPort returns u's "host:port" with the scheme's default port filled
// in, lower case; "" when u is not an http(s) URL with a host.
func hostPort(u *url.URL) string {
	if u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return ""
		}
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// startProxy listens on 127.0.0.1:0 and relays only to allowed
// ("host:port").
func startProxy(allowed string) (*storageProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("storage proxy: listen: %w", err)
	}
	user, pass := rand.Text(), rand.Text()
	p := &storageProxy{
		allowed: allowed,
		cred:    []byte(user + ":" + pass),
		url:     (&url.URL{Scheme: "http", User: url.UserPassword(user, pass), Host: ln.Addr().String()}).String(),
		ln:      ln,
		conns:   make(map[net.Conn]struct{}),
		dialer:  net.Dialer{Timeout: 10 * time.Second},
	}
	p.tr = &http.Transport{
		Proxy:               nil,
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return p.dial(ctx) },
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}
	p.fwd = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.Host = pr.In.URL.Host
			pr.Out.Header.Del("Proxy-Authorization")
		},
		Transport:     p.tr,
		FlushInterval: -1,
		ErrorLog:      nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Port is the loopback port the proxy listens on.
func (p *storageProxy) Port() uint16 { return uint16(p.ln.Addr().(*net.TCPAddr).Port) }

// URL is http://user:pass@127.0.0.1:port: a secret while the proxy runs.
func (p *storageProxy) URL() string { return p.url }

// BytesRead is how many bytes storage has sent through the proxy so far
// (response headers included).
func (p *storageProxy) BytesRead() int64 { return p.read.Load() }

// Refused is how many requests were refused for their destination.
func (p *storageProxy) Refused() int64 { return p.refused.Load() }

// Close stops the proxy and every tunnel; it returns when all are done.
func (p *storageProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.srv.Close()
	p.wg.Wait()
	p.tr.CloseIdleConnections()
}

func (p *storageProxy) serve(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="storage"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		if strings.ToLower(r.Host) != p.allowed {
			p.refused.Add(1)
			http.Error(w, "only the storage endpoint may be reached", http.StatusForbidden)
			return
		}
		p.tunnel(w, r)
		return
	}
	if r.URL.Scheme != "http" || hostPort(r.URL) != p.allowed {
		p.refused.Add(1)
		http.Error(w, "only the storage endpoint may be reached", http.StatusForbidden)
		return
	}
	p.fwd.ServeHTTP(w, r)
}

func (p *storageProxy) authorized(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(r.Header.Get("Proxy-Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	return err == nil && subtle.ConstantTimeCompare(got, p.cred) == 1
}

// dial connects to the storage endpoint, and nowhere else.
func (p *storageProxy) dial(ctx context.Context) (net.Conn, error) {
	c, err := p.dialer.DialContext(ctx, "tcp", p.allowed)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &p.read}, nil
}

func (p *storageProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	up, err := p.dial(r.Context())
	if err != nil {
		http.Error(w, "cannot reach the storage endpoint", http.StatusBadGateway)
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		client.Close()
		up.Close()
		return
	}
	p.conns[client], p.conns[up] = struct{}{}, struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, up)
		p.mu.Unlock()
		p.wg.Done()
	}()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		client.Close()
		up.Close()
		return
	}
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		if _, err := up.Write(early); err != nil {
			client.Close()
			up.Close()
			return
		}
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, client); closeWrite(up); done <- struct{}{} }()
	go func() { io.Copy(client, up); closeWrite(client); done <- struct{}{} }()
	<-done
	<-done
	client.Close()
	up.Close()
}

// closeWrite passes the end of one direction on as a half-close.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// countingConn adds every byte read to n.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	k, err := c.Conn.Read(b)
	c.n.Add(int64(k))
	return k, err
}

// CloseWrite half-closes the underlying TCP connection.
func (c *countingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
