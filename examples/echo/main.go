// Command echo is the smallest gatecast backend: it answers every message
// on the $default route with the message itself, as the route response.
//
//	go run ./examples/echo [--nats nats://127.0.0.1:4222]
//
// See examples/README.md for how to try it.
package main

import (
	"context"
	"log/slog"

	"github.com/gatecast/gatecast/examples/internal/example"

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
	example.Run("echo", "gatecast connect ws://127.0.0.1:8080/", func(c *backend.Client, _ *slog.Logger) error {
		return register(c)
	})
}
