//go:build !linux

package load

import (
	"context"
	"errors"
	"io"
)

// fanOut needs epoll; see fanout_linux.go.
func fanOut(ctx context.Context, conns []*conn, cfg ClientConfig, release <-chan struct{}, events io.Writer, ev *Event) error {
	closeAll(conns)
	return errors.New("load: fan-out mode runs on Linux only")
}
