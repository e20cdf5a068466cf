package main

import (
	"context"
	"os"

	"github.com/gatecast/gatecast/bench/load"
)

// runClient is one load client process: its standard input is the
// parent's control channel and its standard output carries JSON events.
func runClient(ctx context.Context, args []string) error {
	cfg, err := load.ParseClientArgs("gatecast-bench client", args, os.Stderr)
	if err != nil {
		return err
	}
	return load.RunClient(ctx, cfg, os.Stdin, os.Stdout)
}
