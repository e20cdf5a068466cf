package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// fanOutReadBuffer is the receiver's one read buffer, shared by all its
// connections: a read takes whatever a socket holds, up to this much.
const fanOutReadBuffer = 64 << 10

// fanConn is one fan-out connection as the receiver sees it: a socket
// taken out of Go's poller, and what came on it.
type fanConn struct {
	fanState
	fd      int
	ep      int    // the epoll set fd is in
	pending []byte // a partial frame from the last read
}

// fanOut receives on every connection until release closes, ctx ends or
// cfg.Hold passes, writing progress events to events meanwhile, and merges
// what the connections received into ev.
//
// One goroutine serves all connections through an epoll set of its own,
// reading each ready socket once per round: a client holding 5,000 members
// wakes once for many messages instead of once per message per member, so
// that on a shared machine the clients take as little CPU from the server
// as they can. The sockets are duplicated out of Go's network poller (the
// original descriptors are closed, which takes them out of the poller
// without shutting the connection down), so that the runtime does not
// wake up for them too.
func fanOut(ctx context.Context, conns []*conn, cfg ClientConfig, release <-chan struct{}, events io.Writer, ev *Event) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		closeAll(conns)
		return fmt.Errorf("load: epoll: %w", err)
	}
	defer unix.Close(ep)

	fcs := make([]*fanConn, 0, len(conns))
	states := make([]*fanState, 0, len(conns))
	defer func() {
		for _, fc := range fcs {
			if !fc.ended {
				goodbye(fc.fd)
			}
			unix.Close(fc.fd)
		}
	}()
	var firstErr error
	for _, c := range conns {
		fd, err := detach(c)
		if err == nil {
			err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(len(fcs))})
			if err != nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			// Counted as lost: it was open and is gone before the
			// measurement.
			ev.Lost++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		fc := &fanConn{fd: fd, ep: ep, pending: c.pending}
		fcs = append(fcs, fc)
		states = append(states, &fc.fanState)
	}

	var totals fanTotals
	buf := make([]byte, fanOutReadBuffer)
	// What arrived behind the handshake is the start of the stream.
	for _, fc := range fcs {
		if len(fc.pending) > 0 {
			fc.consume(nil, time.Now().UnixNano(), &totals)
		}
	}

	limit := time.NewTimer(cfg.Hold)
	defer limit.Stop()
	evs := make([]unix.EpollEvent, 512)
	nextProgress := time.Now().Add(ProgressInterval)
	var sent Event
	for {
		select {
		case <-ctx.Done():
		case <-release:
		case <-limit.C:
		default:
			n, err := unix.EpollWait(ep, evs, int(ProgressInterval/time.Millisecond))
			if err != nil && !errors.Is(err, unix.EINTR) {
				return fmt.Errorf("load: epoll_wait: %w", err)
			}
			now := time.Now()
			for _, e := range evs[:max(n, 0)] {
				fc := fcs[e.Fd]
				if !fc.ended {
					fc.read(buf, now.UnixNano(), &totals)
				}
			}
			if now.After(nextProgress) {
				nextProgress = now.Add(ProgressInterval)
				if p := progressOf(states); p.MinSeq != sent.MinSeq || p.Received != sent.Received {
					if err := writeEvent(events, p); err != nil {
						return err
					}
					sent = p
				}
			}
			continue
		}
		break
	}
	// What arrived before the stop still counts (a server that closed
	// its members just before the release is a loss, not a clean end).
	if n, err := unix.EpollWait(ep, evs, 0); err == nil {
		now := time.Now()
		for _, e := range evs[:n] {
			if fc := fcs[e.Fd]; !fc.ended {
				fc.read(buf, now.UnixNano(), &totals)
			}
		}
	}
	mergeFanOut(states, &totals, ev)
	if ev.FirstError == "" && firstErr != nil {
		ev.FirstError = firstErr.Error()
	}
	return nil
}

// detach returns a duplicate of c's socket and closes c, which removes the
// original from Go's poller; the connection stays up on the duplicate,
// which is non-blocking like the original.
func detach(c *conn) (int, error) {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("load: %T has no file descriptor", c.nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	c.nc.Close()
	return fd, nil
}

// read reads what the socket holds, once, and consumes the frames in it.
func (fc *fanConn) read(buf []byte, now int64, t *fanTotals) {
	n, err := unix.Read(fc.fd, buf)
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
		return
	case err != nil:
		fc.end(err)
		return
	case n == 0:
		fc.end(fmt.Errorf("load: server closed the TCP connection: %w", io.EOF))
		return
	}
	fc.consume(buf[:n], now, t)
}

// consume parses fc.pending followed by data, records every whole message,
// answers control frames and keeps a partial frame for the next read.
func (fc *fanConn) consume(data []byte, now int64, t *fanTotals) {
	b := data
	if len(fc.pending) > 0 {
		fc.pending = append(fc.pending, data...)
		b = fc.pending
	}
	for len(b) > 0 {
		f, err := parseFrame(b)
		if errors.Is(err, errShortFrame) {
			break
		}
		if err != nil {
			fc.end(err)
			return
		}
		b = b[f.size:]
		switch {
		case f.op.IsControl():
			if err := answerControlFD(fc.fd, f.op, f.payload); err != nil {
				fc.end(err)
				return
			}
		case f.fin && len(fc.frag) == 0:
			fc.record(f.payload, now, t)
		default:
			fc.frag = append(fc.frag, f.payload...)
			if len(fc.frag) > maxFanOutMessage {
				fc.end(fmt.Errorf("load: message over the %d bytes a fan-out client accepts", maxFanOutMessage))
				return
			}
			if f.fin {
				fc.record(fc.frag, now, t)
				fc.frag = fc.frag[:0]
			}
		}
	}
	// Keep the partial frame; it may alias fc.pending, which copy handles.
	fc.pending = append(fc.pending[:0], b...)
}

// end marks the connection as ended by the server or the network, and
// stops watching it.
func (fc *fanConn) end(err error) {
	fc.ended, fc.err = true, err
	unix.EpollCtl(fc.ep, unix.EPOLL_CTL_DEL, fc.fd, nil)
}

// answerControlFD is answerControl on a raw socket.
func answerControlFD(fd int, op ws.OpCode, payload []byte) error {
	switch op {
	case ws.OpPing:
		return writeFrameFD(fd, ws.NewPongFrame(payload))
	case ws.OpClose:
		code, _ := ws.ParseCloseFrameData(payload)
		writeFrameFD(fd, ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
		return errServerClosed
	}
	return nil
}

// writeFrameFD writes a small masked frame to a non-blocking socket in one
// write; a socket too full to take a control frame counts as failed.
func writeFrameFD(fd int, f ws.Frame) error {
	b, err := ws.CompileFrame(ws.MaskFrameInPlace(f))
	if err != nil {
		return err
	}
	n, err := unix.Write(fd, b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return err
}

// goodbye sends a normal close frame without waiting for the answer.
func goodbye(fd int) {
	writeFrameFD(fd, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
}
