package netpoll

import "errors"

// ErrClosed is returned by operations on a Loop, Group or Listener that has
// been closed.
var ErrClosed = errors.New("netpoll: closed")

// ErrUnsupported is returned by NewGroup on systems with neither epoll nor
// kqueue.
var ErrUnsupported = errors.New("netpoll: no epoll or kqueue on this system")
