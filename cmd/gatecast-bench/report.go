package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// logf reports progress on standard error; standard output carries the
// results alone.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gatecast-bench: "+format+"\n", args...)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// leastSquares returns the slope of the least-squares line through the
// points, and false if there are fewer than two distinct xs.
func leastSquares(xs, ys []float64) (float64, bool) {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return 0, false
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i] / n
		my += ys[i] / n
	}
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// ratio returns a/b, or 0 when b is 0 (unknown).
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// find returns the run of the named target, if any.
func find[T any](runs []T, target string, name func(T) string) (T, bool) {
	for _, r := range runs {
		if name(r) == target {
			return r, true
		}
	}
	var zero T
	return zero, false
}

// problemsError returns an error naming the first run with problems, which
// make the measurement not what it should be (valid, loss-free), or nil.
// problems returns a run's name and problems.
func problemsError[R any](runs []R, what string, problems func(R) (string, []string)) error {
	for _, r := range runs {
		if name, p := problems(r); len(p) > 0 {
			return fmt.Errorf("%s: the measurement is not %s: %s", name, what, strings.Join(p, "; "))
		}
	}
	return nil
}

func printIdle(w io.Writer, runs []idleRun) {
	fmt.Fprintln(w, "Idle connections: resident memory of the server process")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tconns\tRSS MiB\tKiB/conn since base\tthreads\tgoroutines\tfds\tsettled\t")
	for _, r := range runs {
		for _, p := range append([]idlePoint{r.Base}, r.Levels...) {
			per := "-"
			if p.Conns > 0 {
				per = fmt.Sprintf("%.1f", (float64(p.RSS)-float64(r.Base.RSS))/float64(p.Conns)/1024)
			}
			g := "-"
			if p.Goroutines >= 0 {
				g = fmt.Sprint(p.Goroutines)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%d\t%s\t%d\t%v\t\n", r.Target, p.Conns, float64(p.RSS)/(1<<20), per, p.Threads, g, p.FDs, p.Settled)
		}
	}
	tw.Flush()

	out := struct {
		Benchmark string    `json:"benchmark"`
		Runs      []idleRun `json:"runs"`
		Ratio     float64   `json:"baseline_over_gatecast,omitempty"`
		TLSExtra  float64   `json:"tls_minus_plain_bytes_per_conn,omitempty"`
	}{Benchmark: "idle", Runs: runs}
	fmt.Fprintln(w)
	for _, r := range runs {
		fmt.Fprintf(w, "%s: %.0f bytes/conn (least-squares slope of RSS over conns)\n", r.Target, r.BytesPerConn)
	}
	name := func(r idleRun) string { return r.Target }
	b, okb := find(runs, targetBaseline, name)
	g, okg := find(runs, targetGatecast, name)
	if okb && okg {
		out.Ratio = ratio(b.BytesPerConn, g.BytesPerConn)
		fmt.Fprintf(w, "baseline/gatecast: %.2fx the memory per connection\n", out.Ratio)
	}
	if t, okt := find(runs, targetGatecastTLS, name); okt && okg {
		out.TLSExtra = t.BytesPerConn - g.BytesPerConn
		fmt.Fprintf(w, "gatecast-tls - gatecast: %+.0f bytes/conn (%.1f KiB) for TLS\n", out.TLSExtra, out.TLSExtra/1024)
	}
	j, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", j)
}

// echoRun is one target's echo measurement, merged over its clients.
type echoRun struct {
	Target string `json:"target"`
	closedLoop
	ServerRSS uint64 `json:"server_rss_bytes"`
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func printEcho(w io.Writer, runs []echoRun) {
	fmt.Fprintln(w, "Echo: closed loop, one message in flight per connection")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tconns\tsize\troundtrips/s\tp50 µs\tp99 µs\tp99.9 µs\tmax µs\terrors\tserver CPU s\tRT/server-CPU-s\tserver RSS MiB\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%.2f\t%.0f\t%.1f\t\n",
			r.Target, r.Conns, r.Size, r.PerSecond, r.P50US, r.P99US, r.P999US, r.MaxUS, r.Errors, r.ServerCPU, r.PerCPUSecond, float64(r.ServerRSS)/(1<<20))
	}
	tw.Flush()

	out := struct {
		Benchmark  string    `json:"benchmark"`
		Runs       []echoRun `json:"runs"`
		Throughput float64   `json:"throughput_gatecast_over_baseline,omitempty"`
		P99        float64   `json:"p99_gatecast_over_baseline,omitempty"`
		TLSThrough float64   `json:"throughput_tls_over_plain,omitempty"`
		TLSPerCPU  float64   `json:"per_server_cpu_tls_over_plain,omitempty"`
		TLSP99     float64   `json:"p99_tls_over_plain,omitempty"`
	}{Benchmark: "echo", Runs: runs}
	name := func(r echoRun) string { return r.Target }
	b, okb := find(runs, targetBaseline, name)
	g, okg := find(runs, targetGatecast, name)
	if okb && okg {
		out.Throughput = ratio(g.PerSecond, b.PerSecond)
		out.P99 = ratio(g.P99US, b.P99US)
		fmt.Fprintf(w, "\ngatecast/baseline: %.2fx the round trips per second, %.2fx the p99 latency\n", out.Throughput, out.P99)
	}
	if t, okt := find(runs, targetGatecastTLS, name); okt && okg {
		out.TLSThrough, out.TLSPerCPU, out.TLSP99 = ratio(t.PerSecond, g.PerSecond), ratio(t.PerCPUSecond, g.PerCPUSecond), ratio(t.P99US, g.P99US)
		fmt.Fprintf(w, "\ngatecast-tls/gatecast: %.2fx the round trips per second, %.2fx per server CPU-second, %.2fx the p99 latency\n", out.TLSThrough, out.TLSPerCPU, out.TLSP99)
	}
	j, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", j)
}
