//go:build darwin || freebsd

package netpoll

import (
	"golang.org/x/sys/unix"
)

// kqueue is the BSD poller. Reads are a level-triggered EVFILT_READ filter;
// writes an EVFILT_WRITE filter enabled only while bytes wait; wake-ups a
// user event (EVFILT_USER) triggered from other goroutines.
type kqueue struct {
	kq  int
	raw []unix.Kevent_t
}

const wakeIdent = 0

func newPoller() (poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	p := &kqueue{kq: kq, raw: make([]unix.Kevent_t, 256)}
	ev := []unix.Kevent_t{{Ident: wakeIdent, Filter: unix.EVFILT_USER, Flags: unix.EV_ADD | unix.EV_CLEAR}}
	if _, err := unix.Kevent(kq, ev, nil, nil); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

func (p *kqueue) ctl(fd int, filter int16, flags uint16) error {
	ev := []unix.Kevent_t{{Filter: filter, Flags: flags}}
	unix.SetKevent(&ev[0], fd, int(filter), int(flags))
	_, err := unix.Kevent(p.kq, ev, nil, nil)
	return err
}

func (p *kqueue) add(fd int) error {
	if err := p.ctl(fd, unix.EVFILT_READ, unix.EV_ADD); err != nil {
		return err
	}
	return p.ctl(fd, unix.EVFILT_WRITE, unix.EV_ADD|unix.EV_DISABLE)
}

func (p *kqueue) setInterest(fd int, read, write bool) error {
	toggle := func(on bool) uint16 {
		if on {
			return unix.EV_ENABLE
		}
		return unix.EV_DISABLE
	}
	if err := p.ctl(fd, unix.EVFILT_READ, toggle(read)); err != nil {
		return err
	}
	return p.ctl(fd, unix.EVFILT_WRITE, toggle(write))
}

func (p *kqueue) del(fd int) error {
	// Closing a descriptor removes its filters; deleting them explicitly
	// matters only when the descriptor stays open.
	err := p.ctl(fd, unix.EVFILT_READ, unix.EV_DELETE)
	p.ctl(fd, unix.EVFILT_WRITE, unix.EV_DELETE)
	return err
}

func (p *kqueue) wait(evs []readyEvent, msec int) ([]readyEvent, error) {
	var ts *unix.Timespec
	if msec >= 0 {
		t := unix.NsecToTimespec(int64(msec) * 1e6)
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.raw, ts)
	if err != nil {
		if err == unix.EINTR {
			return evs, nil
		}
		return evs, err
	}
	for i := 0; i < n; i++ {
		r := &p.raw[i]
		if r.Filter == unix.EVFILT_USER {
			continue
		}
		var ev Event
		switch r.Filter {
		case unix.EVFILT_READ:
			ev = EventRead
		case unix.EVFILT_WRITE:
			ev = EventWrite
		}
		if r.Flags&(unix.EV_EOF|unix.EV_ERROR) != 0 {
			ev |= EventHangup | EventRead
		}
		evs = append(evs, readyEvent{fd: int(r.Ident), ev: ev})
	}
	if n == len(p.raw) && len(p.raw) < 4096 {
		p.raw = make([]unix.Kevent_t, 2*len(p.raw))
	}
	return evs, nil
}

func (p *kqueue) wake() error {
	ev := []unix.Kevent_t{{Ident: wakeIdent, Filter: unix.EVFILT_USER, Fflags: unix.NOTE_TRIGGER}}
	_, err := unix.Kevent(p.kq, ev, nil, nil)
	return err
}

func (p *kqueue) close() error {
	return unix.Close(p.kq)
}
