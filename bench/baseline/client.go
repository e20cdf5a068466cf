package baseline

import (
	"io"
	"time"

	"github.com/gorilla/websocket"
)

// The chat example's keep-alive, with a larger read limit for echo.
const (
	// Time allowed to write a message to the peer.
	writeWait = 10 * time.Second
	// Time allowed to read the next pong message from the peer.
	pongWait = 60 * time.Second
	// Send pings to peer with this period. Must be less than pongWait.
	pingPeriod = (pongWait * 9) / 10
	// Maximum message size allowed from peer.
	maxMessageSize = 128 << 10
	// Messages queued for the write pump.
	sendQueue = 256
)

// client is one connection and its two pumps.
//
// Each message on send carries its opcode in its first byte. The queue stays
// a chan []byte of 256 like the chat example's because its buffer (6 KiB)
// is allocated up front for every connection and is part of what the
// baseline is measured for; a struct element would make it 8 KiB.
type client struct {
	ws   *websocket.Conn
	send chan []byte
}

// readPump reads messages and queues them for the write pump. It is the
// only reader of ws and the only sender on send, so it closes send when it
// ends, which stops the write pump (the chat hub does that on unregister).
func (c *client) readPump(done func()) {
	defer func() {
		close(c.send)
		c.ws.Close()
		done()
	}()
	c.readMessages(func(msg []byte) bool {
		select {
		case c.send <- msg:
			return true
		default:
			return false // a client that does not read its echoes: drop it, as the chat hub does
		}
	})
}

// readMessages is the read loop of the gorilla chat example: read limit,
// pong deadline, then each message, tagged with its opcode, to handle
// until it returns false or the connection fails.
func (c *client) readMessages(handle func(msg []byte) bool) {
	c.ws.SetReadLimit(maxMessageSize)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { c.ws.SetReadDeadline(time.Now().Add(pongWait)); return nil })
	for {
		op, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		msg, err := readTagged(byte(op), r)
		if err != nil || !handle(msg) {
			return
		}
	}
}

// readTagged reads a message into a slice that starts with its opcode. It
// grows the slice as io.ReadAll does, so a message costs the same
// allocations as ws.ReadMessage.
func readTagged(op byte, r io.Reader) ([]byte, error) {
	b := make([]byte, 1, 512)
	b[0] = op
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// writePump writes queued messages and pings. It is the only writer of ws
// apart from Close.
func (c *client) writePump(done func()) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.ws.Close()
		done()
	}()
	for {
		select {
		case msg, ok := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.ws.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.ws.WriteMessage(int(msg[0]), msg[1:]); err != nil {
				return
			}
		case <-ticker.C:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}
