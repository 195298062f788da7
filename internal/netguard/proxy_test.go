package netguard

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every test here talks only to addresses on this machine. Destinations
// outside it (10.0.0.1, 169.254.169.254, ...) are only ever asked for, and
// the dial counter proves the proxy refused them without connecting.

// testProxy is a started proxy with a count of its connection attempts.
type testProxy struct {
	*Proxy
	dials atomic.Int64
}

func startProxy(t *testing.T, opts Options) *testProxy {
	t.Helper()
	return startProxyHooks(t, opts, nil)
}

func startProxyHooks(t *testing.T, opts Options, lookup func(context.Context, string) ([]netip.Addr, error)) *testProxy {
	t.Helper()
	tp := &testProxy{}
	p, err := start(opts, hooks{onDial: func(netip.AddrPort) { tp.dials.Add(1) }, lookup: lookup})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	tp.Proxy = p
	t.Cleanup(func() { p.Close() })
	return tp
}

// countingServer is a local upstream that counts the requests it receives.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, tls bool, h http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	})
	if tls {
		s.Server = httptest.NewTLSServer(wrapped)
	} else {
		s.Server = httptest.NewServer(wrapped)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) addrPort(t *testing.T) netip.AddrPort {
	t.Helper()
	return netip.MustParseAddrPort(s.Listener.Addr().String())
}

// proxyClient is an http.Client that sends everything through p. It never
// follows redirects unless follow is set.
func proxyClient(t *testing.T, p *testProxy, follow bool) *http.Client {
	t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatalf("parse proxy URL: %v", err)
	}
	tr := &http.Transport{
		Proxy:           http.ProxyURL(u),
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // httptest's self-signed certificate
	}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// authHeader is the Proxy-Authorization line that p accepts.
func authHeader(t *testing.T, p *testProxy) string {
	t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatalf("parse proxy URL: %v", err)
	}
	pass, _ := u.User.Password()
	return basicLine(u.User.Username(), pass)
}

func basicLine(user, pass string) string {
	return "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\n"
}

// raw sends a hand-written request head to p and reads the response head;
// the body of a non-2xx response is read into body. conn and br carry on
// with the tunnel after a 200 to CONNECT.
type rawResult struct {
	resp *http.Response
	body string
	conn net.Conn
	br   *bufio.Reader
}

func raw(t *testing.T, p *testProxy, method, target, headers string) rawResult {
	t.Helper()
	conn, err := net.Dial("tcp", p.self.String())
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	host := target
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		host = u.Host
	}
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, target, host, headers); err != nil {
		t.Fatalf("write request: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	res := rawResult{resp: resp, conn: conn, br: br}
	if resp.StatusCode != http.StatusOK || method != http.MethodConnect {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("read body: %v", err)
		}
		res.body = string(b)
	}
	return res
}

func assertDenied(t *testing.T, p *testProxy, dest string) {
	t.Helper()
	for _, d := range p.Denied() {
		if d.Dest == dest {
			return
		}
	}
	t.Errorf("Denied() = %q, want an entry for %s", p.Denied(), dest)
}

func TestForward(t *testing.T) {
	var gotHeader http.Header
	var mu sync.Mutex
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotHeader = r.Header.Clone()
		gotHeader.Set("Host", r.Host)
		mu.Unlock()
		w.Header().Set("X-Upstream", "yes")
		io.WriteString(w, "hello "+r.URL.Path)
	})
	addr := srv.addrPort(t)
	otherPort := netip.AddrPortFrom(addr.Addr(), addr.Port()+1)

	tests := []struct {
		name       string
		opts       Options
		wantStatus int
	}{
		{"allowed by Allow", Options{Allow: []netip.AddrPort{addr}}, http.StatusOK},
		{"allowed by mapped Allow entry", Options{Allow: []netip.AddrPort{netip.MustParseAddrPort("[::ffff:" + addr.Addr().String() + "]:" + fmt.Sprint(addr.Port()))}}, http.StatusOK},
		{"allowed by AllowPrivate", Options{AllowPrivate: true}, http.StatusOK},
		{"refused by default", Options{}, http.StatusForbidden},
		{"refused when Allow names another port", Options{Allow: []netip.AddrPort{otherPort}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.opts)
			hitsBefore := srv.hits.Load()
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/file.mp4", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Test", "kept")
			req.Header.Set("Proxy-Connection", "keep-alive")
			resp, err := proxyClient(t, p, false).Do(req)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status = %d, want %d (body %q)", got, want, body)
			}
			hits := srv.hits.Load() - hitsBefore
			if tt.wantStatus != http.StatusOK {
				if hits != 0 || p.dials.Load() != 0 {
					t.Errorf("hits = %d, dials = %d, want 0 and 0", hits, p.dials.Load())
				}
				if !strings.Contains(string(body), addr.String()) {
					t.Errorf("body %q does not name %s", body, addr)
				}
				assertDenied(t, p, addr.String())
				return
			}
			if got, want := string(body), "hello /file.mp4"; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			if resp.Header.Get("X-Upstream") != "yes" {
				t.Errorf("response header X-Upstream lost: %v", resp.Header)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, h := range []string{"Proxy-Authorization", "Proxy-Connection"} {
				if v := gotHeader.Get(h); v != "" {
					t.Errorf("upstream received %s: %q", h, v)
				}
			}
			if gotHeader.Get("X-Test") != "kept" || gotHeader.Get("Host") != addr.String() {
				t.Errorf("upstream headers = %v, want X-Test kept and Host %s", gotHeader, addr)
			}
			if len(p.Denied()) != 0 {
				t.Errorf("Denied() = %q, want none", p.Denied())
			}
		})
	}
}

func TestForwardReturnsRedirectsAndChecksTheNextHop(t *testing.T) {
	second := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "second")
	})
	first := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+"/file.mp4", http.StatusFound)
	})
	p := startProxy(t, Options{Allow: []netip.AddrPort{first.addrPort(t)}})

	resp, err := proxyClient(t, p, false).Get(first.URL + "/file.mp4")
	if err != nil {
		t.Fatalf("GET without following: %v", err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusFound; got != want {
		t.Fatalf("status = %d, want %d: the proxy must return redirects, not follow them", got, want)
	}
	if got, want := resp.Header.Get("Location"), second.URL+"/file.mp4"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	resp, err = proxyClient(t, p, true).Get(first.URL + "/file.mp4")
	if err != nil {
		t.Fatalf("GET following: %v", err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("status after following = %d, want %d", got, want)
	}
	if got := second.hits.Load(); got != 0 {
		t.Errorf("second server hits = %d, want 0", got)
	}
	if got, want := first.hits.Load(), int64(2); got != want {
		t.Errorf("first server hits = %d, want %d", got, want)
	}
	assertDenied(t, p, second.addrPort(t).String())
	if d := p.Denied(); len(d) != 1 || d[0].First {
		t.Errorf("Denied() = %+v, want one refusal not marked First: it was a redirect hop", d)
	}
}

// TestDeniedTellsTheFirstRequestFromALaterHop: the worker tells the user
// "the address is refused" or "the source redirects to a refused address"
// from Refusal.First.
func TestDeniedTellsTheFirstRequestFromALaterHop(t *testing.T) {
	for _, tlsServer := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsServer), func(t *testing.T) {
			srv := newServer(t, tlsServer, func(w http.ResponseWriter, r *http.Request) {})
			p := startProxy(t, Options{})
			resp, err := proxyClient(t, p, false).Get(srv.URL + "/file.mp4")
			if err == nil {
				resp.Body.Close()
			}
			if d := p.Denied(); len(d) != 1 || !d[0].First {
				t.Fatalf("Denied() = %+v, want one refusal marked First", d)
			}
			// A second request refused on the same proxy is not the first.
			resp, err = proxyClient(t, p, false).Get(srv.URL + "/other.mp4")
			if err == nil {
				resp.Body.Close()
			}
			if d := p.Denied(); len(d) != 2 || d[1].First {
				t.Errorf("Denied() = %+v, want the second refusal not marked First", d)
			}
		})
	}
}

func TestForwardRejectsWhatIsNotAProxyRequest(t *testing.T) {
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {})
	p := startProxy(t, Options{AllowPrivate: true})
	auth := authHeader(t, p)

	tests := []struct {
		name       string
		method     string
		target     string
		headers    string
		wantStatus int
	}{
		{"origin form", "GET", "/file.mp4", auth, http.StatusBadRequest},
		{"absolute https", "GET", "https://" + srv.Listener.Addr().String() + "/", auth, http.StatusBadRequest},
		{"absolute ftp", "GET", "ftp://" + srv.Listener.Addr().String() + "/", auth, http.StatusBadRequest},
		{"upgrade", "GET", srv.URL + "/", auth + "Connection: Upgrade\r\nUpgrade: websocket\r\n", http.StatusNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := raw(t, p, tt.method, tt.target, tt.headers)
			if got, want := res.resp.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d (%q)", got, want, res.body)
			}
		})
	}
	if srv.hits.Load() != 0 || p.dials.Load() != 0 {
		t.Errorf("hits = %d, dials = %d, want 0 and 0", srv.hits.Load(), p.dials.Load())
	}
}

func TestAuthentication(t *testing.T) {
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {})
	p := startProxy(t, Options{AllowPrivate: true})
	u, _ := url.Parse(p.URL())
	user := u.User.Username()
	pass, _ := u.User.Password()
	target := srv.Listener.Addr().String()

	tests := []struct {
		name       string
		method     string
		headers    string
		wantStatus int
	}{
		{"forward without credentials", "GET", "", http.StatusProxyAuthRequired},
		{"forward with a wrong password", "GET", basicLine(user, pass+"x"), http.StatusProxyAuthRequired},
		{"forward with a wrong user", "GET", basicLine("x"+user, pass), http.StatusProxyAuthRequired},
		{"forward with credentials in Authorization", "GET", strings.Replace(basicLine(user, pass), "Proxy-Authorization", "Authorization", 1), http.StatusProxyAuthRequired},
		{"forward with a Bearer scheme", "GET", "Proxy-Authorization: Bearer " + pass + "\r\n", http.StatusProxyAuthRequired},
		{"forward with bad base64", "GET", "Proxy-Authorization: Basic !!!\r\n", http.StatusProxyAuthRequired},
		{"CONNECT without credentials", "CONNECT", "", http.StatusProxyAuthRequired},
		{"CONNECT with a wrong password", "CONNECT", basicLine(user, "nope"), http.StatusProxyAuthRequired},
		{"forward with credentials", "GET", basicLine(user, pass), http.StatusOK},
		{"forward with a lower-case scheme", "GET", strings.Replace(basicLine(user, pass), "Basic", "basic", 1), http.StatusOK},
		{"CONNECT with credentials", "CONNECT", basicLine(user, pass), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, dials := srv.hits.Load(), p.dials.Load()
			tgt := target
			if tt.method == "GET" {
				tgt = "http://" + target + "/"
			}
			res := raw(t, p, tt.method, tgt, tt.headers)
			if got, want := res.resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status = %d, want %d (%q)", got, want, res.body)
			}
			if tt.wantStatus != http.StatusProxyAuthRequired {
				return
			}
			if got := res.resp.Header.Get("Proxy-Authenticate"); !strings.HasPrefix(got, "Basic ") {
				t.Errorf("Proxy-Authenticate = %q, want a Basic challenge", got)
			}
			if srv.hits.Load() != hits || p.dials.Load() != dials {
				t.Errorf("an unauthenticated request reached the upstream or the dialer")
			}
		})
	}
}

func TestConnectRefusesWithoutDialling(t *testing.T) {
	srv := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {})
	addr := srv.addrPort(t)
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "mixed.test": // one public and one private answer: DNS-based bypass attempt
			return []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("10.0.0.1")}, nil
		case "metadata.test":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		case "mapped.test":
			return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}, nil
		}
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}

	tests := []struct {
		name   string
		opts   Options
		target string
	}{
		{"loopback without Allow", Options{}, addr.String()},
		{"loopback with another port allowed", Options{Allow: []netip.AddrPort{netip.AddrPortFrom(addr.Addr(), addr.Port()+1)}}, addr.String()},
		{"localhost resolves to loopback", Options{}, fmt.Sprintf("localhost:%d", addr.Port())},
		{"IPv6 loopback", Options{}, fmt.Sprintf("[::1]:%d", addr.Port())},
		{"IPv4-mapped loopback literal", Options{}, fmt.Sprintf("[::ffff:127.0.0.1]:%d", addr.Port())},
		{"name resolving to mapped loopback", Options{}, fmt.Sprintf("mapped.test:%d", addr.Port())},
		{"private 10.0.0.1:443", Options{}, "10.0.0.1:443"},
		{"private 192.168.1.1:443", Options{}, "192.168.1.1:443"},
		{"cloud metadata", Options{}, "169.254.169.254:80"},
		{"cloud metadata with AllowPrivate", Options{AllowPrivate: true}, "169.254.169.254:80"},
		{"name resolving to metadata", Options{AllowPrivate: true}, "metadata.test:80"},
		{"name with one private answer", Options{}, "mixed.test:443"},
		{"unspecified", Options{AllowPrivate: true}, fmt.Sprintf("0.0.0.0:%d", addr.Port())},
		{"NAT64 of loopback", Options{AllowPrivate: true}, "[64:ff9b::7f00:1]:443"},
		{"link-local v6 with zone", Options{AllowPrivate: true}, "[fe80::1%25lo]:443"},
		{"port 0", Options{AllowPrivate: true}, "127.0.0.1:0"},
		{"no port", Options{AllowPrivate: true}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxyHooks(t, tt.opts, lookup)
			res := raw(t, p, http.MethodConnect, tt.target, authHeader(t, p))
			if got, want := res.resp.StatusCode, http.StatusForbidden; got != want {
				t.Fatalf("status = %d, want %d (%q)", got, want, res.body)
			}
			if got := p.dials.Load(); got != 0 {
				t.Errorf("dials = %d, want 0", got)
			}
			if len(p.Denied()) != 1 {
				t.Errorf("Denied() = %q, want one entry", p.Denied())
			}
			if !strings.Contains(res.body, "refused") {
				t.Errorf("body = %q, want it to say refused", res.body)
			}
		})
	}
	if got := srv.hits.Load(); got != 0 {
		t.Errorf("server hits = %d, want 0", got)
	}
}

func TestConnectRefusesTheProxyItself(t *testing.T) {
	p := startProxy(t, Options{AllowPrivate: true})
	res := raw(t, p, http.MethodConnect, p.self.String(), authHeader(t, p))
	if got, want := res.resp.StatusCode, http.StatusForbidden; got != want {
		t.Fatalf("status = %d, want %d (%q)", got, want, res.body)
	}
	if p.dials.Load() != 0 {
		t.Errorf("dials = %d, want 0", p.dials.Load())
	}
}

func TestConnectTunnelsTLS(t *testing.T) {
	srv := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure "+r.URL.Path)
	})
	tests := []struct {
		name string
		opts Options
	}{
		{"allowed by Allow", Options{Allow: []netip.AddrPort{srv.addrPort(t)}}},
		{"allowed by AllowPrivate", Options{AllowPrivate: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.opts)
			resp, err := proxyClient(t, p, false).Get(srv.URL + "/x")
			if err != nil {
				t.Fatalf("GET through tunnel: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got, want := string(body), "secure /x"; resp.StatusCode != http.StatusOK || got != want {
				t.Errorf("status %d body %q, want 200 %q", resp.StatusCode, got, want)
			}
			if got := p.dials.Load(); got != 1 {
				t.Errorf("dials = %d, want 1", got)
			}
		})
	}
}

func TestHostnameResolvingToLoopback(t *testing.T) {
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "local") })
	target := fmt.Sprintf("http://localhost:%d/file.mp4", srv.addrPort(t).Port())

	tests := []struct {
		name       string
		opts       Options
		wantStatus int
	}{
		{"refused by default", Options{}, http.StatusForbidden},
		{"allowed with AllowPrivate", Options{AllowPrivate: true}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.opts)
			hits := srv.hits.Load()
			resp, err := proxyClient(t, p, false).Get(target)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			resp.Body.Close()
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			if tt.wantStatus == http.StatusForbidden {
				if srv.hits.Load() != hits || p.dials.Load() != 0 {
					t.Errorf("hits +%d, dials %d; want none", srv.hits.Load()-hits, p.dials.Load())
				}
				assertDenied(t, p, fmt.Sprintf("localhost:%d", srv.addrPort(t).Port()))
			}
		})
	}
}

// echoServer accepts TCP connections on loopback and echoes each one; ended
// receives one value per connection when the proxy side has closed it.
func echoServer(t *testing.T) (netip.AddrPort, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ended := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				ended <- struct{}{}
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), ended
}

// openTunnel CONNECTs to target through p and checks that the tunnel echoes.
func openTunnel(t *testing.T, p *testProxy, target netip.AddrPort) rawResult {
	t.Helper()
	res := raw(t, p, http.MethodConnect, target.String(), authHeader(t, p))
	if res.resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT status = %d", res.resp.StatusCode)
	}
	if _, err := io.WriteString(res.conn, "ping"); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(res.br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v; want ping", buf, err)
	}
	return res
}

func waitClosed(t *testing.T, what string, r io.Reader, ended <-chan struct{}, within time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 1))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("%s: client read succeeded, want the tunnel closed", what)
		}
	case <-time.After(within):
		t.Fatalf("%s: client side still open after %v", what, within)
	}
	select {
	case <-ended:
	case <-time.After(within):
		t.Fatalf("%s: upstream side still open after %v", what, within)
	}
}

func TestCloseEndsOpenTunnels(t *testing.T) {
	target, ended := echoServer(t)
	p := startProxy(t, Options{Allow: []netip.AddrPort{target}})
	res := openTunnel(t, p, target)

	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	waitClosed(t, "after Close", res.br, ended, 5*time.Second)
	if c, err := net.DialTimeout("tcp", p.self.String(), time.Second); err == nil {
		c.Close()
		t.Errorf("the proxy still accepts connections after Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestIdleTunnelIsClosed(t *testing.T) {
	target, ended := echoServer(t)
	p := startProxy(t, Options{Allow: []netip.AddrPort{target}, IdleTimeout: 200 * time.Millisecond})
	res := openTunnel(t, p, target)
	waitClosed(t, "idle", res.br, ended, 5*time.Second)
}

func TestTunnelPassesHalfClose(t *testing.T) {
	// The upstream reads until the client's end of stream, then answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c)
		fmt.Fprintf(c, "got %d", n)
	}()
	target := netip.MustParseAddrPort(ln.Addr().String())
	p := startProxy(t, Options{Allow: []netip.AddrPort{target}})
	res := raw(t, p, http.MethodConnect, target.String(), authHeader(t, p))
	if res.resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT status = %d", res.resp.StatusCode)
	}
	if _, err := res.conn.Write(bytes.Repeat([]byte("x"), 100000)); err != nil {
		t.Fatal(err)
	}
	if err := res.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.br)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	if want := "got 100000"; string(got) != want {
		t.Errorf("answer = %q, want %q", got, want)
	}
}

func TestControlRechecksTheSocketAddress(t *testing.T) {
	allowed := netip.MustParseAddrPort("127.0.0.1:8080")
	p := startProxy(t, Options{Allow: []netip.AddrPort{allowed}})
	tests := []struct {
		address string
		refused bool
	}{
		{"10.0.0.1:80", true},
		{"169.254.169.254:80", true},
		{"[::1]:8080", true},
		{"127.0.0.1:8081", true},
		{p.self.String(), true},
		{"127.0.0.1:8080", false},
		{"8.8.8.8:443", false},
	}
	for _, tt := range tests {
		t.Run(tt.address, func(t *testing.T) {
			err := p.controlDial(context.Background(), "tcp", tt.address, nil)
			var denied *deniedError
			if got := errors.As(err, &denied); got != tt.refused {
				t.Errorf("controlDial(%s) = %v, want refused %v", tt.address, err, tt.refused)
			}
		})
	}
}

// patternReader yields n bytes of a fixed pattern without holding them.
type patternReader struct {
	n     int64
	chunk []byte
	off   int
}

func newPatternReader(n int64) *patternReader {
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i*7 + i/251)
	}
	return &patternReader{n: n, chunk: chunk}
}

func (r *patternReader) Read(b []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), r.n)]
	n := 0
	for n < len(b) {
		c := copy(b[n:], r.chunk[r.off:])
		n += c
		r.off = (r.off + c) % len(r.chunk)
	}
	r.n -= int64(n)
	return n, nil
}

func TestLargeBodiesStream(t *testing.T) {
	const size = 64 << 20
	const bound = 16 << 20 // generous: buffering a body would cost at least 64 MiB
	wantSum := sha256.New()
	io.Copy(wantSum, newPatternReader(size))

	uploadSum := make(chan []byte, 1)
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			uploadSum <- h.Sum(nil)
			fmt.Fprint(w, n)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		io.Copy(w, newPatternReader(size))
	})

	tests := []struct {
		name   string
		method string
	}{
		{"download", http.MethodGet},
		{"upload", http.MethodPost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, Options{Allow: []netip.AddrPort{srv.addrPort(t)}})
			client := proxyClient(t, p, false)

			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var peak atomic.Uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()

			var body io.Reader
			if tt.method == http.MethodPost {
				body = io.NopCloser(newPatternReader(size)) // unknown length: chunked
			}
			req, err := http.NewRequest(tt.method, srv.URL+"/big.mp4", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tt.method, err)
			}
			got := sha256.New()
			n, err := io.Copy(got, resp.Body)
			resp.Body.Close()
			close(stop)
			<-sampled
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)

			if tt.method == http.MethodGet {
				if n != size || !bytes.Equal(got.Sum(nil), wantSum.Sum(nil)) {
					t.Errorf("received %d bytes, sum mismatch %v", n, !bytes.Equal(got.Sum(nil), wantSum.Sum(nil)))
				}
			} else if !bytes.Equal(<-uploadSum, wantSum.Sum(nil)) {
				t.Errorf("upload arrived altered")
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			grown := int64(peak.Load()) - int64(before.HeapInuse)
			t.Logf("allocated %d KiB, peak heap growth %d KiB while moving %d MiB", allocated>>10, grown>>10, size>>20)
			if allocated > bound || grown > bound {
				t.Errorf("allocated %d, heap grew by %d; want both under %d", allocated, grown, bound)
			}
		})
	}
}

func TestCloseEndsForwardedDownloads(t *testing.T) {
	upstreamDone := make(chan struct{}, 1)
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		defer func() { upstreamDone <- struct{}{} }()
		chunk := make([]byte, 32<<10)
		for r.Context().Err() == nil { // an endless stream
			if _, err := w.Write(chunk); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	p := startProxy(t, Options{Allow: []netip.AddrPort{srv.addrPort(t)}})
	resp, err := proxyClient(t, p, false).Get(srv.URL + "/endless.mp4")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 100<<10)); err != nil {
		t.Fatalf("read first bytes: %v", err)
	}

	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		read <- err
	}()
	select {
	case err := <-read:
		if err == nil {
			t.Errorf("the body ended cleanly, want it cut off")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client still receives after Close")
	}
	select {
	case <-upstreamDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request still runs after Close")
	}
}
