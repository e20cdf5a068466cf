package load

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"
)

// errServerClosed reports that the server sent a close frame.
var errServerClosed = errors.New("load: server closed the connection")

// controlWait bounds a pong or close write. A peer that cannot take a few
// bytes within it is as good as gone.
const controlWait = 5 * time.Second

// answerControl does what a client owes the server for a control frame:
// a pong for a ping, a close for a close (then errServerClosed). payload is
// unmasked and may be modified.
func answerControl(nc net.Conn, op ws.OpCode, payload []byte) error {
	switch op {
	case ws.OpPing:
		return writeFrame(nc, ws.NewPongFrame(payload))
	case ws.OpClose:
		code, _ := ws.ParseCloseFrameData(payload)
		writeFrame(nc, ws.NewCloseFrame(ws.NewCloseFrameBody(code, "")))
		return errServerClosed
	}
	return nil // a pong: nothing to do
}

// writeFrame writes f masked, as every client frame must be.
func writeFrame(nc net.Conn, f ws.Frame) error {
	nc.SetWriteDeadline(time.Now().Add(controlWait))
	return ws.WriteFrame(nc, ws.MaskFrameInPlace(f))
}

// writeMessage writes payload as one masked binary frame, a fresh mask
// per message as RFC 6455 asks of a client, encoded in out (reset first)
// so that the payload itself stays as it is.
func writeMessage(nc net.Conn, out *bytes.Buffer, payload []byte) error {
	out.Reset()
	hdr := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: ws.NewMask(), Length: int64(len(payload))}
	ws.WriteHeader(out, hdr)
	start := out.Len()
	out.Write(payload)
	ws.Cipher(out.Bytes()[start:], hdr.Mask, 0)
	_, err := nc.Write(out.Bytes())
	return err
}

// echoBuffers returns what an echo loop of size-byte messages works with:
// a random payload, room for its echo, a frame buffer for writeMessage,
// and a reader that first replays what the handshake read past its
// response.
func (c *conn) echoBuffers(size int) (payload, got []byte, out *bytes.Buffer, in *bufio.Reader) {
	payload = make([]byte, size)
	rand.Read(payload)
	got = make([]byte, size)
	out = bytes.NewBuffer(make([]byte, 0, ws.MaxHeaderSize+size))
	in = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(c.pending), c.nc), max(512, min(size+ws.MaxHeaderSize, 64<<10)))
	c.pending = nil
	return payload, got, out, in
}

// closeConn says goodbye with a normal close frame, without waiting for the
// answer, and closes the socket.
func closeConn(nc net.Conn) {
	writeFrame(nc, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	nc.Close()
}
