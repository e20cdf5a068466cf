package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatecast/gatecast/netpoll"

	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/bench/procstat"
)

// idleFlags configure the idle-memory orchestrator.
type idleFlags struct {
	targetFlags
	levels      []int
	procsPer    int           // client processes per 5000 connections
	quiet       time.Duration // RSS unchanged this long counts as settled
	settleMax   time.Duration // longest wait for RSS to settle
	openTimeout time.Duration // for one level's connections to open
	prime       int           // bytes each connection sends and reads back before idling
	fullRecords bool          // TLS clients send 16 KiB records, as browsers do
	heapDir     string        // where to save the server's heap profile at each level
}

// idlePoint is the server at one number of idle connections.
type idlePoint struct {
	Conns      int    `json:"conns"`
	RSS        uint64 `json:"rss_bytes"`
	Threads    int    `json:"threads"`
	Goroutines int    `json:"goroutines"` // -1: the server does not say
	FDs        int    `json:"fds"`
	Settled    bool   `json:"settled"`
}

// idleRun is one target's measurement.
type idleRun struct {
	Target       string      `json:"target"`
	Base         idlePoint   `json:"base"`
	Levels       []idlePoint `json:"levels"`
	BytesPerConn float64     `json:"bytes_per_conn"` // least-squares slope; 0 if unknown
	Problems     []string    `json:"problems,omitempty"`
}

func runIdle(ctx context.Context, args []string) error {
	var f idleFlags
	fs := flag.NewFlagSet("gatecast-bench idle", flag.ContinueOnError)
	f.register(fs)
	levels := fs.String("levels", "1000,5000,10000,15000", "idle connection counts to measure at, increasing")
	fs.IntVar(&f.procsPer, "procs-per-5000", 1, "client processes per 5000 connections")
	fs.DurationVar(&f.quiet, "settle", time.Second, "RSS unchanged this long counts as settled")
	fs.DurationVar(&f.settleMax, "settle-max", 15*time.Second, "longest wait for RSS to settle at a level")
	fs.DurationVar(&f.openTimeout, "open-timeout", 60*time.Second, "time for one level's connections to open")
	f.registerTLS(fs)
	fs.IntVar(&f.prime, "prime", 0, "each connection sends one message of this many `bytes` and reads its echo before it goes idle (0: none)")
	fs.BoolVar(&f.fullRecords, "tls-full-records", false, "with --tls, the clients send 16 KiB TLS records from the start, as browsers do, instead of Go's small first records")
	fs.StringVar(&f.heapDir, "heap-profile", "", "save the server's heap profile at each level into this `directory` (gatecast only; the profile forces a GC, which moves the RSS of later levels: take the figures from a run without it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets, err := f.targetsOrTLS(fs)
	defer f.cert.remove()
	if err != nil {
		return err
	}
	if f.levels, err = parseLevels(*levels); err != nil {
		return err
	}
	if f.procsPer < 1 {
		return errors.New("--procs-per-5000 must be at least 1")
	}
	limit, err := netpoll.RaiseFDLimit()
	if err != nil {
		return err
	}
	if top := f.levels[len(f.levels)-1]; uint64(top)+100 > limit {
		return fmt.Errorf("level %d needs more file descriptors than the %d one server process may hold", top, limit)
	}

	runs, err := measureTargets(ctx, targets, &f, measureIdle)
	if err != nil {
		return err
	}
	printIdle(os.Stdout, runs)
	return problemsError(runs, "valid", func(r idleRun) (string, []string) { return r.Target, r.Problems })
}

// parseLevels parses "1000,5000" into increasing positive counts.
func parseLevels(s string) ([]int, error) {
	var levels []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--levels: %q is not a positive count", f)
		}
		levels = append(levels, n)
	}
	if !slices.IsSorted(levels) || len(slices.Compact(slices.Clone(levels))) != len(levels) {
		return nil, fmt.Errorf("--levels %s must increase", s)
	}
	return levels, nil
}

// measureIdle starts the target, raises its idle connections level by
// level, and reads it at each level once its RSS has settled. Problems
// that make the figures wrong (connections that did not open or were lost)
// are recorded in the run; errors that stop the measurement are returned.
func measureIdle(ctx context.Context, name string, f *idleFlags, fleet *load.Fleet) (idleRun, error) {
	run := idleRun{Target: name}
	srv, err := startServer(ctx, name, &f.targetFlags)
	if err != nil {
		return run, err
	}
	defer srv.stop()
	defer fleet.Kill()

	run.Base, err = readIdle(ctx, srv, 0, f)
	if err != nil {
		return run, err
	}
	logf("%s: base RSS %s, %d threads", name, mib(run.Base.RSS), run.Base.Threads)

	var workers []*load.Worker
	held := 0
	for _, level := range f.levels {
		openCtx, cancel := context.WithTimeout(ctx, f.openTimeout+10*time.Second)
		cfg := load.ClientConfig{URL: srv.url, TLSCAFile: srv.caFile, TLSFullRecords: f.fullRecords, Mode: load.Idle, Prime: f.prime, OpenTimeout: f.openTimeout}
		ws, err := fleet.Open(openCtx, cfg, load.SharesOf(level-held, 5000/f.procsPer))
		cancel()
		if err != nil {
			run.Problems = append(run.Problems, fmt.Sprintf("at %d connections: %v", level, err))
			break // more levels on top of missing connections would mislead
		}
		workers = append(workers, ws...)
		held = level

		p, err := readIdle(ctx, srv, level, f)
		if err != nil {
			return run, err
		}
		if p.FDs < level {
			run.Problems = append(run.Problems, fmt.Sprintf("at %d connections the server holds only %d file descriptors", level, p.FDs))
		}
		run.Levels = append(run.Levels, p)
		if f.heapDir != "" && name != targetBaseline {
			if err := saveHeapProfile(ctx, srv, f.heapDir, level); err != nil {
				return run, err
			}
		}
		logf("%s: %d conns, RSS %s, %d threads, %d goroutines, settled %v", name, level, mib(p.RSS), p.Threads, p.Goroutines, p.Settled)
	}

	// The clients count the connections the server closed during the hold.
	finishCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	evs, err := load.Finish(finishCtx, workers)
	for _, ev := range evs {
		if ev.Lost > 0 {
			run.Problems = append(run.Problems, fmt.Sprintf("%d connections were lost during the hold: %s", ev.Lost, ev.FirstError))
		}
	}
	if err != nil {
		run.Problems = append(run.Problems, err.Error())
	}
	run.BytesPerConn = idleSlope(run)
	return run, nil
}

// readIdle waits for the server's RSS to settle and reads it.
func readIdle(ctx context.Context, srv *serverProc, conns int, f *idleFlags) (idlePoint, error) {
	sctx, cancel := context.WithTimeout(ctx, f.settleMax)
	st, settled, err := procstat.Settle(sctx, srv.pid(), f.quiet)
	cancel()
	if err != nil {
		return idlePoint{}, err
	}
	if ctx.Err() != nil {
		return idlePoint{}, ctx.Err()
	}
	fds, err := procstat.FDs(srv.pid())
	if err != nil {
		return idlePoint{}, err
	}
	return idlePoint{Conns: conns, RSS: st.RSS, Threads: st.Threads, Goroutines: srv.goroutines(ctx), FDs: fds, Settled: settled}, nil
}

// idleSlope fits RSS against connections over the levels; with a single
// level it falls back to the line from the base. The levels alone leave out
// what the first connections cost once (buffers, pools, heap growth) and so
// give the marginal cost a planner wants.
func idleSlope(r idleRun) float64 {
	pts := r.Levels
	if len(pts) < 2 {
		pts = append([]idlePoint{r.Base}, pts...)
	}
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = float64(p.Conns), float64(p.RSS)
	}
	s, _ := leastSquares(xs, ys)
	return s
}
