package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/protocol"
)

func TestEcho(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	defer ns.Shutdown()

	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := backend.New(nc, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Drain(context.Background())
	if err := register(c); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	gw, err := nats.Connect(ns.ClientURL()) // plays the gateway
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	for _, tc := range []struct {
		name, messageType string
		body              []byte
	}{
		{"text", protocol.MessageText, []byte(`{"hello":"world"}`)},
		{"binary", protocol.MessageBinary, []byte{0, 0xff, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := nats.NewMsg("gatecast.default")
			m.Header.Set(protocol.HeaderEventType, protocol.EventMessage)
			m.Header.Set(protocol.HeaderConnectionID, "n1-0000000000000001")
			m.Header.Set(protocol.HeaderRouteKey, "$default")
			m.Header.Set(protocol.HeaderMessageType, tc.messageType)
			m.Header.Set(protocol.HeaderReceivedAt, strconv.FormatInt(time.Now().UnixMilli(), 10))
			m.Data = tc.body
			reply, err := gw.RequestMsg(m, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(reply.Data) != string(tc.body) || reply.Header.Get(protocol.HeaderMessageType) != tc.messageType {
				t.Errorf("reply %q (%s), want %q (%s)", reply.Data, reply.Header.Get(protocol.HeaderMessageType), tc.body, tc.messageType)
			}
			if s := reply.Header.Get(protocol.HeaderStatus); s != "" {
				t.Errorf("status %q on a route response", s)
			}
		})
	}
}
