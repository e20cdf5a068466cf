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
// # HTTP requests
//
// The HTTP side (an http.Handler per request) uses three pieces, in this
// order: CORS, then the WAF (before the throttles, as AWS WAF sits before
// API Gateway: a blocked request costs its key no quota), then Request.
//
//	cors, _ := admission.NewCORS(cfg.CORS)               // nil: no CORS
//	route := admission.NewLimiter(routeRate)             // once per route
//	...
//	if cors.Handle(w, r) {                               // a preflight carries no key:
//		return                                       // answered, before anything else
//	}
//	if fd, hit := fw.CheckHTTP(r, ip, body); hit { ... } // package waf: 403 in block mode
//	key := r.Header.Get(p.Config().APIKeyHeader)
//	if ref := p.Request(route, key, keyRequired, now); ref != nil {
//		w.Header().Set("Retry-After", ref.RetryAfterHeader()) // when not ""
//		http.Error(w, ref.Detail, ref.Status)        // 429, or 403 for the key
//		return
//	}
//
// Request (request.go) applies the throttles of Amazon API Gateway: the
// gateway's rate (10,000/s, burst 5,000), the route's own, and the usage
// plan of the request's API key (x-api-key): a rate and a quota per day,
// week or month, calendar periods in UTC. Keys are kept as SHA-256
// digests only, and may be configured that way. A refusal takes back the
// tokens and quota unit that the stages before it took. Quotas reports
// what each key has left, for a gauge; Stats counts refusals by reason.
// CORS (cors.go) wraps github.com/rs/cors with a checked configuration.
//
// # Token buckets
//
// A Meter is a token bucket in 16 bytes with no lock and no allocation:
// the state a connection carries for its message rate. A Limiter is a
// Meter behind a mutex, shared by all loops (the gateway's connect rate,
// its request rate, a route's rate).
//
// # Concurrency contract
//
// Pipeline, Limiter and CORS methods are safe for concurrent use and
// never block on anything but a short mutex (Request takes at most the
// key's, the route's and the gateway's, one at a time). A Meter belongs
// to one goroutine (a connection's loop). Time is passed in everywhere,
// so tests use a fake clock and never sleep.
package admission
