//go:build darwin || freebsd

package netpoll

import "golang.org/x/sys/unix"

// Writev writes bufs to fd. x/sys/unix has no writev wrapper here, so this
// writes the buffers one after another and stops at the first short write,
// which keeps the semantics (a prefix of the bytes was written) at the cost
// of a system call per buffer.
func Writev(fd int, bufs [][]byte) (int, error) {
	total := 0
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		n, err := unix.Write(fd, b)
		if n > 0 {
			total += n
		}
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n < len(b) {
			break
		}
	}
	return total, nil
}
