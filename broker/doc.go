// Package broker connects gatecast to NATS: it is the conn.Handler that
// turns WebSocket events into NATS messages for backends (routed by the
// route table), carries backend replies and commands back to connections,
// and fans topic messages out to local members.
//
//	nc, embedded, _ := broker.Connect(broker.Config{})   // embedded nats-server by default
//	hub, _ := broker.NewHub(nc, table, broker.HubConfig{})
//	srv, _ := conn.NewServer(conn.Config{}, hub)
//	_ = hub.Start(srv)
//	...
//	srv.Shutdown(ctx); hub.Close(); embedded.Shutdown()
//
// The subjects and headers are the public contract in docs/protocol.md,
// built with package protocol.
//
// # Concurrency contract
//
// The conn.Handler methods run on the connections' loop goroutines and
// never block: NATS publishes only append to the client's buffer. Replies,
// commands and topic messages arrive on NATS goroutines and reach a
// connection only through conn.Server.Lookup or RunOnLoop, so every piece
// of per-connection state (the session, a loop's topic members) is touched
// by its loop goroutine alone. The topic registry and the table of
// outstanding requests are guarded by their own mutexes. Hub methods for
// the management API (Command, Publish, TopicMembers) are safe from any
// goroutine.
//
// # Topics
//
// A node holds one NATS subscription per topic with local members,
// whichever loop they are on. A topic message is encoded into a WebSocket
// frame once, then each loop with members writes those same bytes to each
// of its members: no allocation per member, and messages keep their order
// per member because one goroutine hands them to the loops in order.
package broker
