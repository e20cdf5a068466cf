// Package load is the client side of gatecast's benchmarks: it opens many
// WebSocket connections from a chosen loopback source address and either
// holds them idle or drives a closed echo loop over them, and it runs such
// clients as child processes so that one measurement can spread its
// connections over several processes (each process may hold at most
// 20,000 file descriptors here).
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
// histograms of several processes merge exactly.
//
// Concurrency: [RunClient] owns every goroutine it starts and returns only
// after they are done. Idle mode uses one sweeping goroutine for all
// connections (it answers the server's pings); echo mode uses one goroutine
// per connection. A [Worker] is safe to use from one goroutine at a time.
package load
