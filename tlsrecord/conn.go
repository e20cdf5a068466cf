package tlsrecord

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Conn is a net.Conn that speaks TLS 1.3 records over a socket with a
// Layer's keys: the rest of a connection whose handshake (and perhaps
// first records) someone else handled. Reads and writes block. One
// goroutine may read while another writes; Close may come from any.
type Conn struct {
	net.Conn
	layer *Layer

	rmu   sync.Mutex
	buf   []byte // holds in and plain
	in    []byte // ciphertext read, not yet opened
	plain []byte // data opened, not yet read
	rerr  error  // what ends reading

	wmu    sync.Mutex
	werr   error
	closed bool
}

// NewConn returns a Conn over nc. buffered is ciphertext already read from
// nc, in order; the Conn owns it now.
func NewConn(nc net.Conn, l *Layer, buffered []byte) *Conn {
	return &Conn{Conn: nc, layer: l, in: buffered}
}

// closeNotifyTimeout bounds the close_notify write of Close, as crypto/tls.
const closeNotifyTimeout = 5 * time.Second

func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.plain) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		n, err := RecordLen(c.in)
		if err == nil && n > 0 && len(c.in) >= n {
			c.plain, err = c.layer.Open(c.in[:n])
			c.in = c.in[n:]
		} else if err == nil {
			err = c.fill()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// A deadline (net/http sets one in the past to stop its
			// background read) ends this Read, not the connection.
			return 0, err
		}
		if err != nil {
			c.rerr = err
			var ae *AlertError
			if errors.As(err, &ae) && !ae.Remote {
				c.sendAlert(ae.Alert)
			}
		}
	}
	n := copy(p, c.plain)
	c.plain = c.plain[n:]
	return n, nil
}

// fill reads more ciphertext from the socket. Caller holds rmu.
func (c *Conn) fill() error {
	if cap(c.in)-len(c.in) < MaxRecord {
		// What is left of a record moves to the front, with room for a
		// whole record after it. plain is empty: it may be overwritten.
		if cap(c.buf) < len(c.in)+MaxRecord {
			c.buf = make([]byte, 0, max(2*MaxRecord, len(c.in)+MaxRecord))
		}
		c.in = c.buf[:copy(c.buf[:len(c.in)], c.in)]
	}
	n, err := c.Conn.Read(c.in[len(c.in):cap(c.in)])
	c.in = c.in[:len(c.in)+n]
	if n > 0 {
		return nil
	}
	if err == io.EOF && len(c.in) > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if c.closed {
		return 0, net.ErrClosed
	}
	bp := writeBufs.Get().(*[]byte)
	defer writeBufs.Put(bp)
	for done := 0; done < len(p); {
		n := min(len(p)-done, writeChunk)
		*bp = c.layer.AppendData((*bp)[:0], p[done:done+n], nil)
		if _, err := c.Conn.Write(*bp); err != nil {
			c.werr = err
			return done, err
		}
		done += n
	}
	return len(p), nil
}

// writeChunk is how much of a Write is sealed before it goes to the
// socket; the buffers are shared, so an idle Conn holds none.
const writeChunk = 4 * MaxPlaintext

var writeBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, SealedLen(writeChunk)+RecordOverhead)
	return &b
}}

// sendAlert tells the peer why the connection ends. Best effort.
func (c *Conn) sendAlert(alert uint8) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil || c.closed {
		return
	}
	c.Conn.SetWriteDeadline(time.Now().Add(closeNotifyTimeout))
	_, c.werr = c.Conn.Write(c.layer.AppendAlert(nil, alert))
	if c.werr == nil {
		c.werr = net.ErrClosed
	}
}

// Close sends close_notify (waiting at most 5 seconds for the socket to
// take it) and closes the socket.
func (c *Conn) Close() error {
	c.sendAlert(AlertCloseNotify)
	c.wmu.Lock()
	c.closed = true
	c.wmu.Unlock()
	return c.Conn.Close()
}

// CloseWrite sends close_notify and shuts the socket's write side when it
// can (a *net.TCPConn).
func (c *Conn) CloseWrite() error {
	c.sendAlert(AlertCloseNotify)
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
