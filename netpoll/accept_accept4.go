//go:build linux || freebsd

package netpoll

import "golang.org/x/sys/unix"

func accept(lfd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}
