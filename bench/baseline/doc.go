// Package baseline is the server every gatecast figure is measured against:
// a classic goroutine-per-connection WebSocket echo server written the way
// the gorilla/websocket chat example writes its clients. Each connection
// gets a read pump and a write pump goroutine, a send queue of 256 messages,
// ping/pong keep-alive with deadlines, and a 128 KiB read limit. It is
// deliberately not tuned: it stands for what a team writes first.
//
//	var s baseline.Server
//	go s.Serve(ln) // echoes every data message, on any path
//	...
//	s.Close()      // closes the listener and every connection, then waits
//
// Concurrency: Serve, Close and Conns are safe to call from any goroutine.
// Close is idempotent and returns only after every goroutine the server
// started has ended.
package baseline
