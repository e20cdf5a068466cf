//go:build darwin

package netpoll

import "golang.org/x/sys/unix"

// Darwin has no accept4: set the flags after the fact. The window between
// accept and CloseOnExec only matters to a concurrent fork/exec, which the
// runtime guards with syscall.ForkLock.
func accept(lfd int) (int, unix.Sockaddr, error) {
	fd, sa, err := unix.Accept(lfd)
	if err != nil {
		return -1, nil, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, sa, nil
}
