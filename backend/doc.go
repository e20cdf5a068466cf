// Package backend is the Go SDK for gatecast backends: programs that
// answer the WebSocket events a gatecast gateway routes to them over NATS,
// and act on connections and topics. It speaks the wire protocol of
// docs/protocol.md, so a backend never names a subject or a header.
//
// A backend registers handlers for routes and sends commands:
//
//	nc, _ := nats.Connect(nats.DefaultURL)
//	c, _ := backend.New(nc, backend.Config{})
//	c.HandleConnect(func(ctx context.Context, req *backend.ConnectRequest) error {
//		if req.Upgrade.Query == "" {
//			return &backend.Refusal{Status: 401, Reason: "log in first"}
//		}
//		return nil
//	})
//	c.HandleRoute("$default", func(ctx context.Context, m *backend.Message) ([]byte, error) {
//		return m.Data, nil // the route response: an echo
//	})
//	c.HandleRoute("subscribe", func(ctx context.Context, m *backend.Message) ([]byte, error) {
//		if err := c.Join(ctx, m.ConnectionID, "news"); err != nil {
//			return nil, err
//		}
//		return nil, c.Publish("news", []byte("welcome"), backend.Exclude(m.ConnectionID))
//	})
//	...
//	c.Drain(ctx) // at shutdown, then nc.Drain()
//
// # Handlers
//
// The handlers of one Client share one queue, fed in the order the events
// arrive from NATS. Events of one connection are handled one at a time,
// in that order, whatever route they came by: a client's "join" is handled
// before its next "send". Events of different connections are handled in
// parallel, up to Config.Concurrency at once. A handler that is slow holds
// up only its own connection, until Concurrency handlers are busy; then
// every event waits.
//
// That order holds within one backend process. Several processes with the
// same queue group share the events, and a connection's events may then be
// handled by different processes at the same time; keep per-connection
// state elsewhere (a database, NATS KV) if you run more than one.
//
// A handler's context ends when the handler returns, after
// Config.HandlerTimeout, or when Drain gives up waiting. A handler must
// not call Drain. A panic in a handler is recovered, logged and answered
// as an error, so that one bad event cannot stop a backend serving many
// connections.
//
// # Commands
//
// Send, SendBinary, Close, Info, Join and Leave are NATS requests to the
// gateway node holding the connection; they wait for its answer, within
// ctx or Config.CommandTimeout. A connection that has ended answers ErrGone
// and an id that was never issued answers ErrUnknownConnection; check with
// errors.Is. Publish and TopicMembers act on topics across every node.
//
// Every method of Client is safe for concurrent use, from handlers or from
// any other goroutine.
package backend
