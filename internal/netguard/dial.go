package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// dial connects to dest ("host:port") for a tunnel or the forward
// transport. It resolves host itself (an IP literal is taken as is), refuses
// with a *deniedError, before any packet is sent, if any resolved address is
// refused, and then connects to the checked addresses in turn, never handing
// a host name to the dialer. Any port is allowed on an allowed address: media
// CDNs use unusual ones.
func (p *Proxy) dial(ctx context.Context, dest string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(dest)
	if err != nil || host == "" {
		return nil, p.deny(ctx, dest, "not a host:port destination")
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return nil, p.deny(ctx, dest, "invalid port")
	}

	ctx, cancel := context.WithTimeout(ctx, p.opts.DialTimeout)
	defer cancel()
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	// Every address must pass: a name that resolves to one public and one
	// private address is refused outright rather than half-trusted.
	targets := make([]netip.AddrPort, 0, len(addrs))
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.Unmap(), uint16(port))
		if reason := p.refusal(ap); reason != "" {
			return nil, p.deny(ctx, dest, reason)
		}
		targets = append(targets, ap)
	}

	var errs []error
	for _, ap := range targets {
		if p.hooks.onDial != nil {
			p.hooks.onDial(ap)
		}
		c, err := p.dialer.DialContext(ctx, "tcp", ap.String())
		if err == nil {
			p.log.Debug("netguard: connected", "dest", dest, "addr", ap.String())
			return &idleConn{Conn: c, idle: p.opts.IdleTimeout}, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dial %s: %w", dest, errors.Join(errs...))
}

// resolve returns every address of host; an IP literal is its own answer.
func (p *Proxy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	lookup := p.hooks.lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return p.opts.Resolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	return addrs, nil
}

// refusal says why ap may not be dialled ("10.0.0.1 is private"), or ""
// if it may: an exact Allow entry, else Allowed's rules. The proxy's own
// address is always refused, so it cannot be looped through itself.
func (p *Proxy) refusal(ap netip.AddrPort) string {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	switch {
	case ap == p.self:
		return "the proxy itself"
	case slices.Contains(p.allow, ap):
		return ""
	case ap.Port() == 0:
		return "port 0"
	}
	if kind := classify(ap.Addr(), p.opts.AllowPrivate); kind != "" {
		return ap.Addr().String() + " is " + kind
	}
	return ""
}

// controlDial runs on the socket just before connect(2) and refuses any
// address that p.refusal refuses. dial has checked already; this guards the
// guard.
func (p *Proxy) controlDial(ctx context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("control %s: %w", address, err)
	}
	if reason := p.refusal(ap); reason != "" {
		return p.deny(ctx, address, reason)
	}
	return nil
}

// idleConn is an upstream or tunnel connection that fails once no Read or
// Write has started for idle: each operation pushes the deadline of both
// directions forward, so a one-way download keeps the connection alive and
// a silent one is closed.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(b []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(b)
}

// CloseWrite half-closes the connection when it supports it (TCP does).
func (c *idleConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
