package netpoll

import (
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func newGroup(t *testing.T, cfg Config) *Group {
	t.Helper()
	g, err := NewGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.Start()
	t.Cleanup(g.Close)
	return g
}

// echoFD is a minimal handler: it writes back what it reads.
type echoFD struct {
	fd     int
	loop   *Loop
	closed atomic.Bool
}

func (e *echoFD) OnEvent(ev Event) {
	var buf [512]byte
	n, err := unix.Read(e.fd, buf[:])
	if err == unix.EAGAIN {
		return
	}
	if n <= 0 {
		e.loop.Unregister(e.fd)
		unix.Close(e.fd)
		e.closed.Store(true)
		return
	}
	unix.Write(e.fd, buf[:n])
}

func TestSubmitRunsOnLoopInOrder(t *testing.T) {
	g := newGroup(t, Config{Loops: 2})
	var got []int
	done := make(chan struct{})
	l := g.Loop(1)
	for i := 0; i < 100; i++ {
		l.Submit(func() { got = append(got, i) })
	}
	l.Submit(func() { close(done) })
	<-done
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran as %d", i, v)
		}
	}
	if len(got) != 100 {
		t.Fatalf("ran %d tasks, want 100", len(got))
	}
}

func TestGroupSpreadsRoundRobin(t *testing.T) {
	g := newGroup(t, Config{Loops: 3})
	seen := map[int]int{}
	for i := 0; i < 9; i++ {
		seen[g.Next().ID()]++
	}
	for id := 0; id < 3; id++ {
		if seen[id] != 3 {
			t.Fatalf("loop %d picked %d times, want 3: %v", id, seen[id], seen)
		}
	}
}

func TestCloseTwiceAndSubmitAfterClose(t *testing.T) {
	g, err := NewGroup(Config{Loops: 1})
	if err != nil {
		t.Fatal(err)
	}
	g.Start()
	g.Close()
	g.Close()
	if g.Loop(0).Submit(func() {}) {
		t.Fatal("Submit on a closed loop reported true")
	}
}

func TestTickRunsForDeadlines(t *testing.T) {
	var ticks atomic.Int32
	g := newGroup(t, Config{Loops: 1, Tick: func(l *Loop, now time.Time) time.Duration {
		if ticks.Add(1) < 5 {
			return time.Millisecond
		}
		return -1
	}})
	g.Loop(0).Submit(func() {})
	waitFor(t, "5 ticks", func() bool { return ticks.Load() >= 5 })
}

func listenEcho(t *testing.T, g *Group) (*Listener, *sync.Map) {
	t.Helper()
	var conns sync.Map
	ln, err := Listen("tcp", "127.0.0.1:0", g.Loop(0), func(fd int, _ unix.Sockaddr) {
		l := g.Next()
		h := &echoFD{fd: fd, loop: l}
		conns.Store(fd, h)
		l.Submit(func() { l.Register(fd, h) })
	}, ListenerConfig{MaxPause: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, &conns
}

func echoOnce(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := c.Read(buf); err != nil || string(buf) != msg {
		t.Fatalf("echo %q: got %q, %v", msg, buf, err)
	}
}

func TestListenerAcceptsAndEchoes(t *testing.T) {
	g := newGroup(t, Config{Loops: 2})
	ln, _ := listenEcho(t, g)
	for i := 0; i < 10; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		echoOnce(t, c, "hello")
		c.Close()
	}
	if got := ln.Stats().Accepted; got != 10 {
		t.Fatalf("accepted %d, want 10", got)
	}
	ln.Close()
	ln.Close()
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}

// exhaustFDs lowers the open-file soft limit to just above the highest
// descriptor now open and fills every hole below it, so that no descriptor
// is free. Both are undone when the test ends.
func exhaustFDs(t *testing.T) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	top := 0
	for _, e := range ents {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err == nil && fd > top {
			top = fd
		}
	}
	setSoftLimit(t, uint64(top+1))
	for {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		t.Cleanup(func() { unix.Close(fd) })
	}
}

// setSoftLimit sets the process's open-file soft limit for the test.
func setSoftLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	orig := lim
	lim.Cur = n
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &orig) })
}

// TestListenerEMFILE fills the backlog while the loop is held, then takes
// every spare descriptor away: the listener must refuse the pending
// connections with its reserve descriptor, keep serving the connection it
// already has, and accept again once descriptors are back.
func TestListenerEMFILE(t *testing.T) {
	g := newGroup(t, Config{Loops: 1})
	ln, _ := listenEcho(t, g)
	kept, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	echoOnce(t, kept, "before")

	gate := holdLoop(g.Loop(0))
	var pending []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pending = append(pending, c)
	}
	exhaustFDs(t)
	close(gate)

	waitFor(t, "5 refusals", func() bool { return ln.Stats().RefusedFDLimit >= 5 })
	for i, c := range pending {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("pending conn %d was served, want refused", i)
		}
	}
	echoOnce(t, kept, "during")
}

// holdLoop blocks l's goroutine until the returned channel is closed, so
// the test can arrange the kernel's state while the loop looks away.
func holdLoop(l *Loop) chan struct{} {
	gate, held := make(chan struct{}), make(chan struct{})
	l.Submit(func() {
		close(held)
		<-gate
	})
	<-held
	return gate
}

func TestListenerPausesWithoutReserve(t *testing.T) {
	g := newGroup(t, Config{Loops: 1})
	ln, _ := listenEcho(t, g)
	gate := holdLoop(g.Loop(0))
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// With the limit at the reserve's own number, spending the reserve
	// frees no usable descriptor: the listener must pause, not spin.
	exhaustFDs(t)
	setSoftLimit(t, uint64(ln.reserve))
	close(gate)
	waitFor(t, "an accept pause", func() bool { return ln.Stats().Pauses >= 1 })
	busy := g.Loop(0).BusyTime()
	time.Sleep(100 * time.Millisecond) // measure that the loop idles while paused
	if spent := g.Loop(0).BusyTime() - busy; spent > 50*time.Millisecond {
		t.Fatalf("loop busy %v of 100ms while paused: spinning", spent)
	}
	// Restoring the limit lets the pending connection in.
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max
	unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	waitFor(t, "the pending connection to be accepted", func() bool { return ln.Stats().Accepted >= 1 })
	echoOnce(t, c, "after")
}

func TestRaiseFDLimit(t *testing.T) {
	n, err := RaiseFDLimit()
	if err != nil {
		t.Fatal(err)
	}
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	if uint64(lim.Cur) != n || lim.Cur != lim.Max {
		t.Fatalf("limit %d (cur %d max %d), want cur == max", n, lim.Cur, lim.Max)
	}
}
