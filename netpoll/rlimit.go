package netpoll

import "golang.org/x/sys/unix"

// RaiseFDLimit raises the soft limit on open descriptors to the hard limit
// and returns the limit now in force. A server holding one descriptor per
// connection calls it once at start-up.
func RaiseFDLimit() (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= lim.Max {
		return uint64(lim.Cur), nil
	}
	want := lim
	want.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
		return uint64(lim.Cur), err
	}
	return uint64(want.Cur), nil
}
