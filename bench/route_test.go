package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/protocol"
)

// Subjects of the route benchmark's backend: the gateway's default route,
// and the one the direct-NATS requesters use.
const (
	routeSubject  = "gatecast.default"
	directSubject = "bench.direct"
	backendQueue  = "bench"
	// backendConns is how many NATS connections the backend serves from,
	// each with its own handler goroutine per subject.
	backendConns = 2
	// requestersPerConn is how many direct-NATS requesters share one NATS
	// connection in a client process: 1,000 requesters take 10.
	requestersPerConn = 100
)

// routeEnv is a gateway with the default routes ($default sent to the
// backend as a request, the reply routed back to the sender) and a backend
// in this process that answers every request with its body, on the
// default route's subject and on directSubject.
type routeEnv struct {
	g       *gateway.Gateway
	backend []*nats.Conn
}

func startRouteEnv(tb testing.TB) *routeEnv {
	tb.Helper()
	g, err := gateway.New(gateway.Config{
		Listen:      "127.0.0.1:0",
		AdminListen: "off",
		Admission:   noConnectRate,
		AccessLog:   accesslog.Config{Output: "off"},           // the figures are for the gateway, not its logging
		WebSocket:   gateway.WebSocketConfig{MaxConns: 100000}, // above what one process can hold
		NATS:        gateway.NATSConfig{Listen: "127.0.0.1:0"},
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := g.Start(); err != nil {
		tb.Fatal(err)
	}
	env := &routeEnv{g: g}
	for range backendConns {
		nc, err := nats.Connect(g.NATSURL(), nats.Name("gatecast-bench backend"))
		if err != nil {
			env.stop(tb)
			tb.Fatal(err)
		}
		env.backend = append(env.backend, nc)
		for _, subject := range []string{routeSubject, directSubject} {
			sub, err := nc.QueueSubscribe(subject, backendQueue, echoReply)
			if err != nil {
				env.stop(tb)
				tb.Fatal(err)
			}
			// 1,000 requests in flight must never make NATS drop one.
			sub.SetPendingLimits(-1, -1)
		}
		if err := nc.Flush(); err != nil {
			env.stop(tb)
			tb.Fatal(err)
		}
	}
	return env
}

// echoReply answers a request with its body. A gateway event says whether
// the client's message was binary, and the reply must say so too for the
// client to get a binary message back.
func echoReply(m *nats.Msg) {
	r := &nats.Msg{Subject: m.Reply, Data: m.Data}
	if mt := m.Header.Get(protocol.HeaderMessageType); mt != "" {
		r.Header = nats.Header{protocol.HeaderMessageType: []string{mt}}
	}
	m.RespondMsg(r)
}

func (e *routeEnv) stop(tb testing.TB) {
	for _, nc := range e.backend {
		nc.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.g.Shutdown(ctx); err != nil {
		tb.Errorf("gatecast Shutdown: %v", err)
	}
}

// clientConfig returns the clients of one path: WebSocket echo loops
// through the gateway, or NATS request loops straight to the backend.
func (e *routeEnv) clientConfig(path string, conns, size, rounds int) load.ClientConfig {
	cfg := load.ClientConfig{Conns: conns, Size: size, Rounds: rounds, Duration: echoBound, WaitStart: true}
	switch path {
	case "gateway":
		cfg.URL, cfg.Mode = "ws://"+e.g.Addr().String()+"/", load.Echo
	case "direct-nats":
		cfg.URL, cfg.Mode, cfg.Subject, cfg.RequestersPerConn = e.g.NATSURL(), load.NATSEcho, directSubject, requestersPerConn
	}
	return cfg
}

// BenchmarkRouteRoundTrip measures what routing a message through gatecast
// to a NATS backend and back costs over the backend answering NATS
// requests directly. path=gateway: WebSocket clients run a closed loop
// (send, wait for the reply) through the $default route, sent to the
// backend as a NATS request with the reply routed back. path=direct-nats:
// the same number of requesters in the same kind of client processes send
// NATS requests to the same backend, 100 requesters per NATS connection.
//
// One op is one round trip, so ns/op is 1/throughput; B/op and allocs/op
// are this process's per round trip, which holds the NATS server and the
// backend on both paths and the gateway on the gateway path. Reported:
// roundtrips/s, p50-µs, p99-µs; the gateway path, when path=direct-nats
// ran before it in the same run, also reports overhead-p50-µs and
// overhead-p99-µs, the gateway's latency minus the direct one.
func BenchmarkRouteRoundTrip(b *testing.B) {
	env := startRouteEnv(b)
	defer env.stop(b)
	for _, conns := range []int{1000} {
		for _, size := range []int{64} {
			var direct *load.Histogram
			for _, path := range []string{"direct-nats", "gateway"} {
				b.Run(fmt.Sprintf("path=%s/conns=%d/msg=%s", path, conns, sizeName(size)), func(b *testing.B) {
					hist, perSecond := measureRoundTrips(b, b, env.clientConfig(path, conns, size, b.N))
					b.ReportMetric(perSecond, "roundtrips/s")
					b.ReportMetric(us(hist.Percentile(0.5)), "p50-µs")
					b.ReportMetric(us(hist.Percentile(0.99)), "p99-µs")
					switch {
					case path == "direct-nats":
						direct = hist
					case direct != nil:
						b.ReportMetric(us(hist.Percentile(0.5)-direct.Percentile(0.5)), "overhead-p50-µs")
						b.ReportMetric(us(hist.Percentile(0.99)-direct.Percentile(0.99)), "overhead-p99-µs")
					}
				})
			}
		}
	}
}

// TestRouteRoundTrip runs both paths small and checks every round trip.
func TestRouteRoundTrip(t *testing.T) {
	env := startRouteEnv(t)
	defer env.stop(t)
	for _, path := range []string{"direct-nats", "gateway"} {
		t.Run("path="+path, func(t *testing.T) {
			hist, perSecond := measureRoundTrips(t, nil, env.clientConfig(path, 40, 64, 400))
			if hist.Count() != 400 || perSecond <= 0 {
				t.Errorf("%d round trips at %.0f/s, want 400", hist.Count(), perSecond)
			}
		})
	}
}

// measureRoundTrips runs closed-loop clients with cfg (cfg.Rounds > 0) over
// two client processes (more if one would hold over perClient connections)
// and checks
// that they made every round trip. With b set, only the loops are timed and
// allocations are reported.
func measureRoundTrips(tb testing.TB, b *testing.B, cfg load.ClientConfig) (hist *load.Histogram, perSecond float64) {
	tb.Helper()
	fleet := newFleet(tb)
	ctx, cancel := context.WithTimeout(context.Background(), echoBound+time.Minute)
	defer cancel()
	// Two processes at least, so that one client process is not the
	// bottleneck on its own; but no more than round trips, since a client
	// given no rounds would loop until its time bound.
	procs := min(max(2, (cfg.Conns+perClient-1)/perClient), cfg.Rounds)
	ws, err := fleet.Open(ctx, cfg, load.Shares(cfg.Conns, procs))
	if err != nil {
		tb.Fatal(err)
	}

	evs := runWorkers(ctx, tb, b, ws, cfg.Size)

	hist = new(load.Histogram)
	var rounds uint64
	for _, ev := range evs {
		if ev.Errors > 0 {
			tb.Fatalf("%d connections failed: %s", ev.Errors, ev.FirstError)
		}
		rounds += ev.Roundtrips
		if ev.Seconds > 0 {
			perSecond += float64(ev.Roundtrips) / ev.Seconds
		}
		hist.Merge(ev.Latency)
	}
	if rounds != uint64(cfg.Rounds) || hist.Count() != rounds {
		tb.Fatalf("made %d round trips with %d latencies, want %d (did the %v bound cut the loop?)", rounds, hist.Count(), cfg.Rounds, echoBound)
	}
	return hist, perSecond
}
