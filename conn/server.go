package conn

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/gatecast/gatecast/netpoll"
)

// readBufferBytes is the size of each loop's shared read buffer: one read
// per readiness event takes at most this much from one socket.
const readBufferBytes = 64 << 10

// smallWriteBytes is the size of each loop's scratch buffer for frames
// small enough to copy rather than writev.
const smallWriteBytes = 4 << 10

// Server accepts WebSocket connections and runs them on event loops.
// Its methods are goroutine-safe.
type Server struct {
	cfg            Config
	handler        Handler
	idleEnd        Disconnect     // sent when the idle timeout passes
	lifetimeEnd    Disconnect     // sent when MaxLifetime is reached
	connectHandler ConnectHandler // handler, if it decides on upgrades
	group          *netpoll.Group
	loops          []*loopState
	epoch          time.Time

	mu  sync.Mutex
	lns []*netpoll.Listener // guarded by mu

	admitted  atomic.Int64 // connections holding one of cfg.MaxConns
	nextID    atomic.Uint64
	open      atomic.Int64 // connections past the handshake and not closed
	live      atomic.Int64 // accepted sockets on the loops, not yet closed
	handedOff atomic.Int64 // sockets handed to Config.HTTP, not yet closed
	tlsConfig *tls.Config  // cfg.TLS, with a key log per connection
	stopping  atomic.Bool
	stopOnce  sync.Once
}

// loopState is what a Server keeps per event loop. Loop goroutine only,
// except stats.
type loopState struct {
	srv  *Server
	loop *netpoll.Loop

	rbuf []byte               // shared read buffer
	hdr  [maxHeaderBytes]byte // scratch for the header of the frame being written
	wbuf []byte               // scratch for small writes
	iov  [][]byte             // scratch for writev

	handshakes deadlineList
	closings   deadlineList
	slow       deadlineList
	wheel      wheel
	warm       warmList

	upgrader ws.Upgrader
	head     headIO
	req      Request // the upgrade request being read, for OnConnect
	arena    []byte  // bytes of req
	resp     []byte  // scratch for refusal responses
	draining bool

	stats loopStats
}

type loopStats struct {
	framesIn, framesOut    atomic.Uint64
	bytesIn, bytesOut      atomic.Uint64
	messagesIn             atomic.Uint64
	slowConsumers, dropped atomic.Uint64
	closeTimeouts          atomic.Uint64
	idleTimeouts           atomic.Uint64
	lifetimeEnds           atomic.Uint64
	refusedByHandler       atomic.Uint64
	handedOff              atomic.Uint64
	handOffErrors          atomic.Uint64
	tlsStayed, tlsErrors   atomic.Uint64
	refused                [len(refusalReasons)]atomic.Uint64
	_                      [64]byte // keep loops' counters off each other's cache lines
}

// NewServer checks cfg, fills its defaults and starts the event loops.
// Call Listen to start accepting.
func NewServer(cfg Config, h Handler) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, handler: h, epoch: time.Now()}
	if cfg.TLS != nil {
		s.tlsConfig = withKeyLog(cfg.TLS)
	}
	s.idleEnd = Disconnect{Code: ws.StatusGoingAway, Reason: "idle timeout: no message for " + cfg.IdleTimeout.String()}
	s.lifetimeEnd = Disconnect{Code: ws.StatusGoingAway, Reason: "maximum connection duration of " + cfg.MaxLifetime.String() + " reached"}
	g, err := netpoll.NewGroup(netpoll.Config{Loops: cfg.Loops, Tick: s.tick})
	if err != nil {
		return nil, err
	}
	s.group = g
	s.connectHandler, _ = h.(ConnectHandler)
	for i := 0; i < g.Len(); i++ {
		ls := &loopState{
			srv:  s,
			loop: g.Loop(i),
			rbuf: make([]byte, readBufferBytes),
			wbuf: make([]byte, smallWriteBytes),
			iov:  make([][]byte, 0, maxIovecs),
		}
		ls.upgrader = newUpgrader(ls, &s.cfg)
		s.loops = append(s.loops, ls)
	}
	// Only now may the loops tick: tick reads s.loops.
	g.Start()
	return s, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Listen starts accepting on address (as for net.Listen, "tcp").
func (s *Server) Listen(network, address string) error {
	if s.stopping.Load() {
		return ErrClosed
	}
	acceptLoop := s.group.Loop(0)
	ln, err := netpoll.Listen(network, address, acceptLoop, s.accept, netpoll.ListenerConfig{})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		ln.Close()
		return ErrClosed
	}
	s.lns = append(s.lns, ln)
	return nil
}

// Addr is the address of the first listener, or nil before Listen. A
// server may listen on several addresses (say, IPv4 and IPv6).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return nil
	}
	return s.lns[0].Addr()
}

func (ls *loopState) now() int64 { return int64(time.Since(ls.srv.epoch)) }

// loopNow is the start of the loop's current round on the server's clock:
// the stamp for per-message bookkeeping.
func (ls *loopState) loopNow() int64 { return int64(ls.loop.Now().Sub(ls.srv.epoch)) }

// admit takes one of MaxConns, or reports false if none is left. The
// compare-and-swap never lets the count pass the cap, whatever the loops
// do at the same time.
func (s *Server) admit() bool {
	for {
		n := s.admitted.Load()
		if n >= int64(s.cfg.MaxConns) {
			return false
		}
		if s.admitted.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// sessionDue is the next session deadline of an open connection, or -1
// if neither timer is on.
func (c *Conn) sessionDue() int64 {
	cfg := &c.ls.srv.cfg
	due := int64(-1)
	if cfg.IdleTimeout > 0 {
		due = c.lastActive + int64(cfg.IdleTimeout)
	}
	if cfg.MaxLifetime > 0 {
		if end := c.openedAt + int64(cfg.MaxLifetime); due < 0 || end < due {
			due = end
		}
	}
	return due
}

// sessionExpired runs when a connection's filed session deadline passes.
func (ls *loopState) sessionExpired(c *Conn, now int64) {
	if c.state != stateOpen {
		return
	}
	cfg := &ls.srv.cfg
	switch {
	case cfg.MaxLifetime > 0 && c.openedAt+int64(cfg.MaxLifetime) <= now:
		ls.stats.lifetimeEnds.Add(1)
		c.startClose(&ls.srv.lifetimeEnd)
	case cfg.IdleTimeout > 0 && c.lastActive+int64(cfg.IdleTimeout) <= now:
		ls.stats.idleTimeouts.Add(1)
		c.startClose(&ls.srv.idleEnd)
	default:
		ls.wheel.add(c, c.sessionDue())
	}
}

// A connection id packs a sequence number (high 32 bits), the loop index
// (8 bits) and the descriptor (24 bits). Lookup finds the connection in
// its loop's descriptor table, so no map of connections is needed; the
// sequence number tells a live connection from an earlier one that had
// the same descriptor.
func makeID(seq uint64, loop, fd int) uint64 {
	return seq<<32 | uint64(loop&0xff)<<24 | uint64(fd&0xffffff)
}

func splitID(id uint64) (loop, fd int) {
	return int(id >> 24 & 0xff), int(id & 0xffffff)
}

// Lookup runs fn on the loop goroutine of the connection with this id,
// with the connection, or with nil if it is closed or never existed.
// The connection may be in its handshake (see Pending) or closing (see
// Open). It reports false if fn will not run because the id names no loop
// or the server is shut down. Safe from any goroutine.
func (s *Server) Lookup(id uint64, fn func(c *Conn)) bool {
	li, fd := splitID(id)
	if li >= len(s.loops) {
		return false
	}
	ls := s.loops[li]
	return ls.loop.Submit(func() {
		c, _ := ls.loop.Handler(fd).(*Conn)
		if c == nil || c.id != id || c.state == stateClosed {
			c = nil
		}
		fn(c)
	})
}

// Issued reports whether id was ever given to a connection of this
// server, so that a caller can tell "ended" from "never existed".
func (s *Server) Issued(id uint64) bool {
	seq := id >> 32
	li, _ := splitID(id)
	return seq != 0 && seq <= s.nextID.Load() && li < len(s.loops)
}

// Loops is the number of event loops.
func (s *Server) Loops() int { return len(s.loops) }

// RunOnLoop runs fn on loop i's goroutine: the way to reach every
// connection of a loop (a topic fan-out keeps one member list per loop).
// It reports false if the server is shut down. Safe from any goroutine.
func (s *Server) RunOnLoop(i int, fn func()) bool {
	return s.loops[i].loop.Submit(fn)
}

// accept runs on the accepting loop for every new socket.
func (s *Server) accept(fd int, sa unix.Sockaddr) {
	// Only this loop adds to live, so the check cannot be overtaken.
	if s.live.Load()+s.handedOff.Load() >= int64(s.cfg.MaxSockets) {
		s.loops[0].stats.refused[refusalIndex(RefusedMaxSockets)].Add(1)
		resetClose(fd)
		return
	}
	s.live.Add(1)
	l := s.group.Next()
	ls := s.loops[l.ID()]
	c := &Conn{fd: int32(fd), id: makeID(s.nextID.Add(1), l.ID(), fd), remote: addrPort(sa), ls: ls}
	if l == s.group.Loop(0) {
		ls.register(c)
		return
	}
	if !l.Submit(func() { ls.register(c) }) {
		unix.Close(fd)
		s.live.Add(-1)
	}
}

func (ls *loopState) register(c *Conn) {
	if ls.draining {
		ls.stats.refused[refusalIndex(RefusedShuttingDown)].Add(1)
		unix.Close(int(c.fd))
		c.state = stateClosed
		ls.srv.live.Add(-1)
		return
	}
	if err := ls.loop.Register(int(c.fd), c); err != nil {
		unix.Close(int(c.fd))
		c.state = stateClosed
		ls.srv.live.Add(-1)
		return
	}
	ls.handshakes.push(c, ls.now()+int64(ls.srv.cfg.HandshakeTimeout))
	if cfg := ls.srv.tlsConfig; cfg != nil {
		c.startTLS(cfg)
	}
}

// tick expires deadlines on loop l and says when it needs to run again.
func (s *Server) tick(l *netpoll.Loop, now time.Time) time.Duration {
	ls := s.loops[l.ID()]
	t := int64(now.Sub(s.epoch))
	ls.handshakes.expire(t, ls.handshakeExpired)
	ls.slow.expire(t, ls.slowExpired)
	ls.wheel.advance(t, func(c *Conn) { ls.sessionExpired(c, t) })
	// After the slow list and the wheel: a connection they close starts
	// its close handshake and joins the closing list.
	ls.closings.expire(t, ls.closeExpired)
	next := ls.wheel.next()
	if w := ls.warm.cool(t); w >= 0 && (next < 0 || w < next) {
		next = w
	}
	for _, l := range [...]*deadlineList{&ls.handshakes, &ls.closings, &ls.slow} {
		if l.head != nil && (next < 0 || l.head.deadline < next) {
			next = l.head.deadline
		}
	}
	if next < 0 {
		return -1
	}
	return time.Duration(max(next-t, 0))
}

func (ls *loopState) handshakeExpired(c *Conn) {
	ls.stats.refused[refusalIndex(RefusedHandshakeTimeout)].Add(1)
	c.closeNow()
}

func (ls *loopState) closeExpired(c *Conn) {
	ls.stats.closeTimeouts.Add(1)
	c.closeNow()
}

func (ls *loopState) slowExpired(c *Conn) {
	if c.flags&flagSlow != 0 && c.state == stateOpen {
		c.startClose(&DisconnectSlowConsumer)
	}
}

// Stats are a Server's counters and gauges, summed over its loops.
type Stats struct {
	Open    int64 // connections open (handshake done, not closed)
	Sockets int64 // accepted sockets on the loops not yet closed, in any state
	// HTTPSockets are sockets handed to Config.HTTP and not yet closed;
	// HandedOff counts hand-offs, HandOffErrors the ones that failed.
	HTTPSockets              int64
	HandedOff, HandOffErrors uint64
	// TLSStayed counts TLS 1.3 connections that stayed with crypto/tls
	// after the handshake (its records could not be followed; expected
	// 0), TLSErrors connections ended by a broken TLS record or a fatal
	// alert after the handshake.
	TLSStayed, TLSErrors uint64
	FramesIn             uint64
	FramesOut            uint64
	BytesIn              uint64
	BytesOut             uint64
	MessagesIn           uint64
	SlowConsumers        uint64 // times a connection's write queue went over its bound
	Dropped              uint64 // messages dropped because a write queue was full
	CloseTimeouts        uint64 // close handshakes the peer did not finish in time
	// RefusedByHandler counts upgrades the ConnectHandler refused.
	RefusedByHandler uint64
	// Admitted is the number of connections holding one of MaxConns
	// (waiting for a verdict or open).
	Admitted int64
	// IdleTimeouts and LifetimeEnds count connections closed with 1001
	// for no message within IdleTimeout, and for reaching MaxLifetime.
	IdleTimeouts, LifetimeEnds uint64
	// Refused counts refused handshakes by reason (the Refused* constants).
	Refused  map[string]uint64
	Listener netpoll.ListenerStats
	LoopBusy time.Duration
}

// Stats sums the counters of all loops.
func (s *Server) Stats() Stats {
	st := Stats{
		Open:        s.open.Load(),
		Sockets:     s.live.Load(),
		HTTPSockets: s.handedOff.Load(),
		Admitted:    s.admitted.Load(),
		Refused:     make(map[string]uint64, len(refusalReasons)),
		LoopBusy:    s.group.BusyTime(),
	}
	for _, ls := range s.loops {
		x := &ls.stats
		st.FramesIn += x.framesIn.Load()
		st.FramesOut += x.framesOut.Load()
		st.BytesIn += x.bytesIn.Load()
		st.BytesOut += x.bytesOut.Load()
		st.MessagesIn += x.messagesIn.Load()
		st.SlowConsumers += x.slowConsumers.Load()
		st.Dropped += x.dropped.Load()
		st.CloseTimeouts += x.closeTimeouts.Load()
		st.RefusedByHandler += x.refusedByHandler.Load()
		st.HandedOff += x.handedOff.Load()
		st.HandOffErrors += x.handOffErrors.Load()
		st.TLSStayed += x.tlsStayed.Load()
		st.TLSErrors += x.tlsErrors.Load()
		st.IdleTimeouts += x.idleTimeouts.Load()
		st.LifetimeEnds += x.lifetimeEnds.Load()
		for i, r := range refusalReasons {
			st.Refused[r] += x.refused[i].Load()
		}
	}
	s.mu.Lock()
	for _, ln := range s.lns {
		ls := ln.Stats()
		st.Listener.Accepted += ls.Accepted
		st.Listener.RefusedFDLimit += ls.RefusedFDLimit
		st.Listener.Pauses += ls.Pauses
		st.Listener.AcceptErrors += ls.AcceptErrors
	}
	s.mu.Unlock()
	return st
}

// Shutdown stops accepting, sends close 1001 to every open connection and
// waits for the close handshakes. When ctx ends first, the remaining
// sockets are closed at once and ctx.Err() is returned. The event loops
// stop before Shutdown returns. Safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopping.Store(true)
		lns := s.lns
		s.mu.Unlock()
		for _, ln := range lns {
			ln.Close()
		}
		for _, ls := range s.loops {
			ls.loop.Submit(ls.drain)
		}
	})
	var err error
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for s.live.Load() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
		}
	}
	if err != nil {
		done := make(chan struct{}, len(s.loops))
		for _, ls := range s.loops {
			if !ls.loop.Submit(func() { ls.closeAll(); done <- struct{}{} }) {
				done <- struct{}{}
			}
		}
		for range s.loops {
			<-done
		}
	}
	s.group.Close()
	return err
}

// drain starts closing every connection of the loop.
func (ls *loopState) drain() {
	ls.draining = true
	ls.loop.Range(func(_ int, h netpoll.Handler) bool {
		if c, ok := h.(*Conn); ok {
			if c.state == stateOpen {
				c.startClose(&DisconnectShutdown)
			} else if c.state == stateHandshake {
				ls.stats.refused[refusalIndex(RefusedShuttingDown)].Add(1)
				c.closeNow()
			}
		}
		return true
	})
}

func (ls *loopState) closeAll() {
	ls.draining = true
	ls.loop.Range(func(_ int, h netpoll.Handler) bool {
		if c, ok := h.(*Conn); ok {
			if c.why == nil {
				c.why = &DisconnectShutdown
			}
			c.closeNow()
		}
		return true
	})
}

func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// resetClose closes fd with a TCP reset: the client learns at once that it
// was refused, and no TIME_WAIT is left behind.
func resetClose(fd int) {
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	unix.Close(fd)
}
