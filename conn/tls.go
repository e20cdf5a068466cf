package conn

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gatecast/gatecast/tlsrecord"
)

// TLS on the event loop.
//
// The handshake runs crypto/tls on a goroutine of its own, fed by the
// loop: the loop reads the socket and hands the bytes over, one whole
// record at a time, and the handshake's writes come back to the loop to be
// written (in order, by Do). Once the handshake is done the goroutine
// ends. A TLS 1.3 connection then leaves crypto/tls: the traffic secrets
// it reported through the connection's key log go to a tlsrecord.Layer,
// which keeps only keys and sequence numbers (tls13.go), and the tls.Conn
// with its buffers is garbage. A TLS 1.2 connection stays with crypto/tls,
// driven by the loop without blocking: its underlying conn answers a read
// with nothing buffered by a temporary net.Error, which crypto/tls passes
// up without breaking the connection (a partial record stays in its
// buffer). Either way an open TLS connection holds no goroutine, as a
// plain one; each readiness event reads the socket once and decrypts
// every complete record.

// tlsState is a TLS connection's side of the loop: crypto/tls (conn and
// raw) during the handshake and for TLS 1.2, a Layer (rec) for TLS 1.3.
type tlsState struct {
	conn *tls.Conn
	raw  *rawConn

	rec *tlsrecord.Layer
	// buf (pooled, nil while nothing moves) holds plain, application data
	// opened and not yet read, and from ct on the ciphertext read and not
	// yet opened. Layer only.
	buf   []byte
	plain []byte
	ct    int
	// On the loop's warmList while the Layer's AEAD states are built
	// (warmFiled != 0); warmUsed: when records last moved.
	wprev, wnext        *tlsState
	warmFiled, warmUsed int64

	// readRaw: the socket was read in this readiness event; blocked: the
	// last read found no complete record; alerted: the connection's last
	// alert is sent, or needs none.
	readRaw, blocked, eof, alerted bool
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
	nc     net.Conn       // the socket, once handed off
	rel    *socketRelease // gives its place under MaxSockets back, once handed off

	// The handshake goroutine's: what the key log reported, what the
	// handshake wrote, and how much of the record being read crypto/tls
	// has not taken yet (it gets one record at a time, so that it reads
	// nothing past the client's Finished).
	secrets tlsrecord.Secrets
	sent    []byte
	recLeft int
}

func (r *rawConn) Read(p []byte) (int, error) {
	r.mu.Lock()
	if r.mode == rawHandshake {
		return r.readRecord(p)
	}
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

// readRecord gives crypto/tls's handshake what it reads without going past
// the end of the record it is reading. Caller holds mu; readRecord
// releases it.
func (r *rawConn) readRecord(p []byte) (int, error) {
	defer r.mu.Unlock()
	for r.recLeft == 0 && len(r.in) < tlsrecord.HeaderLen || len(r.in) == 0 {
		if r.closed {
			return 0, io.EOF
		}
		r.cond.Wait()
	}
	if r.recLeft == 0 {
		r.recLeft = tlsrecord.HeaderLen + int(binary.BigEndian.Uint16(r.in[3:5]))
	}
	n := copy(p, r.in[:min(len(r.in), r.recLeft)])
	r.in = r.in[n:]
	r.recLeft -= n
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
		// One copy serves the loop's write and CountSent: appends to
		// sent never touch the bytes b covers.
		start := len(r.sent)
		r.sent = append(r.sent, p...) // the handshake goroutine's own
		b := r.sent[start:len(r.sent):len(r.sent)]
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
	return r.nc.Write(p)
}

// feed gives the handshake goroutine bytes read by the loop, and says how
// many it has not taken yet.
func (r *rawConn) feed(b []byte) int {
	r.mu.Lock()
	r.in = append(r.in, b...)
	n := len(r.in)
	r.cond.Broadcast()
	r.mu.Unlock()
	return n
}

// maxHandshakeBacklog bounds what a client may send during the TLS
// handshake ahead of crypto/tls reading it: a ClientHello, a Finished and
// a request head are a few KiB; more is a client trying to make the
// server buffer for it.
const maxHandshakeBacklog = 128 << 10

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

// withKeyLog returns cfg set up so that every connection's handshake
// reports its secrets to the connection's own rawConn (tlsrecord.Secrets):
// GetConfigForClient hands each handshake a clone whose KeyLogWriter is
// the rawConn's. The secrets never leave the process; a KeyLogWriter of
// cfg's own still gets its lines.
func withKeyLog(cfg *tls.Config) *tls.Config {
	base := cfg.Clone()
	inner, userLog := cfg.GetConfigForClient, cfg.KeyLogWriter
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		from := cfg
		if inner != nil {
			c, err := inner(hello)
			if err != nil {
				return nil, err
			}
			if c != nil {
				from = c
			}
		}
		raw, ok := hello.Conn.(*rawConn)
		if !ok {
			return from, nil
		}
		c := from.Clone()
		c.GetConfigForClient = nil
		c.KeyLogWriter = keyLog{&raw.secrets, userLog}
		return c, nil
	}
	return base
}

// keyLog gives the key log lines of one handshake to its Secrets, and to
// the KeyLogWriter of the configuration, if any.
type keyLog struct {
	secrets *tlsrecord.Secrets
	next    io.Writer
}

func (k keyLog) Write(line []byte) (int, error) {
	k.secrets.Write(line)
	if k.next != nil {
		return k.next.Write(line)
	}
	return len(line), nil
}

// startTLS begins the handshake of a new TLS connection; cfg is what
// withKeyLog made. Loop goroutine.
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
	if c.tls.raw.feed(ls.rbuf[:n]) > maxHandshakeBacklog {
		ls.stats.refused[refusalIndex(RefusedTLSHandshake)].Add(1)
		c.closeNow()
	}
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
	st := t.conn.ConnectionState()
	if ls.srv.cfg.HTTP != nil && st.NegotiatedProtocol == "h2" {
		// HTTP/2 is the HTTP side's from the first byte.
		c.handOff(nil)
		return
	}
	if st.Version == tls.VersionTLS13 && !c.leaveCryptoTLS(t, st.CipherSuite) {
		ls.stats.tlsStayed.Add(1)
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
	switch {
	case t == nil:
		return unix.Read(int(c.fd), p)
	case t.rec != nil:
		return c.readRecords(p)
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
func (c *Conn) writeRaw(b []byte) error { return c.writeSocket(nil, b) }

// writeTLS encrypts one frame (or raw bytes) and writes the records:
// header and payload in one Write, so they share records and syscalls.
// Loop goroutine.
func (c *Conn) writeTLS(hdr, p []byte) error {
	if c.tls.rec != nil {
		return c.writeRecords(hdr, p)
	}
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
