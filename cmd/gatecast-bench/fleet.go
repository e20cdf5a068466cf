package main

import (
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
