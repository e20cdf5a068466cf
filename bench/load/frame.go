package load

import (
	"errors"
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

// closeConn says goodbye with a normal close frame, without waiting for the
// answer, and closes the socket.
func closeConn(nc net.Conn) {
	writeFrame(nc, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	nc.Close()
}
