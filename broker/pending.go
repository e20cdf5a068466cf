package broker

import (
	"sync"
	"time"
)

type requestKind uint8

const (
	kindMessage requestKind = iota // a route response for a message
	kindConnect                    // the $connect verdict
)

// request is a route event sent as a NATS request whose reply has not
// come yet.
type request struct {
	conn     uint64 // conn.Conn id
	kind     requestKind
	routeKey string
	deadline time.Time
}

// pendingTable holds the outstanding requests of one node, bounded by max.
// Every route has one timeout, so requests are queued per timeout value in
// send order: the head of each queue expires first, and expiring costs no
// scan of the table.
type pendingTable struct {
	mu     sync.Mutex
	max    int
	byID   map[uint64]request
	queues map[time.Duration]*idQueue
}

type idQueue struct {
	ids  []uint64
	head int
}

func newPendingTable(max int) *pendingTable {
	return &pendingTable{max: max, byID: make(map[uint64]request), queues: make(map[time.Duration]*idQueue)}
}

// add records request id; it reports false when the table is full.
func (p *pendingTable) add(id uint64, r request, timeout time.Duration, now time.Time) bool {
	r.deadline = now.Add(timeout)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.byID) >= p.max {
		return false
	}
	p.byID[id] = r
	q := p.queues[timeout]
	if q == nil {
		q = &idQueue{}
		p.queues[timeout] = q
	}
	q.ids = append(q.ids, id)
	return true
}

// take removes and returns request id, if it is still outstanding.
func (p *pendingTable) take(id uint64) (request, bool) {
	p.mu.Lock()
	r, ok := p.byID[id]
	delete(p.byID, id)
	p.mu.Unlock()
	return r, ok
}

// len is the number of outstanding requests.
func (p *pendingTable) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byID)
}

// expire removes the requests whose deadline is at or before now and
// returns them (appended to buf).
func (p *pendingTable) expire(now time.Time, buf []request) []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	for timeout, q := range p.queues {
		for q.head < len(q.ids) {
			id := q.ids[q.head]
			r, ok := p.byID[id]
			if ok && r.deadline.After(now) {
				break
			}
			q.head++
			if ok {
				delete(p.byID, id)
				buf = append(buf, r)
			}
		}
		// Compact once the consumed head dominates, so the queue does not
		// grow without bound.
		if q.head > 0 && q.head >= len(q.ids)/2 {
			n := copy(q.ids, q.ids[q.head:])
			clear(q.ids[n:])
			q.ids, q.head = q.ids[:n], 0
		}
		if len(q.ids) == 0 {
			delete(p.queues, timeout)
		}
	}
	return buf
}
