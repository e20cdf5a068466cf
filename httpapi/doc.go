// Package httpapi serves gatecast's HTTP routes: an http.Handler that
// matches each request to a route (routes.HTTPTable), runs it through
// admission (CORS preflights, JWT, API keys and throttles, WAF), sends it
// to the route's backend as a NATS request, and writes the backend's
// answer back: whole, or streamed chunk by chunk (chunked transfer
// encoding or Server-Sent Events) with credit-based flow control, so a
// slow client holds back the backend instead of filling the gateway's
// memory. docs/protocol.md describes the messages.
//
// The gateway hands it the connections whose first request is not a
// WebSocket upgrade (conn.Config.HTTP), through an http.Server:
//
//	h, _ := httpapi.New(nc, table, httpapi.Config{Node: node})
//	h.Start()                       // subscribes to the answers
//	srv := &http.Server{Handler: h} // Serve(conn.HandoffListener)
//
// Concurrency: ServeHTTP runs on net/http's goroutine per connection and
// is safe for concurrent use. Answers arrive on one NATS subscription
// whose callback never blocks: it queues each message on its request
// (bounded per stream by the route's stream_buffer) and wakes the
// request's goroutine. Only that goroutine writes to its response.
package httpapi
