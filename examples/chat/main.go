// Command chat is a chat-room backend for gatecast: rooms are gateway
// topics, so a message published once reaches every member on every
// gateway node. Clients send JSON:
//
//	{"action":"join","room":"lobby"}
//	{"action":"send","room":"lobby","text":"hi"}
//	{"action":"leave","room":"lobby"}
//
// Run the gateway on its defaults (every action reaches the $default route,
// which dispatches it) or with examples/chat/gatecast.yaml (one route per
// action, and a $connect that checks ?name=), then:
//
//	go run ./examples/chat [--nats nats://127.0.0.1:4222]
//
// See examples/README.md.
package main

import (
	"log/slog"

	"github.com/gatecast/gatecast/examples/internal/example"

	"github.com/gatecast/gatecast/backend"
)

func main() {
	example.Run("chat", "gatecast connect 'ws://127.0.0.1:8080/?name=ann'", func(c *backend.Client, log *slog.Logger) error {
		return newChat(c, log).register()
	})
}
