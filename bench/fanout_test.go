package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/bench/baseline"
	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/bench/procstat"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

// The fan-out topic, and the message a gatecast member sends to join it
// through the client-subscribe route that startGatecastFanOut configures.
const (
	fanOutTopic = "bench"
	fanOutJoin  = `{"action":"join","topic":"` + fanOutTopic + `"}`
)

// Bounds of the rate10 mode: it publishes max(b.N, rateMin) messages, at
// most rateMax, ten a second, so that a p99 over 10,000 members has some
// messages behind it even with -benchtime=1x (3 s).
const (
	rateInterval = 100 * time.Millisecond
	rateMin      = 30
	rateMax      = 600
)

// fanOutWindow is the most messages in flight in flat mode. A few suffice
// to keep the server busy (the clients report progress every 10 ms and one
// message to 10,000 members takes tens of milliseconds); more would only
// add queueing to the latencies, which in flat mode are about
// fanOutWindow × ns/op anyway.
const fanOutWindow = 16

// fanOutTarget is a running server that the fan-out benchmark publishes
// through, seen the same way for both kinds.
type fanOutTarget struct {
	url  string // members dial this
	join string // what a member sends once open; empty: nothing
	// members returns how many members the server has joined so far.
	members func() int
	publish func(msg []byte) error
	// counts returns the server's own view: messages it took for fan-out,
	// deliveries it handed to member queues, and deliveries or members it
	// dropped.
	counts func() (taken, queued, dropped uint64)
	stop   func()
}

// fanOutServer is a server kind the fan-out benchmark runs against.
type fanOutServer struct {
	name  string
	start func(tb testing.TB) *fanOutTarget
}

var fanOutServers = []fanOutServer{
	{name: "gatecast", start: startGatecastFanOut},
	{name: "baseline", start: startBaselineFanOut},
}

// startGatecastFanOut runs a gateway whose embedded NATS listens on a free
// port, with a client-subscribe route so that every member joins the topic
// itself, and publishes through a NATS connection of its own: the real
// path, NATS → the node's one topic subscription → one frame encode → a
// write per member.
func startGatecastFanOut(tb testing.TB) *fanOutTarget {
	tb.Helper()
	g, err := gateway.New(gateway.Config{
		Listen:      "127.0.0.1:0",
		AdminListen: "off",
		Admission:   noConnectRate,
		AccessLog:   accesslog.Config{Output: "off"},           // the figures are for the gateway, not its logging
		WebSocket:   gateway.WebSocketConfig{MaxConns: 100000}, // above what one process can hold
		NATS:        gateway.NATSConfig{Listen: "127.0.0.1:0"},
		Routes: routes.Config{WebSocket: map[string]routes.Route{
			"join": {Integration: routes.IntegrationSubscribe, TopicFrom: "$request.body.topic"},
		}},
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := g.Start(); err != nil {
		tb.Fatal(err)
	}
	stopGateway := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			tb.Errorf("gatecast Shutdown: %v", err)
		}
	}
	nc, err := nats.Connect(g.NATSURL(), nats.Name("gatecast-bench publisher"))
	if err != nil {
		stopGateway()
		tb.Fatal(err)
	}
	subject := protocol.Subjects{Prefix: routes.DefaultSubjectPrefix}.Topic(fanOutTopic)
	return &fanOutTarget{
		url:  "ws://" + g.Addr().String() + "/",
		join: fanOutJoin,
		// Members as the gateway answers over NATS: its answer leaves on
		// the connection that subscribed to the topic, after the
		// subscription, so once it counts everyone the topic's messages
		// cannot overtake the subscription (Joins alone could, on a busy
		// machine, and the first messages were lost).
		members: func() int {
			m, err := nc.Request(protocol.Subjects{Prefix: routes.DefaultSubjectPrefix}.TopicCount(), []byte(fanOutTopic), time.Second)
			if err != nil {
				return 0 // no member yet: nobody answers
			}
			var r protocol.TopicCountReply
			if json.Unmarshal(m.Data, &r) != nil {
				return 0
			}
			return r.Members
		},
		publish: func(msg []byte) error { return nc.Publish(subject, msg) },
		counts: func() (taken, queued, dropped uint64) {
			bs := g.BrokerStats()
			return bs.TopicMessages, bs.Deliveries, g.Stats().Dropped
		},
		stop: func() {
			nc.Close()
			stopGateway()
		},
	}
}

// startBaselineFanOut runs the baseline with its chat hub and publishes
// through the hub in this process.
func startBaselineFanOut(tb testing.TB) *fanOutTarget {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := new(baseline.Server)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	hub := s.Hub()
	return &fanOutTarget{
		url:     "ws://" + ln.Addr().String() + baseline.BroadcastPath,
		members: func() int { return int(hub.Stats().Members) },
		publish: func(msg []byte) error {
			if !hub.Publish(msg) {
				return errors.New("baseline hub stopped")
			}
			return nil
		},
		counts: func() (taken, queued, dropped uint64) {
			st := hub.Stats()
			return st.Broadcasts, st.Queued, st.Dropped
		},
		stop: func() {
			s.Close()
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				tb.Errorf("baseline Serve: %v", err)
			}
		},
	}
}

// BenchmarkFanOut publishes messages to one topic whose members are held by
// client processes, and measures publish-to-receive: every message carries
// its publish time and a sequence number (load.Stamp), and the clients
// record latencies and count what arrived per member, so lost and
// reordered messages show.
//
// mode=flat publishes b.N messages as fast as the members take them, with
// at most fanOutWindow (16) published and not yet received by every
// member, which keeps the baseline's 256-message queues and gatecast's
// write queues and topic buffer from overflowing because of the publisher;
// its latencies are mostly that queue.
// mode=rate10 publishes max(b.N, 30) messages (at most 600), ten a second.
// One op is one published message: ns/op is the time per message to all
// members. Reported: deliveries/s (messages × members over first publish
// to last receipt), p50-µs, p99-µs, max-µs, lost (deliveries that did not
// arrive), allocs/delivery (mallocs in this process, which is the server,
// its embedded NATS and the publisher, over the fan-out, per delivery), and
// the CPU time per delivery of this process (server-cpu-ns/delivery) and of
// the client processes (client-cpu-ns/delivery). Clients and server share
// the machine's cores, so deliveries/s falls when the clients need more
// CPU; server-cpu-ns/delivery is the figure to compare servers by.
func BenchmarkFanOut(b *testing.B) {
	type variant struct {
		size int
		mode string
	}
	variants := []variant{{64, "flat"}, {1024, "flat"}, {64, "rate10"}}
	const members = 10000
	for _, srv := range fanOutServers {
		for _, v := range variants {
			b.Run(fmt.Sprintf("server=%s/members=%d/msg=%s/mode=%s", srv.name, members, sizeName(v.size), v.mode), func(b *testing.B) {
				msgs, interval := b.N, time.Duration(0)
				if v.mode == "rate10" {
					msgs, interval = min(max(b.N, rateMin), rateMax), rateInterval
				}
				m := measureFanOut(b, b, srv, members, v.size, msgs, interval)
				b.ReportMetric(m.res.PerSecond, "deliveries/s")
				b.ReportMetric(us(m.res.Latency.Percentile(0.5)), "p50-µs")
				b.ReportMetric(us(m.res.Latency.Percentile(0.99)), "p99-µs")
				b.ReportMetric(us(m.res.Latency.Max()), "max-µs")
				b.ReportMetric(float64(m.res.Missed), "lost")
				b.ReportMetric(m.allocsPerDelivery, "allocs/delivery")
				b.ReportMetric(m.serverCPU, "server-cpu-ns/delivery")
				b.ReportMetric(m.clientCPU, "client-cpu-ns/delivery")
				for _, p := range m.problems {
					if v.mode == "rate10" {
						b.Error(p)
					} else {
						b.Log(p)
					}
				}
			})
		}
	}
}

// TestFanOut runs the fan-out measurement small, for both servers, and
// checks that every message reached every member once, in order.
func TestFanOut(t *testing.T) {
	for _, srv := range fanOutServers {
		t.Run("server="+srv.name, func(t *testing.T) {
			m := measureFanOut(t, nil, srv, 300, 100, 50, 0)
			for _, p := range m.problems {
				t.Error(p)
			}
			if m.res.Members != 300 || m.res.Received != 300*50 {
				t.Errorf("%d members received %d messages, want 300 members and %d", m.res.Members, m.res.Received, 300*50)
			}
		})
	}
}

// fanOutMeasure is one fan-out run, checked.
type fanOutMeasure struct {
	res               load.FanOutResult
	allocsPerDelivery float64
	// CPU time per delivery of this process and of the clients, in ns.
	serverCPU, clientCPU float64
	// problems are what makes the run lossy or wrong: missed, reordered
	// or stray messages, and what the server says it dropped.
	problems []string
}

// measureFanOut runs srv with members members held by client processes
// (at most perClient each), publishes msgs messages of size bytes, interval
// apart (zero: flat out, windowed) and merges what the clients saw. With
// b set, only the publishing is timed and allocations are reported.
func measureFanOut(tb testing.TB, b *testing.B, srv fanOutServer, members, size, msgs int, interval time.Duration) fanOutMeasure {
	tb.Helper()
	target := srv.start(tb)
	defer target.stop()
	fleet := newFleet(tb)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := load.ClientConfig{URL: target.url, Mode: load.FanOut, Join: target.join, Hold: 10 * time.Minute}
	ws, err := fleet.Open(ctx, cfg, load.SharesOf(members, perClient))
	if err != nil {
		tb.Fatal(err)
	}
	waitMembers(tb, target, members)

	pub := &load.Publisher{Workers: ws, Messages: msgs, Size: size, Interval: interval, Window: fanOutWindow, Publish: target.publish}
	taken0, queued0, dropped0 := target.counts()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	serverCPU0, clientCPU0 := cpuTimes(tb, ws)
	if b != nil {
		b.SetBytes(int64(size) * int64(members))
		b.ReportAllocs()
		b.ResetTimer()
	}
	published, err := pub.Run(ctx)
	if b != nil {
		b.StopTimer()
	}
	runtime.ReadMemStats(&after)
	serverCPU1, clientCPU1 := cpuTimes(tb, ws)
	if err != nil {
		tb.Fatal(err)
	}
	taken1, queued1, dropped1 := target.counts()
	evs, err := load.Finish(ctx, ws)
	if err != nil {
		tb.Fatal(err)
	}

	m := fanOutMeasure{res: load.MergeFanOut(published, evs)}
	// Check the measurement before reporting it: every member was there
	// and the clients' counts agree with each other.
	if m.res.Members != members {
		tb.Fatalf("%d members were open, want %d", m.res.Members, members)
	}
	if m.res.Latency.Count() != m.res.Received {
		tb.Fatalf("the histograms hold %d latencies for %d deliveries", m.res.Latency.Count(), m.res.Received)
	}
	if m.res.Received == 0 {
		tb.Fatalf("no message arrived (%s)", published.Stalled)
	}
	m.allocsPerDelivery = float64(after.Mallocs-before.Mallocs) / float64(m.res.Received)
	m.serverCPU = float64(serverCPU1-serverCPU0) / float64(m.res.Received)
	m.clientCPU = float64(clientCPU1-clientCPU0) / float64(m.res.Received)
	if published.Stalled != "" {
		m.problems = append(m.problems, published.Stalled)
	}
	m.problems = append(m.problems, m.res.Problems()...)
	if taken := taken1 - taken0; taken != uint64(published.Messages) {
		m.problems = append(m.problems, fmt.Sprintf("the server took %d of the %d messages published for fan-out", taken, published.Messages))
	}
	if queued, want := queued1-queued0, uint64(published.Messages)*uint64(members); queued != want {
		m.problems = append(m.problems, fmt.Sprintf("the server queued %d of %d deliveries", queued, want))
	}
	if d := dropped1 - dropped0; d > 0 {
		m.problems = append(m.problems, fmt.Sprintf("the server dropped %d (slow consumers)", d))
	}
	return m
}

// cpuTimes returns the CPU time this process and the workers have used.
func cpuTimes(tb testing.TB, ws []*load.Worker) (self, workers time.Duration) {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, w := range ws {
		d, err := procstat.CPUTime(w.Pid())
		if err != nil {
			tb.Fatal(err)
		}
		workers += d
	}
	return self, workers
}

// waitMembers polls until the server has joined n members.
func waitMembers(tb testing.TB, t *fanOutTarget, n int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for got := t.members(); got < n; got = t.members() {
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d members joined within 30s", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sizeName names a message size the way sub-benchmarks do: 64B, 1KiB.
func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%dKiB", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
