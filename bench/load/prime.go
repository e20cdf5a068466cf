package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/gobwas/ws"
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

	payload := make([]byte, size)
	rand.Read(payload)
	hdr := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: ws.NewMask(), Length: int64(size)}
	out := bytes.NewBuffer(make([]byte, 0, ws.MaxHeaderSize+size))
	ws.WriteHeader(out, hdr)
	start := out.Len()
	out.Write(payload)
	ws.Cipher(out.Bytes()[start:], hdr.Mask, 0)
	if _, err := c.nc.Write(out.Bytes()); err != nil {
		return fmt.Errorf("load: sending the priming message: %w", err)
	}

	in := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(c.pending), c.nc), min(size+ws.MaxHeaderSize, 64<<10))
	c.pending = nil
	got := make([]byte, size)
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
