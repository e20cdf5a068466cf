package load

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// Fleet starts load clients as child processes, each dialing from its own
// source address, and remembers them so that one Kill ends them all.
type Fleet struct {
	// Command returns the command that runs one client with cfg, passing
	// it cfg.Args(). Required.
	Command func(cfg ClientConfig) *exec.Cmd
	// NextSource is the SourceIP index the next client dials from. Keep
	// one Fleet (or carry NextSource over) for a whole run, so that no two
	// clients share an address.
	NextSource int

	workers []*Worker
}

// Open starts one client per share, share[i] connections each, with cfg
// otherwise, and waits until each has reported its open event. It fails,
// killing the clients it started, unless every connection opened: a
// measurement over fewer connections than asked would be wrong.
//
// With cfg.Rounds, the round trips are split over the clients.
func (f *Fleet) Open(ctx context.Context, cfg ClientConfig, shares []int) ([]*Worker, error) {
	rounds := Shares(cfg.Rounds, len(shares))
	ws := make([]*Worker, 0, len(shares))
	for i, n := range shares {
		c := cfg
		c.Conns, c.Rounds = n, rounds[i]
		c.Source = SourceIP(f.NextSource)
		f.NextSource++
		w, err := StartWorker(f.Command(c))
		if err != nil {
			KillAll(ws)
			return nil, err
		}
		f.workers = append(f.workers, w)
		ws = append(ws, w)
	}
	var errs []error
	for i, w := range ws {
		ev, err := w.Opened(ctx)
		switch {
		case err != nil:
			errs = append(errs, err)
		case ev.Open != shares[i]:
			errs = append(errs, fmt.Errorf("load: client %d opened %d of %d connections: %s", w.Pid(), ev.Open, shares[i], ev.FirstError))
		}
	}
	if err := errors.Join(errs...); err != nil {
		KillAll(ws)
		return nil, err
	}
	return ws, nil
}

// Kill kills every client the fleet has started.
func (f *Fleet) Kill() { KillAll(f.workers) }

// Finish finishes every worker (see Worker.Finish) and returns their
// results in order, with the errors of those that failed.
func Finish(ctx context.Context, ws []*Worker) ([]Event, error) {
	evs := make([]Event, len(ws))
	var errs []error
	for i, w := range ws {
		var err error
		evs[i], err = w.Finish(ctx)
		errs = append(errs, err)
	}
	return evs, errors.Join(errs...)
}
