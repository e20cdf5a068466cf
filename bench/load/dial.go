package load

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
)

// conn is one open client connection. The client speaks the frame layer
// itself (gobwas/ws) instead of through a connection object, so that an
// idle connection costs no goroutine and no buffers.
type conn struct {
	nc net.Conn
	// pending holds bytes received but not yet parsed into frames: what
	// the server sent right behind its handshake, or a partial frame.
	pending []byte
	// sock is the socket under nc when nc is a *tls.Conn; nil for a
	// plain connection, whose nc is the socket itself.
	sock *sockConn
}

// openAll opens cfg.Conns connections with at most cfg.DialConcurrency
// dials in flight, giving up on those not open within cfg.OpenTimeout. It
// returns the open ones; the count of failed ones is cfg.Conns-len(open).
func openAll(ctx context.Context, cfg ClientConfig) (open []*conn, firstErr error) {
	d, err := newDialer(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.OpenTimeout)
	defer cancel()

	conns := make([]*conn, cfg.Conns)
	var (
		next    atomic.Int64
		errOnce sync.Once
		wg      sync.WaitGroup
	)
	for range min(cfg.DialConcurrency, cfg.Conns) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < cfg.Conns && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				c, err := dial(ctx, d, cfg.URL)
				if err == nil && cfg.Prime > 0 {
					if err = c.prime(ctx, cfg.Prime, cfg.DialTimeout); err != nil {
						c.nc.Close()
					}
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	if len(open) < cfg.Conns && firstErr == nil {
		firstErr = fmt.Errorf("load: opened %d of %d connections within %v: %w", len(open), cfg.Conns, cfg.OpenTimeout, ctx.Err())
	}
	return open, firstErr
}

// newDialer returns the dialer of cfg's connections: from cfg.Source, with
// TLS if cfg.TLS.
func newDialer(cfg ClientConfig) (ws.Dialer, error) {
	d := ws.Dialer{Timeout: cfg.DialTimeout}
	nd := &net.Dialer{Timeout: cfg.DialTimeout}
	if cfg.Source != "" {
		ip := net.ParseIP(cfg.Source)
		if ip == nil {
			return d, fmt.Errorf("load: --source %q is not an IP address", cfg.Source)
		}
		nd.LocalAddr = &net.TCPAddr{IP: ip}
	}
	d.NetDial = nd.DialContext
	if cfg.TLS {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return d, err
		}
		d.TLSClient = func(nc net.Conn, host string) net.Conn { return tlsClient(nc, host, tc) }
	}
	return d, nil
}

// dial opens one connection to url: TCP, TLS if d has it, the upgrade.
// A plain ws:// url is dialed as wss:// when d does TLS.
func dial(ctx context.Context, d ws.Dialer, url string) (*conn, error) {
	if d.TLSClient != nil {
		if rest, ok := strings.CutPrefix(url, "ws://"); ok {
			url = "wss://" + rest
		}
	}
	nc, br, _, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc}
	if tc, ok := nc.(*tls.Conn); ok {
		c.sock, _ = tc.NetConn().(*sockConn)
	}
	if br != nil {
		c.pending = make([]byte, br.Buffered())
		_, err = io.ReadFull(br, c.pending)
		ws.PutReader(br)
		if err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}
