package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// echoGrace is how long past the end of the loop a round trip in flight
// may take before its connection counts as failed.
const echoGrace = 5 * time.Second

// echoResult is what one connection's loop did.
type echoResult struct {
	rounds uint64
	err    error
	hist   Histogram
}

// echo runs the closed loop on every connection, one goroutine each, until
// cfg.Duration passes or cfg.Rounds round trips are done, and merges the
// results into ev.
func echo(ctx context.Context, conns []*conn, cfg ClientConfig, ev *Event) {
	end := time.Now().Add(cfg.Duration)
	for _, c := range conns {
		c.nc.SetDeadline(end.Add(echoGrace))
	}
	// A cancelled run unblocks every connection at once through deadlines.
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			c.nc.SetDeadline(time.Now())
		}
	})
	defer stop()

	rounds := make([]int, len(conns))
	if cfg.Rounds > 0 {
		rounds = Shares(cfg.Rounds, len(conns))
	} else {
		for i := range rounds {
			rounds[i] = -1 // no count limit
		}
	}
	results := make([]echoResult, len(conns))
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			r := &results[i]
			r.rounds, r.err = c.echoLoop(cfg.Size, rounds[i], end, &r.hist)
			closeConn(c.nc)
		})
	}
	wg.Wait()
	ev.Seconds = time.Since(start).Seconds()

	mergeEcho(ev, results)
}

// echoLoop sends a message of size bytes, waits for its echo and records
// the round trip, until end or until it has done rounds of them (rounds < 0:
// no count limit). The caller has set c's deadlines.
func (c *conn) echoLoop(size, rounds int, end time.Time, h *Histogram) (n uint64, err error) {
	payload, got, out, in := c.echoBuffers(size)

	for rounds < 0 || n < uint64(rounds) {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		if err := writeMessage(c.nc, out, payload); err != nil {
			return n, err
		}
		if err := c.readEcho(in, got); err != nil {
			return n, err
		}
		h.Record(time.Since(t0))
		if !bytes.Equal(got, payload) {
			return n, fmt.Errorf("load: echo of %d bytes differs from what was sent", size)
		}
		n++
	}
	return n, nil
}

// readEcho reads one binary message of exactly len(dst) bytes into dst,
// answering control frames that come before or between its fragments.
func (c *conn) readEcho(in *bufio.Reader, dst []byte) error {
	var ctl [125]byte
	n := 0
	first := true
	for {
		h, err := ws.ReadHeader(in)
		if err != nil {
			return err
		}
		if h.OpCode.IsControl() {
			if h.Length > int64(len(ctl)) {
				return fmt.Errorf("load: %d-byte control frame exceeds 125", h.Length)
			}
			p := ctl[:h.Length]
			if _, err := io.ReadFull(in, p); err != nil {
				return err
			}
			if h.Masked {
				ws.Cipher(p, h.Mask, 0)
			}
			if err := answerControl(c.nc, h.OpCode, p); err != nil {
				return err
			}
			continue
		}
		want := ws.OpContinuation
		if first {
			want = ws.OpBinary // the echo keeps the opcode that was sent
		}
		if h.OpCode != want {
			return fmt.Errorf("load: echo frame has opcode %#x, want %#x", h.OpCode, want)
		}
		// Never buffer more than was sent, whatever length the frame claims.
		if h.Length > int64(len(dst)-n) {
			return fmt.Errorf("load: echo is longer than the %d bytes sent", len(dst))
		}
		p := dst[n : n+int(h.Length)]
		if _, err := io.ReadFull(in, p); err != nil {
			return err
		}
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		n += len(p)
		first = false
		if h.Fin {
			if n != len(dst) {
				return fmt.Errorf("load: echo has %d bytes, %d were sent", n, len(dst))
			}
			return nil
		}
	}
}

// mergeEcho adds the loops' round trips, latencies and errors to ev.
func mergeEcho(ev *Event, results []echoResult) {
	ev.Latency = new(Histogram)
	for i := range results {
		r := &results[i]
		ev.Roundtrips += r.rounds
		ev.Latency.Merge(&r.hist)
		if r.err != nil {
			ev.Errors++
			if ev.FirstError == "" {
				ev.FirstError = r.err.Error()
			}
		}
	}
}
