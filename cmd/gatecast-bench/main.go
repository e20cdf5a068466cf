// Command gatecast-bench measures gatecast against the baseline server: idle
// memory per connection, echo round trips and topic fan-out, and gatecast's
// route round trip against direct NATS request/reply. It runs the servers
// and its own load clients as child processes; see bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: gatecast-bench COMMAND [flags]

commands:
  idle      idle memory per connection: RSS of the server as connections grow
  echo      echo round trips per second and latency percentiles
  fanout    topic fan-out: deliveries per second and publish-to-receive latency
  route     gatecast's route round trip to a NATS backend against direct NATS
  handshakes  connections opened and closed per second, gatecast plain and with TLS
  connect-storm  5,000 upgrade attempts/s against the 500/s connect rate: admitted vs allowance, echo p99 of open connections
  baseline  run the baseline server (echo, /broadcast hub) until SIGINT or SIGTERM
  client    run one load client process (used by the other commands)

Run gatecast-bench COMMAND -h for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "idle":
		err = runIdle(ctx, args)
	case "echo":
		err = runEcho(ctx, args)
	case "fanout":
		err = runFanOut(ctx, args)
	case "route":
		err = runRoute(ctx, args)
	case "handshakes":
		err = runHandshakeBench(ctx, args)
	case "connect-storm":
		err = runConnectStorm(ctx, args)
	case "storm-client":
		err = runStormClient(ctx, args)
	case "baseline":
		err = runBaseline(ctx, args)
	case "client":
		err = runClient(ctx, args)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "gatecast-bench: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "gatecast-bench:", err)
		stop()
		os.Exit(1)
	}
}
