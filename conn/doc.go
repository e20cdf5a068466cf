// Package conn is gatecast's WebSocket connection: the RFC 6455 state
// machine that runs on a netpoll event loop, on top of github.com/gobwas/ws.
//
// A Server accepts TCP connections on a netpoll.Listener, reads the HTTP
// upgrade request straight from the socket bytes, upgrades it with a
// gobwas/ws Upgrader, then parses frames in place: headers read from the
// loop's read buffer, payloads unmasked where they lie, fragments reassembled
// into a pooled buffer, text checked for UTF-8 (across fragments too), pings
// answered, the close handshake done in full. A Handler (the echo
// integration, later the broker) sees only open, message and close.
//
//	srv, _ := conn.NewServer(conn.Config{}, handler)
//	_ = srv.Listen("tcp", "127.0.0.1:8080")
//	...
//	_ = srv.Shutdown(ctx)
//
// # Life cycle of a connection
//
//		          accept
//		            │
//		            ▼
//		     ┌─ handshake ──(bad request, timeout)──────────────┐
//		     │      │ upgrade written, Handler.OnOpen            │
//		     │      ▼                                            ▼
//		     │     open ──(close sent or received)──▶ closing ──▶ closed
//		     │      │                                            ▲  Handler.OnClose
//		     │      └──(EOF, reset, write error)─────────────────┘  (if it was open)
//		     └─────────────────────────────────────────────────────┘
//
//	  - handshake: bytes accumulate in a pooled buffer (at most MaxHeadBytes)
//	    until the blank line; HandshakeTimeout bounds the whole phase.
//	  - open: data frames reach Handler.OnMessage; WriteMessage may be called.
//	  - closing: a close frame has been sent (ours, or our echo of the peer's).
//	    Data frames from the peer are read and dropped; once our close frame
//	    has left and the peer's close frame or EOF has arrived, or
//	    CloseTimeout has passed, the socket is closed.
//	  - closed: the descriptor is closed and unregistered; every method is a
//	    no-op.
//
// # Concurrency contract
//
// Everything about a connection happens on the goroutine of the loop it is
// registered on. Handler methods run there and must not block. The methods
// of Conn that the Handler calls (WriteMessage, Close, ...) are for that
// goroutine only; from any other goroutine, use Conn.Send, or Conn.Do to run
// a function on the connection's loop. Server methods are goroutine-safe.
//
// # Memory
//
// An idle open connection holds its Conn (about 200 bytes) and a slot in the
// loop's descriptor table: no goroutine, no read buffer, no write buffer.
// Reads go into one buffer per loop; only the unfinished tail of a frame, a
// message being reassembled, or bytes the kernel would not take are kept per
// connection, in buffers from size-classed pools that are returned as soon as
// they empty.
package conn
