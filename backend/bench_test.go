package backend_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/protocol"
)

// BenchmarkRouteResponse is one two-way event at a time: gateway request,
// handler, reply, over a local NATS server.
func BenchmarkRouteResponse(b *testing.B) {
	ns := runServer(b)
	bnc, gw := connect(b, ns), connect(b, ns)
	c, err := backend.New(bnc, backend.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Drain(context.Background())
	if _, err := c.HandleRoute("$default", func(_ context.Context, m *backend.Message) ([]byte, error) { return m.Data, nil }); err != nil {
		b.Fatal(err)
	}
	bnc.Flush()
	m := message("gatecast.default", "$default", connA, make([]byte, 64))
	b.ReportAllocs()
	b.SetBytes(64)
	for b.Loop() {
		if _, err := gw.RequestMsg(m, wait); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneWay publishes one-way events from many connections, at most
// 10000 ahead of the handlers, and waits until every one has been handled;
// it reports handled events per second.
func BenchmarkOneWay(b *testing.B) {
	for _, conns := range []int{1, 1000} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			ns := runServer(b)
			bnc, gw := connect(b, ns), connect(b, ns)
			c, err := backend.New(bnc, backend.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Drain(context.Background())
			var handled atomic.Int64
			if _, err := c.HandleRoute("send", func(context.Context, *backend.Message) ([]byte, error) {
				handled.Add(1)
				return nil, nil
			}); err != nil {
				b.Fatal(err)
			}
			bnc.Flush()
			msgs := make([]*nats.Msg, conns)
			for i := range msgs {
				msgs[i] = message("gatecast.route.send", "send", protocol.ConnectionID{Node: "n1", N: uint64(i)}.String(), make([]byte, 64))
			}
			b.ReportAllocs()
			start := time.Now()
			// NATS drops what a subscriber cannot keep up with: measure
			// the rate the backend sustains, not how fast NATS drops.
			const window = 10000
			for i := 0; b.Loop(); i++ {
				if err := gw.PublishMsg(msgs[i%conns]); err != nil {
					b.Fatal(err)
				}
				for int64(i)-handled.Load() > window {
					runtime.Gosched()
				}
			}
			gw.Flush()
			deadline := time.Now().Add(time.Minute)
			for handled.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("handled %d of %d events: some were dropped", handled.Load(), b.N)
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
