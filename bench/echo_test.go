package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatecast/gatecast/bench/load"
)

// echoBound is the longest an echo benchmark's loop may run, whatever b.N.
const echoBound = 60 * time.Second

// BenchmarkEcho runs a closed echo loop: each connection sends a binary
// message, waits for its echo and sends the next. One op is one round trip
// (b.N of them spread over the connections), so ns/op is the inverse of the
// throughput and allocs/op what the server allocates per round trip; the
// clients run in child processes and are not counted.
func BenchmarkEcho(b *testing.B) {
	for _, srv := range servers {
		for _, conns := range []int{100, 1000} {
			for _, size := range []int{64} {
				b.Run(fmt.Sprintf("server=%s/conns=%d/msg=%dB", srv.name, conns, size), func(b *testing.B) {
					benchEcho(b, srv, conns, size)
				})
			}
		}
	}
}

func benchEcho(b *testing.B, srv benchServer, conns, size int) {
	addr, stop := srv.start(b)
	defer stop()
	fleet := newFleet(b)

	ctx, cancel := context.WithTimeout(context.Background(), echoBound+time.Minute)
	defer cancel()
	cfg := load.ClientConfig{URL: srv.url(addr), Conns: conns, Mode: load.Echo, Size: size, Rounds: b.N, Duration: echoBound, WaitStart: true}
	ws, err := fleet.Open(ctx, cfg, load.SharesOf(conns, perClient))
	if err != nil {
		b.Fatal(err)
	}

	evs := runWorkers(ctx, b, b, ws, size)

	var hist load.Histogram
	var rounds uint64
	var perSecond float64
	for _, ev := range evs {
		if ev.Errors > 0 {
			b.Fatalf("%d connections failed: %s", ev.Errors, ev.FirstError)
		}
		rounds += ev.Roundtrips
		if ev.Seconds > 0 {
			perSecond += float64(ev.Roundtrips) / ev.Seconds
		}
		hist.Merge(ev.Latency)
	}
	// Check the measurement: every round trip asked for was made, within
	// the time bound, and is in the histogram.
	if rounds != uint64(b.N) || hist.Count() != rounds {
		b.Fatalf("made %d round trips with %d latencies, want %d (did the %v bound cut the loop?)", rounds, hist.Count(), b.N, echoBound)
	}
	b.ReportMetric(perSecond, "roundtrips/s")
	b.ReportMetric(float64(hist.Percentile(0.5))/float64(time.Microsecond), "p50-µs")
	b.ReportMetric(float64(hist.Percentile(0.99))/float64(time.Microsecond), "p99-µs")
}
