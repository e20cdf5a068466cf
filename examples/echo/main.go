// Command echo is the smallest gatecast backend: it answers every message
// on the $default route with the message itself, as the route response.
//
//	go run ./examples/echo [--nats nats://127.0.0.1:4222]
//
// See examples/README.md for how to try it.
package main

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

// register makes c answer each message with itself: text as text, binary
// as binary.
func register(c *backend.Client) error {
	_, err := c.HandleRoute("$default", func(_ context.Context, m *backend.Message) ([]byte, error) {
		return m.Data, nil
	})
	return err
}

func main() {
	url := flag.String("nats", envOr("GATECAST_NATS_URL", "nats://127.0.0.1:4222"), "`URL` of the gateway's NATS server (env GATECAST_NATS_URL)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	nc := connect(*url, "gatecast-example-echo", log)
	c, err := backend.New(nc, backend.Config{Logger: log})
	if err != nil {
		log.Error("backend", "err", err)
		os.Exit(1)
	}
	if err := register(c); err != nil {
		log.Error("backend", "err", err)
		os.Exit(1)
	}
	log.Info("echo backend ready; try: gatecast connect ws://127.0.0.1:8080/")
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
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("disconnected from NATS; retrying", "err", err) }),
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
