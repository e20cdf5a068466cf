package backend_test

import (
	"context"
	"errors"
	"log"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
)

// A backend that admits clients with a name, echoes their messages, and
// streams a countdown on request.
func Example() {
	nc, err := nats.Connect("nats://127.0.0.1:4222", nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	c, err := backend.New(nc, backend.Config{})
	if err != nil {
		log.Fatal(err)
	}

	c.HandleConnect(func(ctx context.Context, req *backend.ConnectRequest) error {
		q, _ := url.ParseQuery(req.Upgrade.Query)
		if q.Get("name") == "" {
			return &backend.Refusal{Status: 401, Reason: "connect with ?name=you"}
		}
		return nil
	})

	// Two-way route: the reply goes back to the client.
	c.HandleRoute("$default", func(ctx context.Context, m *backend.Message) ([]byte, error) {
		return m.Data, nil
	})

	// Answer with several messages: Send each, return nil.
	c.HandleRoute("countdown", func(ctx context.Context, m *backend.Message) ([]byte, error) {
		for _, s := range []string{"3", "2", "1", "go"} {
			if err := c.Send(ctx, m.ConnectionID, []byte(s)); errors.Is(err, backend.ErrGone) {
				return nil, nil // the client left
			} else if err != nil {
				return nil, err
			}
		}
		return nil, nil
	})

	c.HandleDisconnect(func(ctx context.Context, d *backend.Disconnect) {
		log.Printf("%s left: %d %s", d.ConnectionID, d.Code, d.Reason)
	})

	// ... until it is time to stop:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.Drain(ctx)
}

// Rooms as topics: join the sender, then tell everyone else.
func ExampleClient_Publish() {
	var c *backend.Client // from backend.New
	c.HandleRoute("join", func(ctx context.Context, m *backend.Message) ([]byte, error) {
		if err := c.Join(ctx, m.ConnectionID, "room.lobby"); err != nil {
			return nil, err
		}
		return nil, c.Publish("room.lobby", []byte(`{"joined":"`+m.ConnectionID+`"}`), backend.Exclude(m.ConnectionID))
	})
}
