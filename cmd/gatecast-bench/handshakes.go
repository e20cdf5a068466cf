package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/gatecast/gatecast/netpoll"

	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/bench/procstat"
)

// handshakesFlags configure the handshakes orchestrator.
type handshakesFlags struct {
	targetFlags
	loops       int
	duration    time.Duration
	procs       int
	insecure    bool
	openTimeout time.Duration
	cpuDir      string
}

// handshakeRun is one target's handshake measurement: a round trip of
// the closed loop is one connection opened and closed.
type handshakeRun struct {
	Target string `json:"target"`
	closedLoop
	ServerRSS uint64 `json:"server_rss_bytes"`
}

func runHandshakeBench(ctx context.Context, args []string) error {
	var f handshakesFlags
	fs := flag.NewFlagSet("gatecast-bench handshakes", flag.ContinueOnError)
	f.register(fs)
	fs.IntVar(&f.loops, "conns", 64, "concurrent loops, each opening and closing one connection at a time")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "length of the loops")
	fs.IntVar(&f.procs, "procs", 2, "client processes to spread the loops over")
	fs.BoolVar(&f.insecure, "tls-insecure", false, "clients skip verifying the certificate (saves their CPU, which shares the cores with the server)")
	fs.DurationVar(&f.openTimeout, "open-timeout", 30*time.Second, "time for every loop's first attempt")
	fs.StringVar(&f.cpuDir, "cpu-profile", "", "save a CPU profile of the server over the middle of the loops into this `directory`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Always gatecast plain and with TLS: a handshake rate means something
	// next to the plain connect rate of the same run.
	f.tls = true
	targets, err := f.targetsOrTLS(fs)
	defer f.cert.remove()
	if err != nil {
		return err
	}
	if f.loops < 1 || f.procs < 1 || f.duration <= 0 {
		return errors.New("--conns, --procs and --duration must be positive")
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return err
	}

	runs, err := measureTargets(ctx, targets, &f, measureHandshakes)
	if err != nil {
		return err
	}
	printHandshakes(os.Stdout, runs)
	return problemsError(runs, "valid", func(r handshakeRun) (string, []string) { return r.Target, r.Problems })
}

// measureHandshakes starts the target and runs the handshake loops
// against it.
func measureHandshakes(ctx context.Context, name string, f *handshakesFlags, fleet *load.Fleet) (handshakeRun, error) {
	run := handshakeRun{Target: name}
	srv, err := startServer(ctx, name, &f.targetFlags)
	if err != nil {
		return run, err
	}
	defer srv.stop()
	defer fleet.Kill()

	cfg := load.ClientConfig{URL: srv.url, TLSCAFile: srv.caFile, TLSInsecure: f.insecure && srv.caFile != "", Mode: load.Handshake,
		Conns: f.loops, Duration: f.duration, WaitStart: true, OpenTimeout: f.openTimeout}
	logf("%s: %d loops open and close connections for %v", name, f.loops, f.duration)
	profiled := make(chan error, 1)
	if f.cpuDir != "" && f.duration >= 3*time.Second {
		// The loops start once every first attempt is done: a second or so.
		go func() { profiled <- saveCPUProfile(ctx, srv, f.cpuDir, time.Second, f.duration-2*time.Second) }()
	} else {
		profiled <- nil
	}
	if run.closedLoop, err = runClosedLoop(ctx, fleet, srv, cfg, f.procs); err != nil {
		return run, err
	}
	if err := <-profiled; err != nil {
		return run, err
	}
	st, err := procstat.Read(srv.pid())
	if err != nil {
		return run, err
	}
	run.ServerRSS = st.RSS
	logf("%s: %d connections opened and closed, %.0f/s, p99 %.0fµs", name, run.Roundtrips, run.PerSecond, run.P99US)
	return run, nil
}

func printHandshakes(w io.Writer, runs []handshakeRun) {
	fmt.Fprintln(w, "Handshakes: closed loops of connect, TLS handshake (gatecast-tls), upgrade and closing handshake")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tloops\tconnections/s\tp50 µs\tp99 µs\tp99.9 µs\tmax µs\terrors\tserver CPU s\tserver CPU µs/conn\tserver RSS MiB\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%.2f\t%.0f\t%.1f\t\n",
			r.Target, r.Conns, r.PerSecond, r.P50US, r.P99US, r.P999US, r.MaxUS, r.Errors, r.ServerCPU,
			ratio(r.ServerCPU*1e6, float64(r.Roundtrips)), float64(r.ServerRSS)/(1<<20))
	}
	tw.Flush()

	out := struct {
		Benchmark  string         `json:"benchmark"`
		Runs       []handshakeRun `json:"runs"`
		Throughput float64        `json:"throughput_tls_over_plain,omitempty"`
		PerCPU     float64        `json:"per_server_cpu_tls_over_plain,omitempty"`
	}{Benchmark: "handshakes", Runs: runs}
	name := func(r handshakeRun) string { return r.Target }
	p, okp := find(runs, targetGatecast, name)
	t, okt := find(runs, targetGatecastTLS, name)
	if okp && okt {
		out.Throughput, out.PerCPU = ratio(t.PerSecond, p.PerSecond), ratio(t.PerCPUSecond, p.PerCPUSecond)
		fmt.Fprintf(w, "\ngatecast-tls/gatecast: %.2fx the connections per second, %.2fx per server CPU-second\n", out.Throughput, out.PerCPU)
	}
	j, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", j)
}
