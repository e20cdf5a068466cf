package conn

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"

	"github.com/gatecast/gatecast/tlsrecord"
)

// TLS 1.3 connections after the handshake: gatecast's own record layer
// (tlsrecord.Layer) instead of the tls.Conn, so that an idle wss://
// connection keeps its keys and nothing else. See tls.go for the
// handshake.

// tlsReadBytes is the buffer a Layer connection reads into while bytes
// move: room for several records per read.
const tlsReadBytes = 64 << 10

// tlsIdleBytes: a partial record left at the end of a readiness event
// moves to a buffer of this size class when it fits, so that a quiet
// client in the middle of a record does not hold 64 KiB.
const tlsIdleBytes = 4 << 10

// leaveCryptoTLS moves a TLS 1.3 connection whose handshake just ended to
// a tlsrecord.Layer, with the ciphertext crypto/tls did not read. It
// reports false, and changes nothing, when the Layer cannot follow the
// records (then crypto/tls goes on). Loop goroutine, after the handshake
// goroutine ended.
func (c *Conn) leaveCryptoTLS(t *tlsState, cipherSuite uint16) bool {
	raw := t.raw
	raw.mu.Lock()
	defer raw.mu.Unlock()
	if raw.recLeft != 0 {
		return false // crypto/tls stopped inside a record: it has some of it
	}
	l, err := tlsrecord.NewServer(cipherSuite, &raw.secrets)
	if err == nil {
		err = l.CountSent(raw.sent)
	}
	if err != nil {
		return false
	}
	nt := &tlsState{rec: l}
	if len(raw.in) > 0 {
		nt.buf = append(getBuf(max(len(raw.in), tlsReadBytes)), raw.in...)
	}
	raw.in, raw.sent = nil, nil
	c.tls = nt
	c.ls.warm.touch(nt, c.ls.loopNow()) // CountSent built the write AEAD
	return true
}

// readRecords fills p with the application data of a Layer connection,
// reading the socket at most once per readiness event; it answers as
// read does. Loop goroutine.
func (c *Conn) readRecords(p []byte) (int, error) {
	t := c.tls
	for {
		if len(t.plain) > 0 {
			n := copy(p, t.plain)
			t.plain = t.plain[n:]
			return n, nil
		}
		ct := t.buf[t.ct:]
		n, err := tlsrecord.RecordLen(ct)
		if err == nil && n > 0 && n <= len(ct) {
			t.plain, err = t.rec.Open(ct[:n])
			t.ct += n
			if err == nil {
				continue // data, or a record that carried none
			}
		}
		if err != nil {
			c.tlsEnded(err)
			return 0, nil
		}
		if t.readRaw {
			c.settleTLS()
			return 0, unix.EAGAIN
		}
		t.readRaw = true
		room := t.room()
		k, err := unix.Read(int(c.fd), room)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			c.settleTLS()
			return 0, unix.EAGAIN
		case err != nil:
			return 0, err
		case k == 0:
			return 0, nil
		}
		t.buf = t.buf[:len(t.buf)+k]
	}
}

// room returns the free space after the ciphertext, at least a whole
// record's. Called only when no plaintext is waiting.
func (t *tlsState) room() []byte {
	switch {
	case t.buf == nil:
		t.buf = getBuf(tlsReadBytes)
	case t.ct > 0:
		t.buf = t.buf[:copy(t.buf, t.buf[t.ct:])]
	}
	t.ct = 0
	if cap(t.buf)-len(t.buf) < tlsrecord.MaxRecord {
		nb := append(getBuf(tlsReadBytes), t.buf...)
		putBuf(t.buf)
		t.buf = nb
	}
	return t.buf[len(t.buf):cap(t.buf)]
}

// settleTLS ends a readiness event that took every complete record: the
// buffers go back, and the AEAD states stay warm for a while.
func (c *Conn) settleTLS() {
	t := c.tls
	t.blocked = true
	c.ls.warm.touch(t, c.ls.loopNow())
	rest := t.buf[t.ct:]
	switch {
	case len(t.plain) > 0:
		return
	case len(rest) == 0:
		putBuf(t.buf)
		t.buf, t.ct = nil, 0
	case len(rest) <= tlsIdleBytes && cap(t.buf) > tlsIdleBytes:
		nb := append(getBuf(tlsIdleBytes), rest...)
		putBuf(t.buf)
		t.buf, t.ct = nb, 0
	}
}

// tlsEnded handles what ends a Layer connection's reading: the client's
// close_notify, its fatal alert, or a record that breaks the protocol,
// which gets the alert it calls for. The caller then closes.
func (c *Conn) tlsEnded(err error) {
	if err == io.EOF {
		c.tls.alerted = true // a close_notify answers nothing now
		return
	}
	c.ls.stats.tlsErrors.Add(1)
	var ae *tlsrecord.AlertError
	if errors.As(err, &ae) && !ae.Remote {
		c.sendTLSAlert(ae.Alert)
	}
}

// sendTLSAlert writes an alert record straight to the socket if nothing
// is queued before it. Best effort: the connection is ending.
func (c *Conn) sendTLSAlert(alert uint8) {
	t := c.tls
	if c.outLen > 0 || t == nil || t.rec == nil || t.alerted {
		return
	}
	t.alerted = true
	unix.Write(int(c.fd), t.rec.AppendAlert(c.ls.wbuf[:0], alert))
}

// release ends a handshake still running, gives the buffers back and
// takes t off the loop's warm list (its Layer may go to another goroutine).
func (t *tlsState) release(w *warmList) {
	w.remove(t)
	if t.raw != nil {
		t.raw.Close()
	}
	putBuf(t.buf)
	t.buf, t.plain = nil, nil
}

// writeRecords seals one frame (or raw bytes), header and payload in the
// same records, and writes them. Loop goroutine.
func (c *Conn) writeRecords(hdr, p []byte) error {
	buf := c.ls.wbuf[:0]
	if need := tlsrecord.SealedLen(len(hdr) + len(p)); need > cap(buf) {
		buf = getBuf(need)
		defer putBuf(buf)
	}
	c.ls.warm.touch(c.tls, c.ls.loopNow())
	return c.writeRaw(c.tls.rec.AppendData(buf, hdr, p))
}
