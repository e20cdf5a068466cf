package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gatecast/gatecast/bench/load"
)

// perClient is the most connections one client process opens.
const perClient = 5000

// BenchmarkIdleConns measures what a server holding idle connections costs
// per connection: heap and goroutine stacks after a GC, and goroutines.
// ns/op is the time to open, measure and close them, and means little.
func BenchmarkIdleConns(b *testing.B) {
	for _, srv := range servers {
		for _, conns := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("server=%s/conns=%d", srv.name, conns), func(b *testing.B) {
				benchIdle(b, srv, conns)
			})
		}
	}
}

// memSnapshot is the part of the process the idle figures come from.
type memSnapshot struct {
	heap, stack uint64
	goroutines  int
}

func takeSnapshot() memSnapshot {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSnapshot{heap: m.HeapInuse, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

func benchIdle(b *testing.B, srv benchServer, conns int) {
	addr, stop := srv.start(b)
	defer stop()
	fleet := newFleet(b)
	idle := settledGoroutines(b)

	var heap, stack, goroutines float64
	for range b.N {
		// The connections of the last round must be gone from the server.
		waitGoroutines(b, func(n int) bool { return n <= idle })
		before := takeSnapshot()

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		ws, err := fleet.Open(ctx, load.ClientConfig{URL: srv.url(addr), Conns: conns, Mode: load.Idle}, load.SharesOf(conns, perClient))
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		settledGoroutines(b) // the server has set every connection up
		after := takeSnapshot()

		// Check the measurement before reporting it: every connection
		// stayed open throughout.
		evs, err := load.Finish(ctx, ws)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Lost > 0 {
				b.Fatalf("%d connections were lost while measuring: %s", ev.Lost, ev.FirstError)
			}
		}
		heap += float64(int64(after.heap)-int64(before.heap)) / float64(conns)
		stack += float64(int64(after.stack)-int64(before.stack)) / float64(conns)
		goroutines += float64(after.goroutines-before.goroutines) / float64(conns)
	}
	n := float64(b.N)
	b.ReportMetric(heap/n, "heap-bytes/conn")
	b.ReportMetric(stack/n, "stack-bytes/conn")
	b.ReportMetric(goroutines/n, "goroutines/conn")
}

// settleWait bounds the waits for goroutines to settle.
const settleWait = 10 * time.Second

// settledGoroutines waits until the goroutine count has not changed for a
// few polls and returns it.
func settledGoroutines(tb testing.TB) int {
	tb.Helper()
	last, same := runtime.NumGoroutine(), 0
	waitGoroutines(tb, func(n int) bool {
		if n != last {
			last, same = n, 0
		}
		same++
		return same >= 5
	})
	return last
}

// waitGoroutines polls the goroutine count until ok accepts it.
func waitGoroutines(tb testing.TB, ok func(n int) bool) {
	tb.Helper()
	deadline := time.Now().Add(settleWait)
	for n := runtime.NumGoroutine(); !ok(n); n = runtime.NumGoroutine() {
		if time.Now().After(deadline) {
			tb.Fatalf("goroutines did not settle within %v (now %d)", settleWait, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
