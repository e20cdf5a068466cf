package netpoll

// Event says what the kernel reported for a descriptor.
type Event uint8

const (
	// EventRead means the descriptor is readable (data, EOF or a pending
	// error: a read will not block).
	EventRead Event = 1 << iota
	// EventWrite means the descriptor accepts writes again.
	EventWrite
	// EventHangup means the peer closed or the socket failed; a read
	// returns the EOF or the error.
	EventHangup
)

// readyEvent is one descriptor's readiness as the poller reports it.
type readyEvent struct {
	fd int
	ev Event
}

// poller is what each operating system provides: epoll on Linux, kqueue on
// the BSDs. Only the loop goroutine calls add, setInterest, del and wait;
// wake may be called from any goroutine.
type poller interface {
	add(fd int) error
	setInterest(fd int, read, write bool) error
	del(fd int) error
	// wait blocks up to msec milliseconds (-1: forever) and appends what is
	// ready to evs. A wake-up from wake is consumed inside and not reported.
	wait(evs []readyEvent, msec int) ([]readyEvent, error)
	wake() error
	close() error
}
