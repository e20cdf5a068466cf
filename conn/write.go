package conn

import (
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/gatecast/gatecast/netpoll"
)

// controlSlack lets control frames (pongs, the close frame) past a full
// write queue: they are small and the protocol depends on them.
const controlSlack = 4 << 10

// maxIovecs bounds one writev call (IOV_MAX is 1024 on Linux and the BSDs).
const maxIovecs = 1024

// WriteMessage sends payload as one message (a single frame). What the
// kernel does not take at once is queued and sent when the socket is
// writable. If the queue is full the message is dropped, ErrSlowConsumer
// is returned and the slow-consumer policy applies. Loop goroutine only;
// payload is not retained.
func (c *Conn) WriteMessage(op ws.OpCode, payload []byte) error {
	if c.state != stateOpen {
		return ErrNotOpen
	}
	return c.write(op, payload, false)
}

// WriteFrame sends frame, one or more whole frames encoded by AppendFrame,
// as it is: the way to write one message to many connections after
// encoding it once. Queueing and the slow-consumer policy are as for
// WriteMessage. Loop goroutine only; frame is not retained.
func (c *Conn) WriteFrame(frame []byte) error {
	if c.state != stateOpen {
		return ErrNotOpen
	}
	c.ls.stats.framesOut.Add(1)
	return c.write(0, frame, false)
}

// write sends p as one frame of type op, or as raw bytes (a handshake
// response, frames encoded by AppendFrame) when op is 0. control marks
// protocol traffic (pong, close, handshake) that may pass a full queue.
// The header is built in the loop's scratch array: a header on the stack
// would escape through writev and cost an allocation per message.
func (c *Conn) write(op ws.OpCode, p []byte, control bool) error {
	ls := c.ls
	var hdr []byte
	if op != 0 {
		hdr = ls.hdr[:putHeader(ls.hdr[:], op, true, len(p))]
	}
	total := len(hdr) + len(p)
	// The close frame always goes in: without it the close handshake, and
	// with it the connection, could never end.
	if op != ws.OpClose && !c.admit(total, control) {
		return ErrSlowConsumer
	}
	if op != 0 {
		ls.stats.framesOut.Add(1)
	}
	if !control {
		c.lastActive = ls.loopNow()
	}
	ls.stats.bytesOut.Add(uint64(total))
	if c.tls != nil {
		return c.writeTLS(hdr, p)
	}
	return c.writeSocket(hdr, p)
}

// writeSocket writes hdr then p to the socket, or queues them behind what
// is queued, and queues what the kernel does not take. Loop goroutine.
func (c *Conn) writeSocket(hdr, p []byte) error {
	if c.outLen > 0 {
		c.enqueue(hdr, p)
		return nil
	}
	ls := c.ls
	total := len(hdr) + len(p)
	var (
		n   int
		err error
	)
	switch {
	case len(hdr) == 0:
		n, err = unix.Write(int(c.fd), p)
	case total <= len(ls.wbuf):
		// Small frames: one copy into the loop's scratch buffer and one
		// write, cheaper than building an iovec array.
		k := copy(ls.wbuf, hdr)
		copy(ls.wbuf[k:], p)
		n, err = unix.Write(int(c.fd), ls.wbuf[:total])
	default:
		iov := append(ls.iov[:0], hdr, p)
		n, err = netpoll.Writev(int(c.fd), iov)
		clear(iov)
	}
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		n = 0
	case err != nil:
		c.writeFailed()
		return err
	}
	if n == total {
		return nil
	}
	if n < len(hdr) {
		c.enqueue(hdr[n:], p)
	} else {
		c.enqueue(nil, p[n-len(hdr):])
	}
	c.armWrite(true)
	return nil
}

// admit decides whether n more bytes may join the write queue, and
// applies the slow-consumer policy when they may not.
func (c *Conn) admit(n int, control bool) bool {
	queued := c.QueuedBytes()
	if queued == 0 {
		return true
	}
	limit := c.ls.srv.cfg.WriteQueueBytes
	if control {
		limit += controlSlack
	}
	if queued+n <= limit {
		return true
	}
	ls := c.ls
	ls.stats.dropped.Add(1)
	if c.flags&flagSlow == 0 {
		c.flags |= flagSlow
		ls.stats.slowConsumers.Add(1)
		if ls.srv.cfg.SlowConsumer == SlowConsumerClose && c.state == stateOpen && c.dlist == nil {
			ls.slow.push(c, ls.now()+int64(ls.srv.cfg.SlowConsumerGrace))
		}
	}
	return false
}

// enqueue copies hdr and p to the end of the write queue, filling the last
// chunk before taking a new one from the pool.
func (c *Conn) enqueue(hdr, p []byte) {
	for _, b := range [2][]byte{hdr, p} {
		for len(b) > 0 {
			if k := len(c.out); k > 0 {
				last := c.out[k-1]
				if room := cap(last) - len(last); room > 0 {
					m := min(room, len(b))
					c.out[k-1] = append(last, b[:m]...)
					b = b[m:]
					c.outLen += m
					continue
				}
			}
			chunk := getBuf(min(max(len(b), 4<<10), 64<<10))
			c.out = append(c.out, chunk)
		}
	}
}

// flush writes as much of the queue as the kernel takes, in one writev.
func (c *Conn) flush() {
	ls := c.ls
	for c.outLen > 0 {
		iov := ls.iov[:0]
		iov = append(iov, c.out[0][c.outOff:])
		iov = append(iov, c.out[1:min(len(c.out), maxIovecs)]...)
		n, err := netpoll.Writev(int(c.fd), iov)
		clear(iov)
		ls.iov = iov[:0]
		if err == unix.EAGAIN || err == unix.EINTR {
			return
		}
		if err != nil {
			c.writeFailed()
			return
		}
		c.consumeQueue(n)
	}
	c.dropQueue()
	c.armWrite(false)
	if c.flags&flagSlow != 0 {
		c.flags &^= flagSlow
		if c.dlist == &ls.slow {
			unlinkDeadline(c)
		}
	}
	c.maybeFinish()
}

// consumeQueue forgets the first n queued bytes, returning emptied chunks
// to the pool.
func (c *Conn) consumeQueue(n int) {
	for n > 0 {
		first := c.out[0]
		left := len(first) - int(c.outOff)
		if n < left {
			c.outOff += int32(n)
			c.outLen -= n
			break
		}
		n -= left
		c.outLen -= left
		c.outOff = 0
		putBuf(first)
		c.out[0] = nil
		c.out = c.out[1:]
	}
	if c.flags&flagSlow != 0 && c.QueuedBytes() <= c.ls.srv.cfg.WriteQueueBytes/2 {
		c.flags &^= flagSlow
		if c.dlist == &c.ls.slow {
			unlinkDeadline(c)
		}
	}
}

func (c *Conn) dropQueue() {
	for i, b := range c.out {
		putBuf(b)
		c.out[i] = nil
	}
	c.out, c.outLen, c.outOff = nil, 0, 0
}

func (c *Conn) armWrite(on bool) {
	armed := c.flags&flagWriteArmed != 0
	if on == armed || c.state == stateClosed {
		return
	}
	c.flags ^= flagWriteArmed
	c.updateInterest()
}

// pauseReads stops or resumes read events (while an upgrade waits for the
// handler's verdict).
func (c *Conn) pauseReads(on bool) {
	paused := c.flags&flagReadPaused != 0
	if on == paused || c.state == stateClosed {
		return
	}
	c.flags ^= flagReadPaused
	c.updateInterest()
}

func (c *Conn) updateInterest() {
	c.ls.loop.SetInterest(int(c.fd), c.flags&flagReadPaused == 0, c.flags&flagWriteArmed != 0)
}

// writeFailed handles EPIPE, ECONNRESET and the like: the peer is gone.
func (c *Conn) writeFailed() {
	if c.why == nil {
		c.why = &DisconnectAbnormal
	}
	c.closeNow()
}
