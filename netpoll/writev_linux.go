//go:build linux

package netpoll

import "golang.org/x/sys/unix"

// Writev writes bufs to fd with one writev(2) call.
func Writev(fd int, bufs [][]byte) (int, error) {
	return unix.Writev(fd, bufs)
}
