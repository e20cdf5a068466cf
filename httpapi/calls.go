package httpapi

import (
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
)

// call is one HTTP request waiting for its backend's answer: the messages
// that arrived for it, bounded in bytes, and a wake-up for the handler.
// The NATS goroutine pushes, the request's handler goroutine takes.
type call struct {
	notify chan struct{} // capacity 1: "something arrived"
	ackNow func(m *nats.Msg)

	mu       sync.Mutex
	msgs     []*nats.Msg // guarded by mu
	bytes    int         // payload bytes in msgs; guarded by mu
	limit    int         // bound of bytes while streaming
	overflow bool        // a message did not fit; guarded by mu
}

// push queues m. It never blocks: past the bound the call is marked
// overflowed and m is dropped (the handler then cuts the stream).
func (c *call) push(m *nats.Msg) {
	c.mu.Lock()
	if c.overflow {
		c.mu.Unlock()
		return
	}
	// One message is always taken, however big: the first answer or a
	// chunk into an empty buffer.
	if len(c.msgs) > 0 && c.bytes+len(m.Data) > c.limit {
		c.overflow = true
		c.msgs = nil
		c.bytes = 0
	} else {
		c.msgs = append(c.msgs, m)
		c.bytes += len(m.Data)
	}
	ack := c.ackNow
	c.mu.Unlock()
	if ack != nil && !c.overflow {
		ack(m)
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// take returns the queued messages (appended to buf) and whether the
// buffer overflowed.
func (c *call) take(buf []*nats.Msg) ([]*nats.Msg, bool) {
	c.mu.Lock()
	buf = append(buf, c.msgs...)
	clear(c.msgs)
	c.msgs = c.msgs[:0]
	c.bytes = 0
	o := c.overflow
	c.mu.Unlock()
	return buf, o
}

// callTable maps request numbers to their calls, sharded so that the NATS
// goroutine and many handlers rarely meet on one lock.
type callTable struct {
	shards [16]struct {
		mu sync.Mutex
		m  map[uint64]*call
	}
}

func newCallTable() *callTable {
	t := &callTable{}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*call)
	}
	return t
}

func (t *callTable) add(n uint64, c *call) {
	s := &t.shards[n%uint64(len(t.shards))]
	s.mu.Lock()
	s.m[n] = c
	s.mu.Unlock()
}

func (t *callTable) get(n uint64) *call {
	s := &t.shards[n%uint64(len(t.shards))]
	s.mu.Lock()
	c := s.m[n]
	s.mu.Unlock()
	return c
}

func (t *callTable) remove(n uint64) {
	s := &t.shards[n%uint64(len(t.shards))]
	s.mu.Lock()
	delete(s.m, n)
	s.mu.Unlock()
}

// onReply routes a backend message to its waiting request. NATS goroutine.
func (h *Handler) onReply(m *nats.Msg) {
	n, ok := protocol.ParseHTTPReply(m.Subject)
	var c *call
	if ok {
		c = h.calls.get(n)
	}
	if c == nil {
		h.stats.lateAnswers.Add(1)
		return
	}
	c.push(m)
}
