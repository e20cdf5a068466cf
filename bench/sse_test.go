package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/routes"
)

// Constants of the streaming benchmark.
const (
	streamSubject = "bench.stream"
	// sseStreams streams at sseRate tokens a second each: 50,000 tokens a
	// second in all, in sseProcs client processes.
	sseStreams = 1000
	sseRate    = 50
	sseProcs   = 2
	// sseMaxSeconds bounds b.N, which is seconds of streaming.
	sseMaxSeconds = 300
)

// sseTarget is a running streaming server: the stream URL, and the backend
// process (load.RunTokenBackend) behind the server.
type sseTarget struct {
	url     string
	backend *load.Worker
	stop    func()
}

// sseServer is a server kind of the streaming benchmark.
type sseServer struct {
	name  string
	start func(tb testing.TB) *sseTarget
}

// sseServers are gatecast with an sse route, whose backend SDK (in a child
// process) streams over NATS, and Go's httputil.ReverseProxy (flushing at
// once) in front of a net/http backend in a child process. The backends
// are the same load.TokenStream; behind the proxy it writes the SSE
// framing itself.
var sseServers = []sseServer{
	{name: "gatecast", start: startGatecastSSE},
	{name: "reverseproxy", start: startReverseProxySSE},
}

func startGatecastSSE(tb testing.TB) *sseTarget {
	tb.Helper()
	g := startGatecastWith(tb, map[string]routes.HTTPRoute{
		// The streams wait, open, for the measurement to begin: longer
		// than the default 29 s between chunks must not cut them.
		"GET /stream": {Subject: streamSubject, Stream: routes.StreamSSE, Timeout: 2 * time.Minute},
	})
	w := startTokenBackend(tb, load.TokenBackendConfig{NATS: g.NATSURL(), Subject: streamSubject}, nil)
	return &sseTarget{url: "http://" + g.Addr().String() + "/stream", backend: w, stop: func() {
		w.Kill()
		stopGatecast(tb, g)
	}}
}

func startReverseProxySSE(tb testing.TB) *sseTarget {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close() // the child serves on its copy
	if err != nil {
		tb.Fatal(err)
	}
	w := startTokenBackend(tb, load.TokenBackendConfig{ListenFD: 3}, []*os.File{f})
	f.Close()
	// A negative FlushInterval flushes after every write (the proxy does so
	// for text/event-stream anyway).
	addr, stop := startReverseProxy(tb, ln.Addr().String(), -1)
	return &sseTarget{url: "http://" + addr + "/stream", backend: w, stop: func() {
		w.Kill()
		stop()
	}}
}

// startTokenBackend starts the streaming backend as a child process and
// waits until it serves.
func startTokenBackend(tb testing.TB, cfg load.TokenBackendConfig, files []*os.File) *load.Worker {
	tb.Helper()
	cfg.Rate, cfg.Bound = sseRate, sseMaxSeconds*time.Second+time.Minute
	cmd := childCommand(tb, "backend", cfg.Args())
	cmd.ExtraFiles = files
	w, err := load.StartWorker(cmd)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.Kill)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := w.Opened(ctx); err != nil {
		tb.Fatal(err)
	}
	return w
}

// BenchmarkSSE streams tokens through gatecast's sse route against Go's
// httputil.ReverseProxy, in the same run: 1,000 Server-Sent Events streams
// (clients in two child processes, 500 each), each carrying 50 tokens a
// second from a backend in another child process, 50,000 tokens a second
// in all. Each token is 32 bytes: the time the backend wrote it (Unix ns)
// and its sequence number in the stream (load.Stamp).
//
// One op is one second of streaming: -benchtime=5x streams for 5 s, so
// ns/op means little. Reported:
//   - tokens/s delivered, from the start to the last token's arrival;
//   - p50-µs, p99-µs: backend write to client receipt, per token (same
//     clock: one machine);
//   - heap-bytes/stream, stack-bytes/stream and goroutines/stream of this
//     process (gatecast with its embedded NATS server, or the proxy),
//     after a GC with every stream open and its opener event delivered,
//     less the same before the streams opened;
//   - server-cpu-ns/token and allocs/token of this process while streaming,
//     backend-cpu-ns/token of the backend process (behind gatecast it also
//     takes the gateway's acknowledgements) and client-cpu-ns/token of the
//     client processes: all share the machine's cores;
//   - extra-events/stream: events that were neither the opener nor a
//     token (TestSSE fails on them).
//
// It fails unless every stream opened, ended cleanly, and delivered every
// token the backend wrote, in order and without a gap.
func BenchmarkSSE(b *testing.B) {
	for _, srv := range sseServers {
		b.Run(fmt.Sprintf("server=%s/streams=%d/rate=%d", srv.name, sseStreams, sseRate), func(b *testing.B) {
			if b.N > sseMaxSeconds {
				b.Fatalf("b.N is seconds of streaming; at most %d (use -benchtime=Nx)", sseMaxSeconds)
			}
			m := measureSSE(b, b, srv, sseStreams, time.Duration(b.N)*time.Second)
			b.ReportMetric(m.perSecond, "tokens/s")
			b.ReportMetric(us(m.hist.Percentile(0.5)), "p50-µs")
			b.ReportMetric(us(m.hist.Percentile(0.99)), "p99-µs")
			b.ReportMetric(m.heap, "heap-bytes/stream")
			b.ReportMetric(m.stack, "stack-bytes/stream")
			b.ReportMetric(m.goroutines, "goroutines/stream")
			b.ReportMetric(m.serverCPU, "server-cpu-ns/token")
			b.ReportMetric(m.backendCPU, "backend-cpu-ns/token")
			b.ReportMetric(m.clientCPU, "client-cpu-ns/token")
			b.ReportMetric(m.allocs, "allocs/token")
			b.ReportMetric(m.extra, "extra-events/stream")
		})
	}
}

// TestSSE streams a little through every server kind and checks every
// token, and that the client sees no event the backend did not send.
func TestSSE(t *testing.T) {
	for _, srv := range sseServers {
		t.Run("server="+srv.name, func(t *testing.T) {
			m := measureSSE(t, nil, srv, 20, time.Second)
			if want := uint64(20 * sseRate / 2); m.hist.Count() < want {
				t.Errorf("%d tokens in 1 s over 20 streams at %d/s, want at least %d", m.hist.Count(), sseRate, want)
			}
			if m.extra != 0 {
				t.Errorf("%.2f events per stream that the backend did not send (an empty stream message written as an empty data: event?)", m.extra)
			}
		})
	}
}

// sseMeasure is what one streaming run measured.
type sseMeasure struct {
	hist                    *load.Histogram
	perSecond               float64 // tokens delivered
	heap, stack, goroutines float64 // per stream
	serverCPU, allocs       float64 // per token
	backendCPU, clientCPU   float64 // ns per token
	// extra is the events per stream that were neither the opener nor a
	// token: the client sees them, though they do not spoil the figures.
	extra float64
}

// measureSSE opens streams streams through srv, lets the backend stream
// for d, stops it, and checks what the clients received against what the
// backend wrote. With b set, only the streaming is timed.
func measureSSE(tb testing.TB, b *testing.B, srv sseServer, streams int, d time.Duration) sseMeasure {
	tb.Helper()
	if b != nil {
		b.StopTimer()
	}
	t := srv.start(tb)
	defer t.stop()
	fleet := newHTTPFleet(tb)
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()

	settledGoroutines(tb)
	before := takeSnapshot()
	cfg := load.ClientConfig{URL: t.url, Mode: load.SSE, Conns: streams, Hold: d + 2*time.Minute}
	ws, err := fleet.Open(ctx, cfg, load.Shares(streams, min(sseProcs, streams)))
	if err != nil {
		tb.Fatal(err)
	}
	settledGoroutines(tb) // the server has set every stream up
	open := takeSnapshot()

	var mem0, mem1 runtime.MemStats
	runtime.ReadMemStats(&mem0)
	cpu0, backendCPU0 := cpuTimes(tb, []*load.Worker{t.backend})
	_, clientCPU0 := cpuTimes(tb, ws)
	if b != nil {
		b.StartTimer()
	}
	begin := time.Now()
	if err := t.backend.Start(); err != nil {
		tb.Fatal(err)
	}
	window := time.NewTimer(d)
	select {
	case <-window.C:
	case <-ctx.Done():
		tb.Fatal(ctx.Err())
	}
	// The backend ends every stream after its current token and reports
	// what it wrote; then the clients see their streams end.
	_, backendCPU1 := cpuTimes(tb, []*load.Worker{t.backend})
	_, clientCPU1 := cpuTimes(tb, ws)
	bev, err := t.backend.Finish(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	evs, err := load.Finish(ctx, ws)
	if b != nil {
		b.StopTimer()
	}
	cpu1, _ := cpuTimes(tb, nil)
	runtime.ReadMemStats(&mem1)
	if err != nil {
		tb.Fatal(err)
	}

	// Check the measurement before reporting it.
	if bev.FirstError != "" || bev.Lost > 0 || bev.Open != streams {
		tb.Fatalf("the backend served %d streams of %d, %d cut: %s", bev.Open, streams, bev.Lost, bev.FirstError)
	}
	m := sseMeasure{hist: new(load.Histogram)}
	var received, extra uint64
	var lastAt int64
	for _, ev := range evs {
		if ev.Lost > 0 || ev.Skipped > 0 || ev.Disorder > 0 {
			tb.Fatalf("client of %d streams: %d did not end cleanly (%s), %d tokens skipped (first #%d), %d out of order",
				ev.Open, ev.Lost, ev.FirstError, ev.Skipped, ev.FirstSkipped, ev.Disorder)
		}
		received += ev.Received
		extra += ev.Unstamped
		lastAt = max(lastAt, ev.LastUnixNano)
		m.hist.Merge(ev.Latency)
	}
	if received != bev.Received || m.hist.Count() != received || received == 0 {
		tb.Fatalf("the clients received %d tokens (%d latencies), the backend wrote %d", received, m.hist.Count(), bev.Received)
	}
	if elapsed := time.Unix(0, lastAt).Sub(begin); elapsed > 0 {
		m.perSecond = float64(received) / elapsed.Seconds()
	}
	n := float64(streams)
	m.heap = float64(int64(open.heap)-int64(before.heap)) / n
	m.stack = float64(int64(open.stack)-int64(before.stack)) / n
	m.goroutines = float64(open.goroutines-before.goroutines) / n
	m.serverCPU = float64(cpu1-cpu0) / float64(received)
	m.backendCPU = float64(backendCPU1-backendCPU0) / float64(received)
	m.clientCPU = float64(clientCPU1-clientCPU0) / float64(received)
	m.allocs = float64(mem1.Mallocs-mem0.Mallocs) / float64(received)
	m.extra = float64(extra) / n
	return m
}
