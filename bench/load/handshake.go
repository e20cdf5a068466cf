package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// runHandshakes is RunClient for Handshake: cfg.Conns loops, each opening
// a connection (TCP connect, TLS handshake if cfg.TLS, WebSocket upgrade),
// closing it with the closing handshake, and recording the whole as one
// round trip, over and over until cfg.Duration (or cfg.Rounds attempts in
// all). Each loop makes one attempt before the open event, which counts
// the loops whose attempt succeeded, then waits for the start line if
// cfg.WaitStart. A loop stops at its first failed attempt; the result
// counts it in Errors.
//
// The client closes as RFC 6455 asks: it sends a close frame, reads up to
// the server's close frame and waits for the server to close the TCP
// connection first, so the TIME_WAIT state stays on the server's side and
// the client's ephemeral ports do not run out over a long run.
func runHandshakes(ctx context.Context, cfg ClientConfig, start, eof <-chan struct{}, events io.Writer) error {
	d, err := newDialer(cfg)
	if err != nil {
		return err
	}
	results := make([]echoResult, cfg.Conns)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			_, results[i].err = handshakeOnce(ctx, d, cfg)
		})
	}
	wg.Wait()
	ev := Event{Event: eventOpen, Mode: cfg.Mode, Conns: cfg.Conns}
	for _, r := range results {
		if r.err != nil {
			ev.Failed++
			if ev.FirstError == "" {
				ev.FirstError = r.err.Error()
			}
		}
	}
	ev.Open = cfg.Conns - ev.Failed
	if err := writeEvent(events, ev); err != nil {
		return err
	}
	if ev.Failed > 0 {
		return fmt.Errorf("load: %d of %d handshake loops failed their first attempt: %s", ev.Failed, cfg.Conns, ev.FirstError)
	}
	if cfg.WaitStart {
		if err := awaitStart(ctx, start, eof); err != nil {
			return err
		}
	}

	rounds := make([]int, cfg.Conns)
	if cfg.Rounds > 0 {
		rounds = Shares(cfg.Rounds, cfg.Conns)
	} else {
		for i := range rounds {
			rounds[i] = -1 // no count limit
		}
	}
	results = make([]echoResult, cfg.Conns)
	end := time.Now().Add(cfg.Duration)
	t0 := time.Now()
	for i := range results {
		wg.Go(func() {
			r := &results[i]
			for rounds[i] < 0 || r.rounds < uint64(rounds[i]) {
				if !time.Now().Before(end) || ctx.Err() != nil {
					break
				}
				took, err := handshakeOnce(ctx, d, cfg)
				if err != nil {
					r.err = err
					break
				}
				r.hist.Record(took)
				r.rounds++
			}
		})
	}
	wg.Wait()
	ev = Event{Event: eventResult, Mode: cfg.Mode, Conns: cfg.Conns, Open: cfg.Conns, Seconds: time.Since(t0).Seconds()}
	mergeEcho(&ev, results)
	return writeEvent(events, ev)
}

// handshakeOnce opens one connection and closes it again, within
// cfg.DialTimeout for the opening and as long again for the closing, and
// returns how long the whole took.
func handshakeOnce(ctx context.Context, d ws.Dialer, cfg ClientConfig) (time.Duration, error) {
	t0 := time.Now()
	c, err := dial(ctx, d, cfg.URL)
	if err != nil {
		return 0, err
	}
	defer c.nc.Close()
	if err := c.closeHandshake(time.Now().Add(cfg.DialTimeout)); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// closeHandshake sends a normal close frame, reads until the server's
// close frame, and then until the server closes the connection, all
// before deadline.
func (c *conn) closeHandshake(deadline time.Time) error {
	c.nc.SetDeadline(deadline)
	if err := ws.WriteFrame(c.nc, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))); err != nil {
		return fmt.Errorf("load: sending the close frame: %w", err)
	}
	in := bufio.NewReader(io.MultiReader(bytes.NewReader(c.pending), c.nc))
	c.pending = nil
	for {
		h, err := ws.ReadHeader(in)
		if err != nil {
			return fmt.Errorf("load: waiting for the server's close frame: %w", err)
		}
		if _, err := io.CopyN(io.Discard, in, h.Length); err != nil {
			return fmt.Errorf("load: waiting for the server's close frame: %w", err)
		}
		if h.OpCode == ws.OpClose {
			break
		}
	}
	// The server closes the TCP connection first; anything it sends until
	// then (a TLS close_notify) is of no interest.
	_, err := io.Copy(io.Discard, in)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("load: the server sent its close frame but did not close the connection: %w", err)
	}
	return nil // the end, or a reset: closed either way
}
