package netpoll

import (
	"sync"
	"sync/atomic"
	"time"
)

// Handler receives the readiness events of one registered descriptor.
// OnEvent runs on the loop goroutine and must not block.
type Handler interface {
	OnEvent(ev Event)
}

// Loop is one event loop: a goroutine that waits for readiness of the
// descriptors registered on it and calls their handlers one after another.
//
// Register, SetInterest, Unregister, Handler and Range must be called on the
// loop goroutine (from a Handler, a tick or a Submit-ted function). Submit,
// ID and the statistics are goroutine-safe.
type Loop struct {
	id   int
	p    poller
	tick func(l *Loop, now time.Time) time.Duration

	// handlers is indexed by descriptor; loop goroutine only.
	handlers []Handler
	count    int

	mu      sync.Mutex
	tasks   []func() // guarded by mu
	closing bool     // guarded by mu

	busyNanos atomic.Int64
	done      chan struct{}
	now       time.Time // when the current round of events began; loop goroutine only
}

func newLoop(id int, tick func(*Loop, time.Time) time.Duration) (*Loop, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	return &Loop{id: id, p: p, tick: tick, done: make(chan struct{})}, nil
}

// ID is the loop's index in its group, from 0.
func (l *Loop) ID() int { return l.id }

// BusyTime is how long the loop has spent handling events and tasks, as
// opposed to waiting for them.
func (l *Loop) BusyTime() time.Duration { return time.Duration(l.busyNanos.Load()) }

// Now is when the current round of events began: one clock reading per
// round for handlers that stamp every event. Loop goroutine only.
func (l *Loop) Now() time.Time { return l.now }

// Len is the number of descriptors registered. Loop goroutine only.
func (l *Loop) Len() int { return l.count }

// Register adds fd to the loop, readable-interest only. Loop goroutine only.
func (l *Loop) Register(fd int, h Handler) error {
	if err := l.p.add(fd); err != nil {
		return err
	}
	if fd >= len(l.handlers) {
		n := max(2*len(l.handlers), fd+1, 64)
		grown := make([]Handler, n)
		copy(grown, l.handlers)
		l.handlers = grown
	}
	l.handlers[fd] = h
	l.count++
	return nil
}

// SetInterest says which readiness events of fd the loop reports. A
// descriptor starts with read interest only. Handlers turn write interest
// on when the kernel did not take all their bytes and off once their queue
// is flushed, and turn read interest off while they cannot take input
// (level-triggered, unread input would otherwise be reported again and
// again). With read interest off, a hang-up of the peer is still reported
// as EventHangup on Linux; on the BSDs it shows once reads resume.
// Loop goroutine only.
func (l *Loop) SetInterest(fd int, read, write bool) error {
	return l.p.setInterest(fd, read, write)
}

// Unregister removes fd from the loop. Call it before closing fd. Loop
// goroutine only.
func (l *Loop) Unregister(fd int) error {
	if fd < len(l.handlers) && l.handlers[fd] != nil {
		l.handlers[fd] = nil
		l.count--
	}
	return l.p.del(fd)
}

// Handler returns the handler registered for fd, or nil. Loop goroutine only.
func (l *Loop) Handler(fd int) Handler {
	if fd < 0 || fd >= len(l.handlers) {
		return nil
	}
	return l.handlers[fd]
}

// Range calls fn for every registered descriptor until fn returns false.
// fn may unregister the descriptor it is given. Loop goroutine only.
func (l *Loop) Range(fn func(fd int, h Handler) bool) {
	for fd, h := range l.handlers {
		if h != nil && !fn(fd, h) {
			return
		}
	}
}

// Submit queues fn to run on the loop goroutine and wakes the loop. It is
// safe from any goroutine and never blocks on the loop. It reports false if
// the loop is closed, in which case fn will not run.
func (l *Loop) Submit(fn func()) bool {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return false
	}
	first := len(l.tasks) == 0
	l.tasks = append(l.tasks, fn)
	l.mu.Unlock()
	if first {
		l.p.wake()
	}
	return true
}

func (l *Loop) run() {
	defer close(l.done)
	var (
		evs     []readyEvent
		pending []func()
		wait    = -1
		err     error
	)
	for {
		evs, err = l.p.wait(evs[:0], wait)
		start := time.Now()
		l.now = start
		if err != nil {
			// epoll_wait and kevent fail only on programming errors
			// (EBADF, EINVAL); there is nothing to wait on any more.
			return
		}
		for _, e := range evs {
			if e.fd < len(l.handlers) {
				if h := l.handlers[e.fd]; h != nil {
					h.OnEvent(e.ev)
				}
			}
		}

		l.mu.Lock()
		pending, l.tasks = l.tasks, pending[:0]
		closing := l.closing
		l.mu.Unlock()
		for i, fn := range pending {
			fn()
			pending[i] = nil
		}
		if closing {
			l.p.close()
			return
		}

		wait = -1
		if l.tick != nil {
			now := time.Now()
			if d := l.tick(l, now); d >= 0 {
				wait = int((d + time.Millisecond - 1) / time.Millisecond)
			}
		}
		l.busyNanos.Add(int64(time.Since(start)))
	}
}

// closeUnstarted marks a loop that never ran closed and frees its poller.
func (l *Loop) closeUnstarted() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.p.close()
}

// close stops the loop after the tasks already submitted have run and waits
// for its goroutine to end. Descriptors still registered are not closed:
// they belong to whoever registered them.
func (l *Loop) close() {
	l.mu.Lock()
	already := l.closing
	l.closing = true
	l.mu.Unlock()
	if !already {
		l.p.wake()
	}
	<-l.done
}
