// Package netpoll runs event loops over epoll (Linux) and kqueue (macOS,
// FreeBSD) so that a server can hold tens of thousands of sockets without a
// goroutine, a read buffer or a write buffer per socket.
//
// A Group owns one Loop per core. Each Loop is one goroutine blocked in
// epoll_wait or kevent; when a registered file descriptor becomes readable or
// writable, the loop calls that descriptor's Handler on the loop goroutine.
// A Listener accepts connections without blocking and hands each new socket
// to a callback, which usually registers it on the next loop of the group.
//
//	g, _ := netpoll.NewGroup(netpoll.Config{})
//	g.Start()
//	ln, _ := netpoll.Listen("tcp", "127.0.0.1:8080", g.Loop(0), func(fd int, sa unix.Sockaddr) {
//		l := g.Next()
//		l.Submit(func() { l.Register(fd, newHandler(fd)) })
//	}, netpoll.ListenerConfig{})
//	...
//	ln.Close()
//	g.Close()
//
// # Level-triggered, on purpose
//
// Descriptors are registered level-triggered for reading, and for writing
// only while a handler has bytes the kernel did not take. A handler reads at
// most one buffer per wake-up and returns; if more bytes wait, the kernel
// reports the descriptor again on the next round. That keeps loops fair (one
// busy client cannot starve the others on its loop), needs no "drain until
// EAGAIN" bookkeeping, and an idle socket costs nothing but its registration.
// Edge triggering would save one epoll_wait entry per busy socket per round,
// which no benchmark here has shown to matter.
//
// # Concurrency contract
//
// Handler methods, Register, SetInterest and Unregister run on the loop's own
// goroutine and must never block: no locks held across I/O, no channel sends
// that can wait, no syscalls other than non-blocking socket I/O. Work from
// other goroutines reaches a loop through Submit, which is goroutine-safe and
// wakes the loop. Close on a Group or Listener is safe to call twice.
package netpoll
