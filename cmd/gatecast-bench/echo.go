package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
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
	f.registerTLS(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets, err := f.targetsOrTLS(fs)
	defer f.cert.remove()
	if err != nil {
		return err
	}
	if f.conns < 1 || f.procs < 1 || f.size < 0 || f.duration <= 0 {
		return errors.New("--conns, --procs and --duration must be positive, --size not negative")
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return err
	}

	runs, err := measureTargets(ctx, targets, &f, measureEcho)
	if err != nil {
		return err
	}
	printEcho(os.Stdout, runs)
	return problemsError(runs, "valid", func(r echoRun) (string, []string) { return r.Target, r.Problems })
}

// measureEcho starts the target, opens every connection in every client,
// starts all the loops at once and merges what the clients report.
func measureEcho(ctx context.Context, name string, f *echoFlags, fleet *load.Fleet) (echoRun, error) {
	run := echoRun{Target: name}
	srv, err := startServer(ctx, name, &f.targetFlags)
	if err != nil {
		return run, err
	}
	defer srv.stop()
	defer fleet.Kill()

	cfg := load.ClientConfig{URL: srv.url, TLSCAFile: srv.caFile, Mode: load.Echo, Conns: f.conns, Size: f.size, Duration: f.duration, WaitStart: true, OpenTimeout: f.openTimeout}
	logf("%s: %d connections echo %d-byte messages for %v", name, f.conns, f.size, f.duration)
	if run.closedLoop, err = runClosedLoop(ctx, fleet, srv, cfg, f.procs); err != nil {
		return run, err
	}
	st, err := procstat.Read(srv.pid())
	if err != nil {
		return run, err
	}
	run.ServerRSS = st.RSS
	logf("%s: %d round trips, %.0f/s, p99 %.0fµs", name, run.Roundtrips, run.PerSecond, run.P99US)
	return run, nil
}

// closedLoop is what a run of closed loops measures (one request in flight
// per client), for the echo and route commands alike.
type closedLoop struct {
	Conns        int      `json:"conns"`
	Size         int      `json:"size"`
	Roundtrips   uint64   `json:"roundtrips"`
	PerSecond    float64  `json:"roundtrips_per_s"`
	P50US        float64  `json:"p50_us"`
	P99US        float64  `json:"p99_us"`
	P999US       float64  `json:"p999_us"`
	MaxUS        float64  `json:"max_us"`
	Errors       int      `json:"errors"`
	ServerCPU    float64  `json:"server_cpu_s"`
	PerCPUSecond float64  `json:"roundtrips_per_server_cpu_s"`
	Problems     []string `json:"problems,omitempty"`
}

// runClosedLoop opens cfg.Conns clients over procs processes, starts them
// all at once, waits for their results and merges them, with the server's
// CPU time over the run.
func runClosedLoop(ctx context.Context, fleet *load.Fleet, srv *serverProc, cfg load.ClientConfig, procs int) (closedLoop, error) {
	run := closedLoop{Conns: cfg.Conns, Size: cfg.Size}
	openCtx, cancel := context.WithTimeout(ctx, cfg.OpenTimeout+10*time.Second)
	ws, err := fleet.Open(openCtx, cfg, load.Shares(cfg.Conns, min(procs, cfg.Conns)))
	cancel()
	if err != nil {
		return run, err
	}
	defer load.KillAll(ws)
	cpu0, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return run, err
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return run, err
		}
	}
	// A round trip in flight at the end may take the clients' grace period.
	finishCtx, cancel := context.WithTimeout(ctx, cfg.Duration+30*time.Second)
	defer cancel()
	evs, err := load.Finish(finishCtx, ws)
	if err != nil {
		return run, err
	}
	cpu1, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return run, err
	}

	var hist load.Histogram
	for _, ev := range evs {
		run.Roundtrips += ev.Roundtrips
		run.Errors += ev.Errors
		if ev.Seconds > 0 {
			run.PerSecond += float64(ev.Roundtrips) / ev.Seconds
		}
		if ev.Latency != nil {
			hist.Merge(ev.Latency)
		}
		if ev.Errors > 0 {
			run.Problems = append(run.Problems, fmt.Sprintf("%d clients failed: %s", ev.Errors, ev.FirstError))
		}
	}
	if hist.Count() != run.Roundtrips {
		run.Problems = append(run.Problems, fmt.Sprintf("the histograms hold %d round trips, the counts say %d", hist.Count(), run.Roundtrips))
	}
	run.P50US, run.P99US, run.P999US = us(hist.Percentile(0.5)), us(hist.Percentile(0.99)), us(hist.Percentile(0.999))
	run.MaxUS = us(hist.Max())
	run.ServerCPU = (cpu1 - cpu0).Seconds()
	run.PerCPUSecond = ratio(float64(run.Roundtrips), run.ServerCPU)
	return run, nil
}
