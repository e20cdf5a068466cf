package netpoll

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes a Group. The zero value is one loop per GOMAXPROCS and no tick.
type Config struct {
	// Loops is the number of event loops. Zero means runtime.GOMAXPROCS(0).
	Loops int

	// Tick, if set, runs on each loop goroutine after every round of events
	// and submitted tasks, with the current time. It returns how long the
	// loop may wait for events before calling Tick again; a negative value
	// means "until something happens". Deadline lists hang off this hook
	// instead of one runtime timer per connection.
	Tick func(l *Loop, now time.Time) time.Duration
}

// Group is a fixed set of event loops, each with its own goroutine, and a
// round-robin choice among them for new descriptors.
type Group struct {
	loops     []*Loop
	next      atomic.Uint32
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
	started   atomic.Bool
}

// NewGroup creates the loops; Start runs them. In between, the owner
// builds whatever Config.Tick reads: a loop may tick as soon as it runs
// (an interrupted epoll_wait is a round too).
func NewGroup(cfg Config) (*Group, error) {
	n := cfg.Loops
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	g := &Group{}
	for i := 0; i < n; i++ {
		l, err := newLoop(i, cfg.Tick)
		if err != nil {
			for _, started := range g.loops {
				started.p.close()
			}
			return nil, err
		}
		g.loops = append(g.loops, l)
	}
	return g, nil
}

// Start runs each loop on its own goroutine. Safe to call more than once.
func (g *Group) Start() {
	g.startOnce.Do(func() {
		g.started.Store(true)
		for _, l := range g.loops {
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				l.run()
			}()
		}
	})
}

// Len is the number of loops.
func (g *Group) Len() int { return len(g.loops) }

// Loop returns loop i.
func (g *Group) Loop(i int) *Loop { return g.loops[i] }

// Next picks the loop for a new descriptor, round-robin.
func (g *Group) Next() *Loop {
	return g.loops[int(g.next.Add(1)-1)%len(g.loops)]
}

// BusyTime sums the busy time of all loops.
func (g *Group) BusyTime() time.Duration {
	var d time.Duration
	for _, l := range g.loops {
		d += l.BusyTime()
	}
	return d
}

// Close stops every loop after its submitted tasks have run, and waits for
// their goroutines. Safe to call more than once.
func (g *Group) Close() {
	g.closeOnce.Do(func() {
		g.startOnce.Do(func() {}) // a group closed before Start never starts
		for _, l := range g.loops {
			if g.started.Load() {
				l.close()
			} else {
				l.closeUnstarted()
			}
		}
		g.wg.Wait()
	})
}
