package netguard

import (
	"io"
	"net"
	"net/http"
	"time"
)

// tunnel answers CONNECT host:port: check and dial like any destination,
// answer 200, then copy bytes both ways until both sides have finished,
// either fails, the tunnel is idle for IdleTimeout, or the proxy closes.
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	dest := r.Host // authority form: "host:port"
	upstream, err := p.dial(r.Context(), dest)
	if err != nil {
		p.dialError(w, dest, err)
		return
	}

	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		upstream.Close()
		p.log.Error("netguard: hijack", "dest", dest, "err", err)
		http.Error(w, "netguard: cannot tunnel", http.StatusInternalServerError)
		return
	}
	client := &idleConn{Conn: conn, idle: p.opts.IdleTimeout}
	if !p.track(client, upstream) {
		client.Close()
		upstream.Close()
		return
	}
	defer p.untrack(client, upstream)

	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	// A client may send its first bytes (a TLS ClientHello) right behind
	// the CONNECT line; the server may have buffered them already.
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		if _, err := upstream.Write(early); err != nil {
			return
		}
	}
	p.log.Debug("netguard: tunnel open", "dest", dest)
	start := time.Now()
	splice(client, upstream)
	p.log.Debug("netguard: tunnel closed", "dest", dest, "duration", time.Since(start))
}

// splice copies a to b and b to a. When one side ends its stream cleanly
// the other is half-closed and the opposite direction goes on; on any error
// both are closed. It returns when both directions are done, with both
// connections closed.
func splice(a, b net.Conn) {
	done := make(chan error, 2)
	go func() { done <- pipe(b, a) }()
	go func() { done <- pipe(a, b) }()
	if err := <-done; err != nil {
		a.Close()
		b.Close()
	}
	<-done
	a.Close()
	b.Close()
}

// pipe copies src to dst and passes a clean end of src on as a half-close
// of dst.
func pipe(dst, src net.Conn) error {
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// track registers the two ends of a tunnel so that Close can end it; it
// returns false, and registers nothing, once the proxy is closed.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}
