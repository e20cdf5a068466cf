package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gatecast/gatecast/netpoll"

	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/bench/procstat"
)

// echoFlags configure the echo orchestrator.
type echoFlags struct {
	targetFlags
	conns       int
	size        int
	duration    time.Duration
	procs       int
	openTimeout time.Duration
}

func runEcho(ctx context.Context, args []string) error {
	var f echoFlags
	fs := flag.NewFlagSet("gatecast-bench echo", flag.ContinueOnError)
	f.register(fs)
	fs.IntVar(&f.conns, "conns", 1000, "connections, each with one message in flight")
	fs.IntVar(&f.size, "size", 64, "message size in bytes")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "length of the echo loop")
	fs.IntVar(&f.procs, "procs", 2, "client processes to spread the connections over")
	fs.DurationVar(&f.openTimeout, "open-timeout", 60*time.Second, "time for the connections to open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets, err := f.targets()
	if err != nil {
		return err
	}
	if f.conns < 1 || f.procs < 1 || f.size < 0 || f.duration <= 0 {
		return errors.New("--conns, --procs and --duration must be positive, --size not negative")
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return err
	}

	fleet, err := newFleet()
	if err != nil {
		return err
	}
	var runs []echoRun
	for _, name := range targets {
		r, err := measureEcho(ctx, name, &f, fleet)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		runs = append(runs, r)
	}
	printEcho(os.Stdout, runs)
	for _, r := range runs {
		if len(r.Problems) > 0 {
			return fmt.Errorf("%s: the measurement is not valid: %s", r.Target, strings.Join(r.Problems, "; "))
		}
	}
	return nil
}

// measureEcho starts the target, opens every connection in every client,
// starts all the loops at once and merges what the clients report.
func measureEcho(ctx context.Context, name string, f *echoFlags, fleet *load.Fleet) (echoRun, error) {
	run := echoRun{Target: name, Conns: f.conns, Size: f.size}
	srv, err := startServer(ctx, name, &f.targetFlags)
	if err != nil {
		return run, err
	}
	defer srv.stop()
	defer fleet.Kill()

	openCtx, cancel := context.WithTimeout(ctx, f.openTimeout+10*time.Second)
	cfg := load.ClientConfig{URL: srv.url, Mode: load.Echo, Size: f.size, Duration: f.duration, WaitStart: true, OpenTimeout: f.openTimeout}
	ws, err := fleet.Open(openCtx, cfg, load.Shares(f.conns, min(f.procs, f.conns)))
	cancel()
	if err != nil {
		return run, err
	}
	cpu0, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return run, err
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return run, err
		}
	}
	logf("%s: %d connections in %d processes echo %d-byte messages for %v", name, f.conns, len(ws), f.size, f.duration)

	// A round trip in flight at the end may take the clients' grace period.
	finishCtx, cancel := context.WithTimeout(ctx, f.duration+30*time.Second)
	defer cancel()
	evs, err := load.Finish(finishCtx, ws)
	if err != nil {
		return run, err
	}
	cpu1, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return run, err
	}
	st, err := procstat.Read(srv.pid())
	if err != nil {
		return run, err
	}

	var hist load.Histogram
	var seconds float64
	for _, ev := range evs {
		run.Roundtrips += ev.Roundtrips
		run.Errors += ev.Errors
		if ev.Seconds > 0 {
			run.PerSecond += float64(ev.Roundtrips) / ev.Seconds
		}
		seconds = max(seconds, ev.Seconds)
		if ev.Latency != nil {
			hist.Merge(ev.Latency)
		}
		if ev.Errors > 0 {
			run.Problems = append(run.Problems, fmt.Sprintf("%d connections failed: %s", ev.Errors, ev.FirstError))
		}
	}
	if hist.Count() != run.Roundtrips {
		run.Problems = append(run.Problems, fmt.Sprintf("the histograms hold %d round trips, the counts say %d", hist.Count(), run.Roundtrips))
	}
	run.P50US, run.P99US, run.P999US = us(hist.Percentile(0.5)), us(hist.Percentile(0.99)), us(hist.Percentile(0.999))
	run.MaxUS = us(hist.Max())
	run.ServerCPU = (cpu1 - cpu0).Seconds()
	run.PerCPUSecond = ratio(float64(run.Roundtrips), run.ServerCPU)
	run.ServerRSS = st.RSS
	logf("%s: %d round trips in %.1fs, p99 %.0fµs", name, run.Roundtrips, seconds, run.P99US)
	return run, nil
}
