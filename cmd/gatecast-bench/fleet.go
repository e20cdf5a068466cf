package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/gatecast/gatecast/bench/load"
)

// newFleet returns a fleet whose clients are this program's client command.
func newFleet() (*load.Fleet, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return &load.Fleet{Command: func(cfg load.ClientConfig) *exec.Cmd {
		return exec.Command(self, append([]string{"client"}, cfg.Args()...)...)
	}}, nil
}

// measureTargets measures the targets one after the other with one fleet
// of clients, and returns their runs in the same order. It stops at the
// first error, prefixed with the target's name.
func measureTargets[F, R any](ctx context.Context, targets []string, f *F, measure func(context.Context, string, *F, *load.Fleet) (R, error)) ([]R, error) {
	fleet, err := newFleet()
	if err != nil {
		return nil, err
	}
	var runs []R
	for _, name := range targets {
		r, err := measure(ctx, name, f, fleet)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}
