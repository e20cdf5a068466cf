// Package example runs an example backend: it reads the --nats flag,
// connects (retrying until the gateway's NATS is up, so an example may
// start first), registers the example's handlers, and drains them on
// SIGINT or SIGTERM. What is left in each example is what it shows.
package example

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
)

// Run parses the command line (the example's own flags must be defined
// before), then runs register on a connected backend.Client until a
// signal. hint is logged once the backend is ready.
func Run(name, hint string, register func(c *backend.Client, log *slog.Logger) error) {
	url := flag.String("nats", envOr("GATECAST_NATS_URL", "nats://127.0.0.1:4222"), "`URL` of the gateway's NATS server (env GATECAST_NATS_URL)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	nc := connect(*url, "gatecast-example-"+name, log)
	c, err := backend.New(nc, backend.Config{Logger: log})
	if err != nil {
		log.Error("backend", "err", err)
		os.Exit(1)
	}
	if err := register(c, log); err != nil {
		log.Error("backend", "err", err)
		os.Exit(1)
	}
	log.Info(name + " backend ready; try: " + hint)
	waitAndDrain(c, nc, log)
}

// connect dials NATS and keeps retrying, so that the backend may start
// before the gateway: subscriptions made meanwhile take effect on connect.
func connect(url, name string, log *slog.Logger) *nats.Conn {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.ConnectHandler(func(nc *nats.Conn) { log.Info("connected to NATS", "url", nc.ConnectedUrl()) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "url", nc.ConnectedUrl()) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS; retrying", "err", err)
			}
		}),
	)
	if err != nil {
		log.Error("NATS", "url", url, "err", err)
		os.Exit(1)
	}
	if !nc.IsConnected() {
		log.Info("waiting for NATS; is the gateway running?", "url", url)
	}
	return nc
}

// waitAndDrain blocks until SIGINT or SIGTERM, then lets the handlers
// finish (for at most 10 s) before closing the NATS connection.
func waitAndDrain(c *backend.Client, nc *nats.Conn, log *slog.Logger) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	<-ctx.Done()
	stop()
	log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Drain(ctx); err != nil {
		log.Warn("handlers cut short", "err", err)
	}
	nc.Close()
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
