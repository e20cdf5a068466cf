package conn

import (
	"net/netip"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/gatecast/gatecast/netpoll"
	"github.com/gatecast/gatecast/tlsrecord"
)

// Handler is what the rest of gatecast plugs into a connection. Its methods
// run on the connection's loop goroutine and must not block.
type Handler interface {
	// OnOpen runs once the upgrade response is written.
	OnOpen(c *Conn)
	// OnMessage runs for every complete data message. payload is valid
	// only until OnMessage returns: it points into a shared read buffer.
	OnMessage(c *Conn, op ws.OpCode, payload []byte)
	// OnClose runs once for every connection that OnOpen saw, however it
	// ended, after its socket is closed.
	OnClose(c *Conn, d Disconnect)
}

type state uint8

const (
	stateHandshake state = iota
	stateOpen
	stateClosing
	stateClosed
)

const (
	flagOpened     uint16 = 1 << iota // OnOpen ran: OnClose is owed
	flagCloseRecv                     // the peer's close frame arrived
	flagWriteArmed                    // the loop watches for writability
	flagWriteShut                     // shutdown(SHUT_WR) done after our close frame
	flagDiscard                       // the connection failed: input is read and dropped
	flagFragmented                    // a fragmented message is being reassembled
	flagText                          // ... and it is a text message
	flagSlow                          // the write queue went over its bound
	flagDeferred                      // upgrade valid, waiting for Accept or Refuse
	flagReadPaused                    // the loop does not report readability
)

const (
	flag2InWheel      uint8 = 1 << iota // filed in the loop's timing wheel
	flag2Admitted                       // holds one of Config.MaxConns
	flag2Claimed                        // OnConnect let it through: OnClose or OnAbandon is owed
	flag2TLSHandshake                   // the TLS handshake goroutine runs
)

// Conn is one client connection. See the package documentation for its
// life cycle and for which goroutine may call what.
type Conn struct {
	fd     int32
	outOff int32 // bytes of out[0] already written
	state  state
	flags  uint16
	flags2 uint8
	wslot  uint16 // timing wheel slot, while flag2InWheel

	ls *loopState
	id uint64

	remote   netip.AddrPort
	protocol string

	in       []byte   // unfinished frame (or request head) carried between reads
	msg      []byte   // fragments of the message being reassembled
	utf8Done int      // bytes of msg known to be valid UTF-8
	out      [][]byte // bytes the kernel did not take, oldest first
	outLen   int      // bytes in out not yet written

	dlist        *deadlineList
	dprev, dnext *Conn
	deadline     int64

	// Session timers (wheel.go), nanoseconds on the server's clock.
	wprev, wnext *Conn
	wdue         int64
	openedAt     int64
	lastActive   int64

	tls   *tlsState   // nil for plain connections
	why   *Disconnect // set when closing starts
	skip  int64       // payload bytes of a refused frame still to drop
	value any
}

// ID is the connection's number, unique within its Server; Server.Lookup
// finds the connection by it from any goroutine.
func (c *Conn) ID() uint64 { return c.id }

// LoopIndex is the index of the event loop the connection lives on, from
// 0 to Server.Loops()-1.
func (c *Conn) LoopIndex() int { return c.ls.loop.ID() }

// RemoteAddr is the client's address and port.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// Protocol is the negotiated subprotocol, or "".
func (c *Conn) Protocol() string { return c.protocol }

// Value returns what SetValue stored. Loop goroutine only.
func (c *Conn) Value() any { return c.value }

// SetValue stores the handler's per-connection state. Loop goroutine only.
func (c *Conn) SetValue(v any) { c.value = v }

// Pending reports whether the connection's upgrade waits for Accept or
// Refuse. Loop goroutine only.
func (c *Conn) Pending() bool { return c.state == stateHandshake && c.flags&flagDeferred != 0 }

// Open reports whether the connection is open (handshake done, no close
// frame sent or received). Loop goroutine only.
func (c *Conn) Open() bool { return c.state == stateOpen }

// QueuedBytes is the number of bytes waiting for the kernel. Loop goroutine
// only.
func (c *Conn) QueuedBytes() int { return c.outLen }

// Do runs fn on the connection's loop goroutine, where every Conn method
// may be called. It reports false if the server is shut down.
func (c *Conn) Do(fn func()) bool { return c.ls.loop.Submit(fn) }

// Send queues a copy of payload as one message from any goroutine. It
// reports false if the server is shut down; a connection that is closed
// by the time the loop runs the send drops it.
func (c *Conn) Send(op ws.OpCode, payload []byte) bool {
	b := append(getBuf(len(payload)), payload...)
	return c.ls.loop.Submit(func() {
		c.WriteMessage(op, b)
		putBuf(b)
	})
}

// Close starts the close handshake with d's code and reason. The socket is
// closed when the peer answers, or after CloseTimeout. Loop goroutine only.
func (c *Conn) Close(d Disconnect) {
	switch c.state {
	case stateHandshake:
		c.closeNow()
	case stateOpen:
		c.startClose(&d)
	}
}

// OnEvent is the connection's netpoll.Handler.
func (c *Conn) OnEvent(ev netpoll.Event) {
	if ev&netpoll.EventWrite != 0 {
		c.flush()
	}
	if ev&netpoll.EventRead != 0 && c.state != stateClosed {
		if c.flags&flagReadPaused != 0 {
			// Only a hang-up is reported while reads are paused.
			if ev&netpoll.EventHangup != 0 {
				c.closeNow()
			}
			return
		}
		switch {
		case c.flags2&flag2TLSHandshake != 0:
			c.readTLSHandshake()
		case c.tls != nil:
			c.readTLS(true)
		default:
			c.readOnce()
		}
	}
}

// readOnce reads what the client sent once (a request head or frames) and
// handles it.
func (c *Conn) readOnce() {
	if c.state == stateHandshake {
		c.readHandshake()
	} else {
		c.readFrames()
	}
}

// readOK sorts the result of a read: it returns true if n bytes arrived,
// and closes the connection on EOF or error.
func (c *Conn) readOK(n int, err error) bool {
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return false
	case err != nil || n == 0:
		if c.why == nil {
			c.why = &DisconnectAbnormal
		}
		c.closeNow()
		return false
	}
	c.ls.stats.bytesIn.Add(uint64(n))
	return true
}

func (c *Conn) readFrames() {
	ls := c.ls
	if c.flags&flagDiscard != 0 {
		n, err := c.read(ls.rbuf)
		c.readOK(n, err)
		return
	}
	if len(c.in) > 0 {
		n, err := c.read(c.in[len(c.in):cap(c.in)])
		if !c.readOK(n, err) {
			return
		}
		c.in = c.in[:len(c.in)+n]
		c.consume(c.in, true)
		return
	}
	n, err := c.read(ls.rbuf)
	if !c.readOK(n, err) {
		return
	}
	c.consume(ls.rbuf[:n], false)
}

// consume parses the frames in buf and keeps what is left of an unfinished
// frame in c.in. fromIn says buf is c.in itself.
func (c *Conn) consume(buf []byte, fromIn bool) {
	used, need := c.processFrames(buf)
	if c.state == stateClosed {
		return
	}
	if c.flags&flagDiscard != 0 {
		used = len(buf)
	}
	rest := buf[used:]
	switch {
	case len(rest) == 0:
		putBuf(c.in)
		c.in = nil
	case fromIn:
		c.in = c.in[:copy(c.in, rest)]
		c.in = growBuf(c.in, need-len(c.in))
	default:
		c.in = append(getBuf(max(need, len(rest))), rest...)
	}
}

// processFrames handles every whole frame at the start of b. It returns
// how many bytes it used and how many the unfinished frame after them
// needs in all.
func (c *Conn) processFrames(b []byte) (used, need int) {
	for c.state == stateOpen || c.state == stateClosing {
		if c.flags&flagDiscard != 0 {
			return len(b), 0
		}
		if c.skip > 0 {
			k := min(c.skip, int64(len(b)-used))
			used += int(k)
			c.skip -= k
			if c.skip > 0 {
				return used, 0
			}
		}
		h, hn, err := parseHeader(b[used:])
		if err != nil {
			c.fail(protocolError("frame length has its most significant bit set"))
			return len(b), 0
		}
		if hn == 0 {
			return used, maxHeaderBytes
		}
		if d := c.checkHeader(h); d != nil {
			// A frame announcing far more than any message may hold is not
			// worth waiting for: drop everything instead.
			if d.Code != ws.StatusMessageTooBig || h.Length > 4*int64(c.ls.srv.cfg.MaxMessageBytes) {
				c.fail(*d)
				return len(b), 0
			}
			// The framing is intact: drop this frame's payload and keep
			// reading, so the client's close frame ends the connection at
			// once rather than at CloseTimeout.
			c.failSoft(*d)
			used += hn
			c.skip = h.Length
			continue
		}
		total := hn + int(h.Length)
		if len(b)-used < total {
			return used, total
		}
		p := b[used+hn : used+total]
		ws.Cipher(p, h.Mask, 0)
		used += total
		c.ls.stats.framesIn.Add(1)
		c.onFrame(h, p)
	}
	return used, 0
}

func (c *Conn) checkHeader(h ws.Header) *Disconnect {
	st := ws.StateServerSide
	if c.flags&flagFragmented != 0 {
		st |= ws.StateFragmented
	}
	if err := ws.CheckHeader(h, st); err != nil {
		d := protocolError(err.Error())
		return &d
	}
	if h.OpCode.IsControl() {
		return nil
	}
	cfg := &c.ls.srv.cfg
	if h.Length > int64(cfg.MaxFrameBytes) {
		return &DisconnectFrameTooBig
	}
	if int64(len(c.msg))+h.Length > int64(cfg.MaxMessageBytes) {
		return &DisconnectMessageTooBig
	}
	return nil
}

func (c *Conn) onFrame(h ws.Header, p []byte) {
	switch h.OpCode {
	case ws.OpPing:
		if c.state == stateOpen {
			c.write(ws.OpPong, p, true)
		}
	case ws.OpPong:
		// Unsolicited pongs are allowed and mean nothing (RFC 6455, 5.5.3).
	case ws.OpClose:
		c.onCloseFrame(p)
	default:
		c.onData(h, p)
	}
}

func (c *Conn) onData(h ws.Header, p []byte) {
	if c.state != stateOpen {
		// Closing: data is dropped, but fragments are still tracked so the
		// frames after them parse.
		switch {
		case h.OpCode != ws.OpContinuation && !h.Fin:
			c.flags |= flagFragmented
		case h.OpCode == ws.OpContinuation && h.Fin:
			c.flags &^= flagFragmented | flagText
		}
		return
	}
	if h.OpCode != ws.OpContinuation {
		text := h.OpCode == ws.OpText
		if h.Fin {
			// The common case: a whole message in one frame, delivered
			// from the read buffer without a copy.
			if text && !utf8.Valid(p) {
				c.failSoft(DisconnectBadUTF8)
				return
			}
			c.deliver(h.OpCode, p)
			return
		}
		c.flags |= flagFragmented
		if text {
			c.flags |= flagText
		}
		c.msg = getBuf(len(p))
		c.utf8Done = 0
	}
	c.msg = append(growBuf(c.msg, len(p)), p...)
	if c.flags&flagText != 0 {
		n, ok := validUTF8Prefix(c.msg[c.utf8Done:])
		c.utf8Done += n
		if !ok || (h.Fin && c.utf8Done != len(c.msg)) {
			c.failSoft(DisconnectBadUTF8)
			return
		}
	}
	if !h.Fin {
		return
	}
	op := ws.OpBinary
	if c.flags&flagText != 0 {
		op = ws.OpText
	}
	msg := c.msg
	c.msg = nil
	c.flags &^= flagFragmented | flagText
	c.deliver(op, msg)
	putBuf(msg)
}

func (c *Conn) deliver(op ws.OpCode, p []byte) {
	if c.state != stateOpen {
		return
	}
	c.lastActive = c.ls.loopNow()
	c.ls.stats.messagesIn.Add(1)
	c.ls.srv.handler.OnMessage(c, op, p)
}

func (c *Conn) onCloseFrame(p []byte) {
	c.flags |= flagCloseRecv
	d := Disconnect{Code: ws.StatusNoStatusRcvd, ByPeer: true}
	switch len(p) {
	case 0:
	case 1:
		c.fail(protocolError("close frame with a 1-byte payload"))
		return
	default:
		code, reason := ws.ParseCloseFrameData(p)
		err := ws.CheckCloseFrameData(code, reason)
		if code >= 5000 {
			// gobwas/ws lets codes past the private range through; RFC
			// 6455 (7.4.2) defines none there.
			err = ws.ErrProtocolStatusCodeUnknown
		}
		if err != nil {
			if err == ws.ErrProtocolInvalidUTF8 {
				c.fail(DisconnectBadUTF8)
			} else {
				c.fail(protocolError("invalid close code"))
			}
			return
		}
		d.Code, d.Reason = code, reason
	}
	if c.state == stateClosing {
		// The answer to our own close frame: the handshake is complete.
		c.maybeFinish()
		return
	}
	c.why = &d
	c.startClose(&d)
}

// fail closes the connection because the peer broke the protocol or a
// limit: it sends d's close frame and drops everything the peer sends after.
func (c *Conn) fail(d Disconnect) {
	if c.state == stateClosed {
		return
	}
	c.flags |= flagDiscard
	c.putMsg()
	if c.state == stateOpen {
		c.startClose(&d)
		return
	}
	c.maybeFinish()
}

// failSoft closes the connection for a message it cannot take (too big,
// not UTF-8) while the framing is intact: it sends d's close frame and keeps
// parsing, dropping data, so that the client's close frame is seen.
func (c *Conn) failSoft(d Disconnect) {
	if c.state != stateOpen {
		return
	}
	fragmented := c.flags & (flagFragmented | flagText)
	c.putMsg()
	c.flags |= fragmented // the rest of the message still has to parse
	c.startClose(&d)
}

// startClose sends our close frame (or our echo of the peer's) and moves
// to closing.
func (c *Conn) startClose(d *Disconnect) {
	if c.why == nil {
		c.why = d
	}
	c.state = stateClosing
	unlinkDeadline(c)
	ls0 := c.ls
	ls0.wheel.remove(c)
	var body [ws.MaxControlFramePayloadSize]byte
	n := 0
	if d.Code != ws.StatusNoStatusRcvd {
		n = 2 + len(d.Reason)
		if d.ByPeer || n > len(body) {
			n = 2 // echo the peer's code alone; never cut a reason mid-character
		}
		ws.PutCloseFrameBody(body[:n], d.Code, d.Reason[:n-2])
	}
	if c.write(ws.OpClose, body[:n], true) != nil {
		return
	}
	ls := c.ls
	ls.closings.push(c, ls.now()+int64(ls.srv.cfg.CloseTimeout))
	c.maybeFinish()
}

// maybeFinish moves a closing connection on once its close frame (or
// handshake response) has left: the socket closes at once if the peer has
// closed too, otherwise the write side is shut and the loop waits for the
// peer's close frame or EOF, up to CloseTimeout.
func (c *Conn) maybeFinish() {
	if c.state != stateClosing || c.outLen > 0 {
		return
	}
	if c.flags&flagCloseRecv != 0 {
		c.closeNow()
		return
	}
	if c.flags&flagWriteShut == 0 {
		c.flags |= flagWriteShut
		unix.Shutdown(int(c.fd), unix.SHUT_WR)
	}
}

// closeNow closes the socket and releases everything the connection holds.
func (c *Conn) closeNow() {
	if c.state == stateClosed {
		return
	}
	ls := c.ls
	unlinkDeadline(c)
	ls.wheel.remove(c)
	ls.loop.Unregister(int(c.fd))
	if t := c.tls; t != nil {
		if t.rec != nil && !t.alerted {
			c.sendTLSAlert(tlsrecord.AlertCloseNotify)
		}
		t.release(&ls.warm)
		c.tls = nil
	}
	unix.Close(int(c.fd))
	c.state = stateClosed
	putBuf(c.in)
	c.in = nil
	c.putMsg()
	c.dropQueue()
	ls.srv.live.Add(-1)
	if c.flags2&flag2Admitted != 0 {
		ls.srv.admitted.Add(-1)
	}
	if c.flags2&flag2Claimed != 0 && c.flags&flagOpened == 0 {
		if ah, ok := ls.srv.handler.(AbandonHandler); ok {
			ah.OnAbandon(c)
		}
	}
	if c.flags&flagOpened != 0 {
		ls.srv.open.Add(-1)
		d := c.why
		if d == nil {
			d = &DisconnectAbnormal
		}
		ls.srv.handler.OnClose(c, *d)
	}
}

func (c *Conn) putMsg() {
	putBuf(c.msg)
	c.msg = nil
	c.flags &^= flagFragmented | flagText
}
