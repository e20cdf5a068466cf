// Package load is the client side of gatecast's benchmarks: it opens many
// WebSocket connections from a chosen loopback source address and holds
// them idle, drives a closed echo loop over them, or receives a topic's
// fan-out on them (measuring publish-to-receive latency and loss); it can
// also run the echo loop over NATS request/reply, or open and close
// connections in closed loops to measure handshakes. Every WebSocket mode
// can dial with TLS (wss://). It runs such clients as child processes so
// that one measurement can spread its connections over several processes
// (each process may hold at most 20,000 file descriptors here), and its
// Publisher drives a fan-out from the parent, keeping a bounded window of
// messages in flight.
//
// A client reports on its standard output as JSON lines ([Event]), which is
// what the parent reads through [Worker]:
//
//	cfg := load.ClientConfig{URL: "ws://127.0.0.1:8081/", Conns: 5000, Source: "127.0.0.2", Mode: load.Idle}
//	w, err := load.StartWorker(exec.Command(self, append([]string{"client"}, cfg.Args()...)...))
//	open, err := w.Opened(ctx)   // every connection is up (or failed)
//	...                          // measure the server
//	res, err := w.Finish(ctx)    // closes the connections, returns the result
//
// Latencies are kept in a [Histogram] with a fixed bucket layout, so the
// histograms of several processes merge exactly. Fan-out messages start
// with a [Stamp]: the publish time and a sequence number.
//
// Concurrency: [RunClient] owns every goroutine it starts and returns only
// after they are done. Idle mode uses one sweeping goroutine for all
// connections (it answers the server's pings); echo mode uses one goroutine
// per connection, nats-echo one per requester, handshake mode one per
// loop; fan-out mode one goroutine with an epoll set of its own for all
// connections (Linux only). An idle TLS connection costs no goroutine
// either: the sweep reads its socket without blocking under crypto/tls. A
// [Worker] is safe to use from one goroutine at a time, except Progress
// and Progressed, which are safe from any.
package load
