package conn

import (
	"errors"
	"fmt"

	"github.com/gobwas/ws"
)

// Disconnect is why a connection ended: the close code it sent or received
// and the reason given with it.
//
// Clients should reconnect (with back-off) after 1001 (going away: the server
// is shutting down or the session ended) and 1006 (the connection was lost);
// they should not reconnect unchanged after 1002, 1007, 1008 or 1009, which
// say the client did something the server will refuse again.
type Disconnect struct {
	Code   ws.StatusCode
	Reason string
	// ByPeer is true when the client sent the close frame first.
	ByPeer bool
}

func (d Disconnect) Error() string {
	if d.Reason == "" {
		return fmt.Sprintf("websocket closed: %d", d.Code)
	}
	return fmt.Sprintf("websocket closed: %d %s", d.Code, d.Reason)
}

// The disconnects the server itself decides on.
var (
	DisconnectShutdown      = Disconnect{Code: ws.StatusGoingAway, Reason: "server shutting down"}
	DisconnectSlowConsumer  = Disconnect{Code: ws.StatusPolicyViolation, Reason: "slow consumer: messages were not read in time"}
	DisconnectFrameTooBig   = Disconnect{Code: ws.StatusMessageTooBig, Reason: "frame too big"}
	DisconnectMessageTooBig = Disconnect{Code: ws.StatusMessageTooBig, Reason: "message too big"}
	DisconnectBadUTF8       = Disconnect{Code: ws.StatusInvalidFramePayloadData, Reason: "text message is not valid UTF-8"}
	// DisconnectAbnormal is reported when the TCP connection ended without a
	// close handshake; it is never sent on the wire.
	DisconnectAbnormal = Disconnect{Code: ws.StatusAbnormalClosure, Reason: "connection lost"}
)

func protocolError(reason string) Disconnect {
	return Disconnect{Code: ws.StatusProtocolError, Reason: reason}
}

// ErrNotOpen is returned by WriteMessage on a connection that is not open.
var ErrNotOpen = errors.New("conn: connection is not open")

// ErrSlowConsumer is returned by WriteMessage when the message was dropped
// because the connection's write queue is full.
var ErrSlowConsumer = errors.New("conn: write queue full, message dropped (slow consumer)")

// ErrDeferred is returned by ConnectHandler.OnConnect to decide on the
// upgrade later, with Conn.Accept or Conn.Refuse.
var ErrDeferred = errors.New("conn: upgrade deferred")

// ErrClosed is returned by Listen after Shutdown.
var ErrClosed = errors.New("conn: server is shut down")
