// Package admission decides what gets into gatecast: the one pipeline that
// every WebSocket upgrade, every WebSocket message and (with the HTTP side)
// every HTTP request passes — WAF (package admission/waf), authentication
// (package admission/jwtauth), throttles, and per-client caps. The
// connection cap and the session timers live in package conn, which sees
// every connection's life.
//
// A refusal is immediate, cheap and explicit: a *Refusal carries its HTTP
// status, its Retry-After and a reason for the log, and nothing ever queues.
//
//	p, _ := admission.New(admission.Config{})            // Amazon's defaults
//	ref := p.Connect(ip, now)                            // on each upgrade
//	defer p.Release(ip)                                  // when it ends
//
// # Token buckets
//
// A Meter is a token bucket in 16 bytes with no lock and no allocation:
// the state a connection carries for its message rate. A Limiter is a
// Meter behind a mutex, shared by all loops (the gateway's connect rate).
// Time is always passed in, so tests use a fake clock and never sleep.
//
// # Concurrency contract
//
// Pipeline and Limiter methods are safe for concurrent use and never
// block on anything but a short mutex. A Meter belongs to one goroutine
// (a connection's loop).
package admission
