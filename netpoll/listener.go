package netpoll

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// AcceptFunc receives each accepted socket: non-blocking, close-on-exec, with
// TCP_NODELAY set. It runs on the listener's loop goroutine; it owns fd from
// then on.
type AcceptFunc func(fd int, sa unix.Sockaddr)

// ListenerConfig tunes a Listener. The zero value is usable.
type ListenerConfig struct {
	// Backlog is the listen(2) backlog. Zero means 4096 (the kernel caps it
	// at net.core.somaxconn).
	Backlog int

	// AcceptBatch bounds how many connections one readiness event accepts
	// before the loop serves its other descriptors. Zero means 128.
	AcceptBatch int

	// MaxPause is the longest accept pause after the process or system ran
	// out of descriptors (EMFILE/ENFILE). Pauses start at 5 ms and double.
	// Zero means 1 s.
	MaxPause time.Duration
}

// ListenerStats are a Listener's counters. All fields are cumulative.
type ListenerStats struct {
	Accepted uint64
	// RefusedFDLimit counts connections accepted only to be closed at once
	// because the process had no descriptor to spare for them.
	RefusedFDLimit uint64
	// Pauses counts the times accept paused because descriptors ran out
	// and even the reserve descriptor could not be used.
	Pauses uint64
	// AcceptErrors counts other accept failures (ECONNABORTED and the like).
	AcceptErrors uint64
}

// Listener accepts TCP connections on a loop without ever blocking it.
//
// When the process runs out of descriptors, accept fails with EMFILE and the
// pending connection stays in the kernel's queue, so a level-triggered loop
// would spin on it. The listener keeps one reserve descriptor open for that
// moment: it closes the reserve, accepts the pending connection, closes it
// (the client sees its connection refused at once instead of hanging), and
// takes the reserve again. If even that fails, it stops watching the
// listening socket and retries after a pause that doubles up to MaxPause,
// while every other connection keeps being served.
type Listener struct {
	fd       int
	addr     net.Addr
	loop     *Loop
	onAccept AcceptFunc
	cfg      ListenerConfig

	// Loop goroutine only.
	reserve  int
	paused   bool
	pause    time.Duration
	resumeAt *time.Timer

	accepted  atomic.Uint64
	refused   atomic.Uint64
	pauses    atomic.Uint64
	acceptErr atomic.Uint64

	closeOnce sync.Once
	closed    atomic.Bool
}

// Listen opens a listening TCP socket on address (as for net.Listen) and
// watches it on loop. Accepted sockets go to onAccept.
func Listen(network, address string, loop *Loop, onAccept AcceptFunc, cfg ListenerConfig) (*Listener, error) {
	if cfg.Backlog <= 0 {
		cfg.Backlog = 4096
	}
	if cfg.AcceptBatch <= 0 {
		cfg.AcceptBatch = 128
	}
	if cfg.MaxPause <= 0 {
		cfg.MaxPause = time.Second
	}
	// net.Listen does the address parsing, dual-stack set-up and
	// SO_REUSEADDR; we then take a private copy of its descriptor and let
	// the runtime's poller forget the original.
	nl, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	tl, ok := nl.(*net.TCPListener)
	if !ok {
		nl.Close()
		return nil, errors.New("netpoll: only TCP listeners are supported")
	}
	f, err := tl.File()
	addr := nl.Addr()
	nl.Close()
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// The File copy was blocking-mode; listen again to apply our backlog.
	if err := unix.Listen(fd, cfg.Backlog); err != nil {
		unix.Close(fd)
		return nil, err
	}
	ln := &Listener{fd: fd, addr: addr, loop: loop, onAccept: onAccept, cfg: cfg, reserve: openReserve()}
	done := make(chan error, 1)
	if !loop.Submit(func() { done <- loop.Register(fd, ln) }) {
		ln.closeFDs()
		return nil, ErrClosed
	}
	if err := <-done; err != nil {
		ln.closeFDs()
		return nil, err
	}
	return ln, nil
}

// Addr is the address the listener is bound to (with the real port when
// the requested one was 0).
func (ln *Listener) Addr() net.Addr { return ln.addr }

// Stats returns the listener's counters.
func (ln *Listener) Stats() ListenerStats {
	return ListenerStats{
		Accepted:       ln.accepted.Load(),
		RefusedFDLimit: ln.refused.Load(),
		Pauses:         ln.pauses.Load(),
		AcceptErrors:   ln.acceptErr.Load(),
	}
}

// OnEvent accepts up to AcceptBatch pending connections.
func (ln *Listener) OnEvent(Event) {
	for i := 0; i < ln.cfg.AcceptBatch; i++ {
		fd, sa, err := accept(ln.fd)
		switch {
		case err == nil:
			ln.accepted.Add(1)
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			ln.pause = 0
			ln.onAccept(fd, sa)
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR:
		case err == unix.EMFILE || err == unix.ENFILE:
			if !ln.refuseOne() {
				ln.pauseAccept()
				return
			}
		default:
			// ECONNABORTED, EPROTO, ENOBUFS…: one connection failed, not the
			// listener.
			ln.acceptErr.Add(1)
			if err == unix.ENOBUFS || err == unix.ENOMEM {
				ln.pauseAccept()
				return
			}
		}
	}
}

// refuseOne spends the reserve descriptor to accept and close one pending
// connection. It reports false if no reserve was available.
func (ln *Listener) refuseOne() bool {
	if ln.reserve < 0 {
		ln.reserve = openReserve()
		if ln.reserve < 0 {
			return false
		}
	}
	unix.Close(ln.reserve)
	ln.reserve = -1
	fd, _, err := accept(ln.fd)
	if err == nil {
		// Reset rather than FIN: the client learns at once that it was
		// refused, and no TIME_WAIT is left behind.
		unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		unix.Close(fd)
		ln.refused.Add(1)
	}
	ln.reserve = openReserve()
	return err == nil && ln.reserve >= 0
}

// pauseAccept stops watching the listening socket and schedules a resume.
// Loop goroutine only.
func (ln *Listener) pauseAccept() {
	if ln.paused || ln.closed.Load() {
		return
	}
	ln.pauses.Add(1)
	ln.paused = true
	ln.loop.Unregister(ln.fd)
	ln.pause = min(max(2*ln.pause, 5*time.Millisecond), ln.cfg.MaxPause)
	ln.resumeAt = time.AfterFunc(ln.pause, func() {
		ln.loop.Submit(func() {
			if !ln.paused || ln.closed.Load() {
				return
			}
			ln.paused = false
			if err := ln.loop.Register(ln.fd, ln); err != nil {
				ln.pauseAccept()
			}
		})
	})
}

// Close stops accepting and closes the listening socket. Connections already
// accepted are not affected. Safe to call more than once and from any
// goroutine.
func (ln *Listener) Close() error {
	ln.closeOnce.Do(func() {
		ln.closed.Store(true)
		done := make(chan struct{})
		if ln.loop.Submit(func() {
			if ln.resumeAt != nil {
				ln.resumeAt.Stop()
			}
			if !ln.paused {
				ln.loop.Unregister(ln.fd)
			}
			ln.closeFDs()
			close(done)
		}) {
			<-done
		} else {
			ln.closeFDs()
		}
	})
	return nil
}

func (ln *Listener) closeFDs() {
	unix.Close(ln.fd)
	if ln.reserve >= 0 {
		unix.Close(ln.reserve)
		ln.reserve = -1
	}
}

func openReserve() int {
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}
