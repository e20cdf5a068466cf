package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"
)

// prime sends one binary message of size bytes on c and reads its echo,
// within timeout (or ctx's deadline, if sooner), so that the server has
// passed a message of that size on this connection before it goes idle.
// What the server sent behind the echo stays in c.pending for the sweep.
func (c *conn) prime(ctx context.Context, size int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})

	payload, got, out, in := c.echoBuffers(size)
	if err := writeMessage(c.nc, out, payload); err != nil {
		return fmt.Errorf("load: sending the priming message: %w", err)
	}

	if err := c.readEcho(in, got); err != nil {
		return fmt.Errorf("load: reading the priming message's echo: %w", err)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("load: echo of the %d-byte priming message differs from what was sent", size)
	}
	if n := in.Buffered(); n > 0 {
		c.pending = make([]byte, n)
		io.ReadFull(in, c.pending)
	}
	return nil
}
