package backend_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/protocol"
)

// wait bounds every wait in these tests; nothing should come near it.
const wait = 5 * time.Second

// runServer starts an embedded NATS server on a free port.
func runServer(t testing.TB) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(wait) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

func connect(t testing.TB, ns *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// setup returns a Client on its own NATS connection and a second
// connection that plays the gateway.
func setup(t *testing.T, cfg backend.Config) (c *backend.Client, bnc, gw *nats.Conn) {
	t.Helper()
	ns := runServer(t)
	bnc = connect(t, ns)
	c, err := backend.New(bnc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := c.Drain(ctx); err != nil {
			t.Errorf("Drain: %v", err)
		}
	})
	return c, bnc, connect(t, ns)
}

// ready makes sure the server knows of the backend's subscriptions before
// the gateway publishes.
func ready(t *testing.T, bnc *nats.Conn) {
	t.Helper()
	if err := bnc.Flush(); err != nil {
		t.Fatal(err)
	}
}

const (
	testNode = "n1"
	connA    = "n1-00000000000000a1"
	connB    = "n1-00000000000000b2"
)

var (
	connectedAt = time.UnixMilli(1700000000123)
	receivedAt  = time.UnixMilli(1700000004567)
)

// event builds a route event the way the gateway sends it.
func event(subject, eventType, routeKey, connID string, body []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(protocol.HeaderEventType, eventType)
	m.Header.Set(protocol.HeaderConnectionID, connID)
	m.Header.Set(protocol.HeaderRouteKey, routeKey)
	m.Header.Set(protocol.HeaderRequestID, "n1-r"+strconv.Itoa(len(body)))
	m.Header.Set(protocol.HeaderNode, testNode)
	m.Header.Set(protocol.HeaderSourceIP, "192.0.2.7")
	m.Header.Set(protocol.HeaderConnectedAt, strconv.FormatInt(connectedAt.UnixMilli(), 10))
	m.Header.Set(protocol.HeaderReceivedAt, strconv.FormatInt(receivedAt.UnixMilli(), 10))
	m.Data = body
	return m
}

func message(subject, routeKey, connID string, body []byte) *nats.Msg {
	m := event(subject, protocol.EventMessage, routeKey, connID, body)
	m.Header.Set(protocol.HeaderMessageType, protocol.MessageText)
	return m
}

// request sends m as a request from the gateway and returns the reply.
func request(t *testing.T, gw *nats.Conn, m *nats.Msg) *nats.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	reply, err := gw.RequestMsgWithContext(ctx, m)
	if err != nil {
		t.Fatalf("request on %s: %v", m.Subject, err)
	}
	return reply
}

// receive waits for a value on ch.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("timed out waiting")
		panic("unreachable")
	}
}

// waitFor polls cond until it holds or wait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
