package conn

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// TLS on the event loop.
//
// The handshake runs crypto/tls on a goroutine of its own, fed by the
// loop: the loop reads the socket and hands the bytes over, and the
// handshake's writes come back to the loop to be written (in order, by
// Submit). Once the handshake is done the goroutine ends, and from then on
// the loop drives the tls.Conn itself without blocking: its underlying
// conn answers a read with nothing buffered by a temporary net.Error,
// which crypto/tls passes up without breaking the connection (a partial
// record stays in its buffer). So an open TLS connection holds no
// goroutine, as a plain one; each readiness event reads the socket once
// and decrypts every complete record.

// tlsState is a TLS connection's side of the loop.
type tlsState struct {
	conn *tls.Conn
	raw  *rawConn
	// readRaw: the socket was read in this readiness event; blocked: the
	// last read found no complete record.
	readRaw, blocked, eof bool
}

// errWouldBlock is what the rawConn answers crypto/tls when it has no
// bytes and must not block.
type errWouldBlock struct{}

func (errWouldBlock) Error() string   { return "conn: no TLS bytes buffered" }
func (errWouldBlock) Timeout() bool   { return true }
func (errWouldBlock) Temporary() bool { return true }

// Modes of a rawConn.
const (
	rawHandshake = iota // the handshake goroutine reads (blocking) and writes through the loop
	rawLoop             // the loop reads (never blocking) and writes
	rawHanded           // a goroutine of the HTTP side owns it: the socket itself
)

// rawConn is the net.Conn under a tls.Conn: ciphertext.
type rawConn struct {
	c *Conn

	mu     sync.Mutex
	cond   *sync.Cond
	mode   int
	in     []byte // ciphertext read from the socket, not yet taken by crypto/tls
	closed bool
	pend   []byte         // ciphertext still to write when the socket was handed off
	nc     net.Conn       // the socket, once handed off
	rel    *socketRelease // gives its place under MaxSockets back, once handed off
}

func (r *rawConn) Read(p []byte) (int, error) {
	r.mu.Lock()
	for len(r.in) == 0 {
		switch {
		case r.closed:
			r.mu.Unlock()
			return 0, io.EOF
		case r.mode == rawLoop:
			r.mu.Unlock()
			return 0, errWouldBlock{}
		case r.mode == rawHanded:
			r.mu.Unlock()
			if err := r.flushPending(); err != nil {
				return 0, err
			}
			return r.nc.Read(p)
		}
		r.cond.Wait()
	}
	n := copy(p, r.in)
	r.in = r.in[n:]
	if len(r.in) == 0 {
		r.in = nil // an idle connection keeps no buffer
	}
	r.mu.Unlock()
	return n, nil
}

func (r *rawConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	mode, closed := r.mode, r.closed
	r.mu.Unlock()
	switch {
	case closed:
		return 0, net.ErrClosed
	case mode == rawLoop:
		// On the loop goroutine: into the socket or its queue.
		if err := r.c.writeRaw(p); err != nil {
			return 0, err
		}
		return len(p), nil
	case mode == rawHandshake:
		b := append([]byte(nil), p...)
		c := r.c
		if !c.Do(func() {
			if c.state != stateClosed {
				c.writeRaw(b)
			}
		}) {
			return 0, net.ErrClosed
		}
		return len(p), nil
	}
	if err := r.flushPending(); err != nil {
		return 0, err
	}
	return r.nc.Write(p)
}

// flushPending writes what the loop had queued before the hand-off.
func (r *rawConn) flushPending() error {
	r.mu.Lock()
	pend := r.pend
	r.pend = nil
	r.mu.Unlock()
	if len(pend) == 0 {
		return nil
	}
	_, err := r.nc.Write(pend)
	return err
}

// feed gives the handshake goroutine bytes read by the loop.
func (r *rawConn) feed(b []byte) {
	r.mu.Lock()
	r.in = append(r.in, b...)
	r.cond.Broadcast()
	r.mu.Unlock()
}

func (r *rawConn) setMode(m int) {
	r.mu.Lock()
	r.mode = m
	r.cond.Broadcast()
	r.mu.Unlock()
}

func (r *rawConn) Close() error {
	r.mu.Lock()
	r.closed = true
	nc, rel := r.nc, r.rel
	r.cond.Broadcast()
	r.mu.Unlock()
	if nc == nil {
		return nil
	}
	err := nc.Close()
	rel.done()
	return err
}

func (r *rawConn) LocalAddr() net.Addr  { return &net.TCPAddr{} }
func (r *rawConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(r.c.remote) }

func (r *rawConn) SetDeadline(t time.Time) error {
	if nc := r.handed(); nc != nil {
		return nc.SetDeadline(t)
	}
	return nil
}

func (r *rawConn) SetReadDeadline(t time.Time) error {
	if nc := r.handed(); nc != nil {
		return nc.SetReadDeadline(t)
	}
	return nil
}

func (r *rawConn) SetWriteDeadline(t time.Time) error {
	if nc := r.handed(); nc != nil {
		return nc.SetWriteDeadline(t)
	}
	return nil
}

func (r *rawConn) handed() net.Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nc
}

// startTLS begins the handshake of a new TLS connection. Loop goroutine.
func (c *Conn) startTLS(cfg *tls.Config) {
	raw := &rawConn{c: c}
	raw.cond = sync.NewCond(&raw.mu)
	t := &tlsState{raw: raw, conn: tls.Server(raw, cfg)}
	c.tls = t
	c.flags2 |= flag2TLSHandshake
	go func() {
		err := t.conn.Handshake()
		c.Do(func() { c.tlsHandshakeDone(t, err) })
	}()
}

// readTLSHandshake passes the socket's bytes to the handshake goroutine.
func (c *Conn) readTLSHandshake() {
	ls := c.ls
	n, err := unix.Read(int(c.fd), ls.rbuf)
	if !c.readOK(n, err) {
		return
	}
	c.tls.raw.feed(ls.rbuf[:n])
}

// tlsHandshakeDone runs on the loop when the handshake goroutine ends.
func (c *Conn) tlsHandshakeDone(t *tlsState, err error) {
	if c.tls != t || c.state == stateClosed {
		return
	}
	ls := c.ls
	c.flags2 &^= flag2TLSHandshake
	if err != nil {
		ls.stats.refused[refusalIndex(RefusedTLSHandshake)].Add(1)
		c.closeNow()
		return
	}
	t.raw.setMode(rawLoop)
	if ls.srv.cfg.HTTP != nil && t.conn.ConnectionState().NegotiatedProtocol == "h2" {
		// HTTP/2 is the HTTP side's from the first byte.
		c.handOff(nil)
		return
	}
	// Bytes that came with the end of the handshake (a request) are
	// already buffered: no readiness event will report them.
	c.readTLS(false)
}

// readTLS handles every complete record of an established TLS
// connection, reading the socket once first when socket is true (a
// readiness event) and not at all otherwise (bytes already buffered).
// Loop goroutine.
func (c *Conn) readTLS(socket bool) {
	t := c.tls
	t.readRaw, t.blocked = !socket, false
	for c.state != stateClosed && c.flags&flagReadPaused == 0 && c.tls == t && !t.blocked {
		c.readOnce()
	}
}

// read fills p with what the client sent: straight from the socket, or
// decrypted. It answers as unix.Read does: EAGAIN when there is nothing,
// (0, nil) at the end.
func (c *Conn) read(p []byte) (int, error) {
	t := c.tls
	if t == nil {
		return unix.Read(int(c.fd), p)
	}
	for {
		n, err := t.conn.Read(p)
		if n > 0 {
			return n, nil
		}
		var ne net.Error
		switch {
		case err == nil:
			continue
		case !errors.As(err, &ne) || !ne.Timeout():
			return 0, nil // EOF, close_notify or a broken record: the end
		case t.eof:
			return 0, nil
		case t.readRaw:
			t.blocked = true
			return 0, unix.EAGAIN
		}
		t.readRaw = true
		k, rerr := unix.Read(int(c.fd), c.ls.rbuf)
		switch {
		case rerr == unix.EAGAIN || rerr == unix.EINTR:
			t.blocked = true
			return 0, unix.EAGAIN
		case rerr != nil:
			return 0, rerr
		case k == 0:
			t.eof = true
			t.raw.Close()
			continue
		}
		t.raw.mu.Lock()
		t.raw.in = append(t.raw.in, c.ls.rbuf[:k]...)
		t.raw.mu.Unlock()
	}
}

// writeRaw writes bytes that are already on the wire format (TLS records)
// to the socket, queueing what the kernel does not take. Loop goroutine.
func (c *Conn) writeRaw(b []byte) error {
	if c.outLen > 0 {
		c.enqueue(nil, b)
		return nil
	}
	n, err := unix.Write(int(c.fd), b)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		n = 0
	case err != nil:
		c.writeFailed()
		return err
	}
	if n < len(b) {
		c.enqueue(nil, b[n:])
		c.armWrite(true)
	}
	return nil
}

// writeTLS encrypts one frame (or raw bytes) and writes the records:
// header and payload in one Write, so they share records and syscalls.
// Loop goroutine.
func (c *Conn) writeTLS(hdr, p []byte) error {
	ls := c.ls
	total := len(hdr) + len(p)
	buf := ls.wbuf
	if total > len(buf) {
		buf = getBuf(total)
		defer putBuf(buf)
	}
	k := copy(buf[:total], hdr)
	copy(buf[k:total], p)
	_, err := c.tls.conn.Write(buf[:total])
	return err
}
