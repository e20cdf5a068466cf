// Package gateway wires gatecast together: the WebSocket server (package
// conn on netpoll event loops), the route table and its integrations, and
// the admin listener with Prometheus metrics, health, readiness and pprof.
//
//	cfg, _ := gateway.LoadConfig("examples/echo.yaml") // or gateway.Config{}
//	g, _ := gateway.New(cfg, slog.Default())
//	_ = g.Start()
//	...
//	_ = g.Shutdown(ctx)
//
// New, Start and Shutdown are meant to be called from one goroutine; Addr,
// AdminAddr and the admin handlers are safe from any. Shutdown is safe to
// call twice.
package gateway
