package conn

import (
	"bytes"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/gatecast/gatecast/tlsrecord"
)

// isUpgrade reports whether a request head asks for a WebSocket: it has an
// Upgrade header naming "websocket" (RFC 6455 4.1). Anything else is plain
// HTTP. The head is complete (it ends with the blank line).
func isUpgrade(head []byte) bool {
	// Skip the request line.
	i := bytes.Index(head, []byte("\r\n"))
	if i < 0 {
		return false
	}
	for rest := head[i+2:]; len(rest) > 2; {
		line := rest
		if j := bytes.Index(rest, []byte("\r\n")); j >= 0 {
			line, rest = rest[:j], rest[j+2:]
		} else {
			rest = nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Upgrade")) {
			for _, tok := range bytes.Split(value, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(tok), []byte("websocket")) {
					return true
				}
			}
		}
	}
	return false
}

// handOff gives a connection whose first request is plain HTTP (or that
// negotiated HTTP/2) to Config.HTTP: the socket leaves the loop and
// becomes a net.Conn that replays the plaintext already read. A TLS
// connection goes on with its tls.Conn over the socket; with read nil it
// is handed as the *tls.Conn itself, so net/http can see its ALPN. The
// socket counts against MaxSockets until it is closed. Loop goroutine.
func (c *Conn) handOff(read []byte) {
	ls := c.ls
	srv := ls.srv
	unlinkDeadline(c)
	ls.loop.Unregister(int(c.fd))
	c.state = stateClosed
	buffered := bytes.Clone(read)
	putBuf(c.in)
	c.in = nil
	// net.FileConn duplicates the descriptor into Go's own poller; the
	// original is closed right after, so the socket is held once.
	f := os.NewFile(uintptr(c.fd), "")
	nc, err := net.FileConn(f)
	f.Close()
	srv.live.Add(-1)
	t := c.tls
	c.tls = nil
	if err != nil {
		ls.stats.handOffErrors.Add(1)
		c.dropQueue()
		if t != nil {
			t.release(&ls.warm)
		}
		return
	}
	srv.handedOff.Add(1)
	ls.stats.handedOff.Add(1)
	rel := &socketRelease{srv: srv}
	if t == nil {
		c.dropQueue()
		srv.cfg.HTTP(&handedConn{Conn: nc, buffered: buffered, rel: rel})
		return
	}
	// Records the kernel had not taken yet go first.
	var pend []byte
	for i, b := range c.out {
		if i == 0 {
			b = b[c.outOff:]
		}
		pend = append(pend, b...)
	}
	c.dropQueue()
	sock := net.Conn(nc)
	if len(pend) > 0 {
		sock = &pendingWrites{Conn: nc, pend: pend}
	}
	if t.rec != nil {
		// TLS 1.3 goes on with the same Layer, over the socket.
		buffered = append(buffered, t.plain...)
		ct := bytes.Clone(t.buf[t.ct:])
		t.release(&ls.warm)
		srv.cfg.HTTP(&handedConn{Conn: tlsrecord.NewConn(sock, t.rec, ct), buffered: buffered, rel: rel})
		return
	}
	t.raw.mu.Lock()
	t.raw.nc, t.raw.mode, t.raw.rel = sock, rawHanded, rel
	t.raw.mu.Unlock()
	if read == nil {
		srv.cfg.HTTP(t.conn)
		return
	}
	srv.cfg.HTTP(&handedConn{Conn: t.conn, buffered: buffered, rel: rel})
}

// pendingWrites is a handed-off socket that the loop still had bytes to
// write to: they go first, before anything is read or written.
type pendingWrites struct {
	net.Conn
	mu      sync.Mutex
	pend    []byte
	flushed atomic.Bool
}

func (p *pendingWrites) flush() error {
	if p.flushed.Load() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flushed.Load() {
		return nil
	}
	_, err := p.Conn.Write(p.pend)
	p.pend = nil
	p.flushed.Store(true)
	return err
}

func (p *pendingWrites) Read(b []byte) (int, error) {
	if err := p.flush(); err != nil {
		return 0, err
	}
	return p.Conn.Read(b)
}

func (p *pendingWrites) Write(b []byte) (int, error) {
	if err := p.flush(); err != nil {
		return 0, err
	}
	return p.Conn.Write(b)
}

// socketRelease gives a handed-off socket's place under MaxSockets back,
// once, whichever of its wrappers closes first.
type socketRelease struct {
	srv  *Server
	once sync.Once
}

func (r *socketRelease) done() { r.once.Do(func() { r.srv.handedOff.Add(-1) }) }

// handedConn is a socket handed to the HTTP side. Reads return the bytes
// the loop had already read first.
type handedConn struct {
	net.Conn
	buffered []byte
	rel      *socketRelease
}

func (h *handedConn) Read(p []byte) (int, error) {
	if len(h.buffered) > 0 {
		n := copy(p, h.buffered)
		h.buffered = h.buffered[n:]
		if len(h.buffered) == 0 {
			h.buffered = nil
		}
		return n, nil
	}
	return h.Conn.Read(p)
}

// Close closes the socket and gives its place under MaxSockets back.
func (h *handedConn) Close() error {
	err := h.Conn.Close()
	h.rel.done()
	return err
}

// HandoffListener is a net.Listener fed by Config.HTTP, so that an
// http.Server can Serve the connections the loops hand off:
//
//	hl := conn.NewHandoffListener(1024)
//	cfg.HTTP = hl.Hand
//	go httpServer.Serve(hl)
type HandoffListener struct {
	conns   chan net.Conn
	done    chan struct{}
	once    sync.Once
	addr    func() net.Addr
	dropped atomic.Uint64
}

// NewHandoffListener returns a listener that holds up to backlog
// connections not yet accepted.
func NewHandoffListener(backlog int) *HandoffListener {
	return &HandoffListener{conns: make(chan net.Conn, backlog), done: make(chan struct{})}
}

// Hand queues nc for Accept without blocking. When the backlog is full or
// the listener is closed, nc is closed and counted in Dropped.
func (l *HandoffListener) Hand(nc net.Conn) {
	select {
	case <-l.done:
	default:
		select {
		case l.conns <- nc:
			return
		default:
		}
	}
	l.dropped.Add(1)
	nc.Close()
}

// Accept waits for the next handed-off connection.
func (l *HandoffListener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.conns:
		return nc, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept return net.ErrClosed and closes the connections still
// waiting. Safe to call more than once.
func (l *HandoffListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		for {
			select {
			case nc := <-l.conns:
				nc.Close()
			default:
				return
			}
		}
	})
	return nil
}

// SetAddr tells Addr where the connections come from (the Server's
// listener), once it is known.
func (l *HandoffListener) SetAddr(addr func() net.Addr) { l.addr = addr }

// Addr is the address given to SetAddr, or a zero TCP address.
func (l *HandoffListener) Addr() net.Addr {
	if l.addr != nil {
		if a := l.addr(); a != nil {
			return a
		}
	}
	return &net.TCPAddr{}
}

// Dropped counts connections closed because the backlog was full or the
// listener closed.
func (l *HandoffListener) Dropped() uint64 { return l.dropped.Load() }
