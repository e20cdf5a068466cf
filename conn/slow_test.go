package conn_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

const (
	floodMessages = 200
	floodSize     = 16 << 10
	slowQueue     = 64 << 10
	smallRcvBuf   = 4 << 10
)

// flooder is a handler that answers "flood" with floodMessages binary
// messages of floodSize bytes, each starting with its sequence number,
// and "big" with one message far larger than the write queue bound and
// the kernel's socket buffers, followed by a small one.
type flooder struct {
	testHandler

	mu      sync.Mutex
	results []floodResult
}

// floodResult is what one command did.
type floodResult struct {
	sent    []uint32 // sequence numbers WriteMessage accepted
	dropped int      // messages WriteMessage refused with ErrSlowConsumer
	queued  int      // QueuedBytes afterwards
	other   error    // any other error from WriteMessage
}

func newFlooder() *flooder {
	f := &flooder{}
	f.onMessage = func(c *conn.Conn, op ws.OpCode, p []byte) bool {
		var r floodResult
		switch string(p) {
		case "flood":
			p := make([]byte, floodSize)
			for i := range uint32(floodMessages) {
				binary.BigEndian.PutUint32(p, i)
				r.record(i, c.WriteMessage(ws.OpBinary, p))
			}
		case "big":
			r.record(0, c.WriteMessage(ws.OpBinary, make([]byte, 8<<20)))
			r.record(1, c.WriteMessage(ws.OpBinary, []byte("small")))
		default:
			return false
		}
		r.queued = c.QueuedBytes()
		f.mu.Lock()
		f.results = append(f.results, r)
		f.mu.Unlock()
		return true
	}
	return f
}

func (r *floodResult) record(seq uint32, err error) {
	switch {
	case err == nil:
		r.sent = append(r.sent, seq)
	case errors.Is(err, conn.ErrSlowConsumer):
		r.dropped++
	case r.other == nil:
		r.other = err
	}
}

// result waits for the n-th command to finish and returns what it did.
func (f *flooder) result(t *testing.T, n int) floodResult {
	t.Helper()
	waitFor(t, "flood to finish", ioTimeout, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.results) >= n
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.results[n-1]
	if r.other != nil {
		t.Fatalf("WriteMessage: %v", r.other)
	}
	return r
}

// openSlow opens a connection whose receive window stays small.
func openSlow(t *testing.T, srv *conn.Server) *client {
	t.Helper()
	c := dial(t, srv, smallRcvBuf)
	c.write([]byte(upgradeRequest("/")))
	if resp, _ := c.readHead(); resp.StatusCode != 101 {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	return c
}

// TestSlowConsumerDrop: a client that does not read loses the newest
// messages once the queue is full, stays connected, and then receives what
// was queued in order.
func TestSlowConsumerDrop(t *testing.T) {
	f := newFlooder()
	srv := startServer(t, conn.Config{WriteQueueBytes: slowQueue}, f)
	c := openSlow(t, srv)

	totalDropped := 0
	for round := 1; round <= 2; round++ {
		c.writeFrame(ws.OpText, true, []byte("flood"))
		r := f.result(t, round)
		if r.dropped == 0 {
			t.Fatalf("round %d: nothing dropped; the test did not fill the queue", round)
		}
		totalDropped += r.dropped
		if r.queued > slowQueue {
			t.Errorf("round %d: %d bytes queued, over the %d-byte bound", round, r.queued, slowQueue)
		}
		st := srv.Stats()
		if st.Dropped != uint64(totalDropped) {
			t.Errorf("round %d: Stats.Dropped = %d, handler saw %d drops", round, st.Dropped, totalDropped)
		}
		if st.SlowConsumers != uint64(round) {
			t.Errorf("round %d: Stats.SlowConsumers = %d, want %d", round, st.SlowConsumers, round)
		}
		if r.sent[0] != 0 {
			t.Errorf("round %d: first message sent was %d; the first write on an empty queue must be accepted", round, r.sent[0])
		}
		// Read what was sent: whole, in order, nothing else.
		for i, seq := range r.sent {
			fr := c.mustReadFrame()
			if fr.Header.OpCode != ws.OpBinary || len(fr.Payload) != floodSize {
				t.Fatalf("round %d message %d: %v frame of %d bytes", round, i, fr.Header.OpCode, len(fr.Payload))
			}
			if got := binary.BigEndian.Uint32(fr.Payload); got != seq {
				t.Fatalf("round %d message %d: sequence %d, want %d", round, i, got, seq)
			}
		}
		// Still open, and nothing else was queued.
		c.writeFrame(ws.OpText, true, []byte("still there?"))
		c.expectFrame(ws.OpText, []byte("still there?"))
	}
	if n := len(f.closed()); n != 0 {
		t.Errorf("%d connections closed under the drop policy", n)
	}
}

// TestSlowConsumerClose: under SlowConsumerClose a client that does not
// read in time gets a 1008 close frame behind the messages that were
// queued. Here the client starts reading once the server has started
// closing, and completes the close handshake.
func TestSlowConsumerClose(t *testing.T) {
	f := newFlooder()
	srv := startServer(t, conn.Config{
		WriteQueueBytes:   slowQueue,
		SlowConsumer:      conn.SlowConsumerClose,
		SlowConsumerGrace: 100 * time.Millisecond,
		CloseTimeout:      time.Minute,
	}, f)
	c := openSlow(t, srv)
	c.writeFrame(ws.OpText, true, []byte("flood"))
	r := f.result(t, 1)
	if r.dropped == 0 {
		t.Fatal("nothing dropped; the test did not fill the queue")
	}
	sc := f.waitOpened(t, 1)
	waitFor(t, "the server to start closing", ioTimeout, func() bool {
		open := make(chan bool, 1)
		if !sc.Do(func() { open <- sc.Open() }) {
			t.Fatal("Do: server shut down")
		}
		return !<-open
	})
	for i, seq := range r.sent {
		fr := c.mustReadFrame()
		if got := binary.BigEndian.Uint32(fr.Payload); fr.Header.OpCode != ws.OpBinary || got != seq {
			t.Fatalf("message %d: %v frame with sequence %d, want binary %d", i, fr.Header.OpCode, got, seq)
		}
	}
	if reason := c.expectClose(ws.StatusPolicyViolation); reason != conn.DisconnectSlowConsumer.Reason {
		t.Errorf("close reason %q, want %q", reason, conn.DisconnectSlowConsumer.Reason)
	}
	c.expectEOF()
	c.writeFrame(ws.OpClose, true, closeBody(ws.StatusPolicyViolation, ""))
	if d := f.waitClosed(t, 1); d != conn.DisconnectSlowConsumer {
		t.Errorf("OnClose got %+v, want %+v", d, conn.DisconnectSlowConsumer)
	}
}

// TestSlowConsumerCloseTimeout: a slow client that never reads again is
// closed after SlowConsumerGrace plus CloseTimeout, with nothing else
// happening on the server to wake its loop.
func TestSlowConsumerCloseTimeout(t *testing.T) {
	f := newFlooder()
	srv := startServer(t, conn.Config{
		Loops:             1,
		WriteQueueBytes:   slowQueue,
		SlowConsumer:      conn.SlowConsumerClose,
		SlowConsumerGrace: 50 * time.Millisecond,
		CloseTimeout:      50 * time.Millisecond,
	}, f)
	c := openSlow(t, srv)
	c.writeFrame(ws.OpText, true, []byte("flood"))
	if r := f.result(t, 1); r.dropped == 0 {
		t.Fatal("nothing dropped; the test did not fill the queue")
	}
	if d := f.waitClosed(t, 1); d != conn.DisconnectSlowConsumer {
		t.Errorf("OnClose got %+v, want %+v", d, conn.DisconnectSlowConsumer)
	}
	if st := srv.Stats(); st.CloseTimeouts != 1 || st.Sockets != 0 {
		t.Errorf("CloseTimeouts = %d, Sockets = %d; want 1 and 0", st.CloseTimeouts, st.Sockets)
	}
}

// TestSlowConsumerRecovers: a client that reads again within the grace
// period is not closed.
func TestSlowConsumerRecovers(t *testing.T) {
	f := newFlooder()
	srv := startServer(t, conn.Config{
		WriteQueueBytes:   slowQueue,
		SlowConsumer:      conn.SlowConsumerClose,
		SlowConsumerGrace: time.Minute,
	}, f)
	c := openSlow(t, srv)
	c.writeFrame(ws.OpText, true, []byte("flood"))
	r := f.result(t, 1)
	for range r.sent {
		c.mustReadFrame()
	}
	c.writeFrame(ws.OpText, true, []byte("caught up"))
	c.expectFrame(ws.OpText, []byte("caught up"))
	if n := len(f.closed()); n != 0 {
		t.Errorf("connection closed although the client caught up")
	}
}

// TestSlowConsumerCloseOverfullQueue fills the queue beyond its bound
// plus the control slack (the first write on an empty queue is accepted
// whatever its size). The close frame then does not fit in the queue, yet
// the connection must still be closed.
func TestSlowConsumerCloseOverfullQueue(t *testing.T) {
	f := newFlooder()
	srv := startServer(t, conn.Config{
		WriteQueueBytes:   slowQueue,
		SlowConsumer:      conn.SlowConsumerClose,
		SlowConsumerGrace: 50 * time.Millisecond,
		CloseTimeout:      50 * time.Millisecond,
	}, f)
	c := openSlow(t, srv)
	c.writeFrame(ws.OpText, true, []byte("big"))
	r := f.result(t, 1)
	if r.dropped != 1 || r.queued <= slowQueue+4096 {
		t.Fatalf("dropped %d, queued %d; the test needs a queue over its bound plus slack", r.dropped, r.queued)
	}
	sc := f.waitOpened(t, 1)
	// Poll through Do, which also wakes the loop: this test is about the
	// close frame that does not fit, not about timers.
	waitFor(t, "the connection to close", ioTimeout, func() bool {
		sc.Do(func() {})
		return len(f.closed()) == 1
	})
	if d := f.closed()[0]; d.Code != ws.StatusPolicyViolation {
		t.Errorf("OnClose got %+v, want 1008", d)
	}
}

// TestShutdownOverfullQueue: Shutdown must not wait for ever on a
// connection whose close frame does not fit in its queue; CloseTimeout
// applies to it like to any other.
func TestShutdownOverfullQueue(t *testing.T) {
	f := newFlooder()
	srv := startServer(t, conn.Config{WriteQueueBytes: slowQueue, CloseTimeout: 50 * time.Millisecond}, f)
	c := openSlow(t, srv)
	c.writeFrame(ws.OpText, true, []byte("big"))
	if r := f.result(t, 1); r.queued <= slowQueue+4096 {
		t.Fatalf("queued %d; the test needs a queue over its bound plus slack", r.queued)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v; want nil once CloseTimeout cut the slow client", err)
	}
	if d := f.waitClosed(t, 1); d != conn.DisconnectShutdown {
		t.Errorf("OnClose got %+v, want %+v", d, conn.DisconnectShutdown)
	}
}
