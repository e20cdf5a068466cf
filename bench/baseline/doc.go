// Package baseline is the server every gatecast figure is measured against:
// a classic goroutine-per-connection WebSocket server written the way the
// gorilla/websocket chat example writes its clients. Each connection gets a
// read pump and a write pump goroutine, a send queue of 256 messages,
// ping/pong keep-alive with deadlines, and a 128 KiB read limit. It is
// deliberately not tuned: it stands for what a team writes first.
//
// On BroadcastPath a connection joins the chat example's Hub, which sends
// every published message to all members and drops a member whose send
// queue is full; on every other path the server echoes.
//
//	var s baseline.Server
//	go s.Serve(ln)          // ws://.../broadcast joins the hub, any other path echoes
//	s.Publish([]byte("hi")) // or POST /publish: to every member of the hub
//	...
//	s.Close()               // closes the listener and every connection, then waits
//
// Concurrency: Serve, Close, Conns, Hub and Publish are safe to call from
// any goroutine. Close is idempotent and returns only after every goroutine
// the server started has ended.
package baseline
