//go:build linux

package netpoll

import (
	"golang.org/x/sys/unix"
)

// epoll is the Linux poller: one epoll instance plus an eventfd that other
// goroutines write to when they need the loop's attention.
type epoll struct {
	epfd   int
	wakefd int
	raw    []unix.EpollEvent
}

const (
	epollRead  = unix.EPOLLIN | unix.EPOLLRDHUP
	epollWrite = unix.EPOLLOUT
)

func newPoller() (poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	p := &epoll{epfd: epfd, wakefd: wakefd, raw: make([]unix.EpollEvent, 256)}
	if err := p.add(wakefd); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *epoll) add(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: epollRead, Fd: int32(fd)})
}

func (p *epoll) setInterest(fd int, read, write bool) error {
	ev := unix.EpollEvent{Fd: int32(fd)}
	if read {
		ev.Events |= epollRead
	} else {
		// Still hear of a peer that hangs up while input is paused.
		ev.Events |= unix.EPOLLRDHUP
	}
	if write {
		ev.Events |= epollWrite
	}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

func (p *epoll) del(fd int) error {
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

func (p *epoll) wait(evs []readyEvent, msec int) ([]readyEvent, error) {
	n, err := unix.EpollWait(p.epfd, p.raw, msec)
	if err != nil {
		if err == unix.EINTR {
			return evs, nil
		}
		return evs, err
	}
	for i := 0; i < n; i++ {
		r := &p.raw[i]
		fd := int(r.Fd)
		if fd == p.wakefd {
			var buf [8]byte
			unix.Read(p.wakefd, buf[:])
			continue
		}
		var ev Event
		if r.Events&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
			ev |= EventRead
		}
		if r.Events&unix.EPOLLRDHUP != 0 {
			ev |= EventRead | EventHangup
		}
		if r.Events&unix.EPOLLOUT != 0 {
			ev |= EventWrite
		}
		if r.Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			ev |= EventHangup | EventRead
		}
		evs = append(evs, readyEvent{fd: fd, ev: ev})
	}
	if n == len(p.raw) && len(p.raw) < 4096 {
		p.raw = make([]unix.EpollEvent, 2*len(p.raw))
	}
	return evs, nil
}

func (p *epoll) wake() error {
	one := [8]byte{1}
	_, err := unix.Write(p.wakefd, one[:])
	if err == unix.EAGAIN {
		// The counter is already non-zero: the loop will wake anyway.
		return nil
	}
	return err
}

func (p *epoll) close() error {
	unix.Close(p.wakefd)
	return unix.Close(p.epfd)
}
