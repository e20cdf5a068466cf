package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// maxIdleFrame bounds what an idle connection buffers for one frame. The
// server has no reason to send an idle client data; pings carry at most
// 125 bytes.
const maxIdleFrame = 64 << 10

// hold keeps conns open without traffic until ctx ends, release closes or
// cfg.Hold passes, answering pings every cfg.Sweep, and then closes them.
// It returns how many connections the server ended during the hold, and
// the first reason.
//
// One goroutine serves every connection: each sweep reads whatever has
// arrived on each socket without blocking, so holding 20,000 connections
// costs no goroutine stacks in the client.
func hold(ctx context.Context, conns []*conn, cfg ClientConfig, release <-chan struct{}) (lost int, firstErr error) {
	live := slices.Clone(conns)
	sweep := time.NewTicker(cfg.Sweep)
	defer sweep.Stop()
	limit := time.NewTimer(cfg.Hold)
	defer limit.Stop()

	buf := make([]byte, 4096)
	for {
		select {
		case <-ctx.Done():
		case <-release:
		case <-limit.C:
		case <-sweep.C:
			kept := live[:0]
			for _, c := range live {
				if err := c.sweep(buf); err != nil {
					c.nc.Close()
					lost++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				kept = append(kept, c)
			}
			clear(live[len(kept):]) // let the lost ones be collected
			live = kept
			continue
		}
		break
	}
	for _, c := range live {
		closeConn(c.nc)
	}
	return lost, firstErr
}

// sweep reads everything that has arrived on c without waiting and answers
// the control frames in it.
func (c *conn) sweep(buf []byte) error {
	if c.sock != nil {
		return c.sweepTLS(buf)
	}
	for {
		n, err := readNow(c.nc, buf)
		c.pending = append(c.pending, buf[:n]...)
		if err != nil {
			return err
		}
		if n < len(buf) {
			break
		}
	}
	return c.handleFrames()
}

// readNow reads what the socket holds without ever parking: a plain Read
// would block until data or a deadline, and a deadline per connection per
// sweep would cost a timer each.
func readNow(nc any, p []byte) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, fmt.Errorf("load: %T has no file descriptor to poll", nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		n, rerr = unix.Read(int(fd), p)
		return true // done either way: EAGAIN only means nothing arrived
	})
	switch {
	case err != nil:
		return 0, err
	case errors.Is(rerr, unix.EAGAIN):
		return 0, nil
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, fmt.Errorf("load: server closed the TCP connection: %w", io.EOF)
	}
	return n, nil
}

// handleFrames answers every complete frame in c.pending and keeps the
// partial rest.
func (c *conn) handleFrames() error {
	p := c.pending
	for len(p) > 0 {
		r := bytes.NewReader(p)
		h, err := ws.ReadHeader(r)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // the header is not all here yet
		}
		if err != nil {
			return err
		}
		if h.Length > maxIdleFrame {
			return fmt.Errorf("load: idle connection got a %d-byte frame, more than the %d it accepts", h.Length, maxIdleFrame)
		}
		body := len(p) - r.Len()
		if int64(r.Len()) < h.Length {
			break
		}
		payload := p[body : body+int(h.Length)]
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		if h.OpCode.IsControl() {
			if err := answerControl(c.nc, h.OpCode, payload); err != nil {
				return err
			}
		}
		p = p[body+int(h.Length):]
	}
	if len(p) == 0 {
		c.pending = nil
	} else if len(p) < len(c.pending) {
		c.pending = append([]byte(nil), p...)
	}
	return nil
}
