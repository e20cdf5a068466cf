// Command llmstream is a gatecast backend that streams its answers the way
// an LLM backend does: a prompt gets many small token messages, paced like
// a model generating them, then {"type":"done","tokens":N}. The tokens are
// made up from the prompt; no model runs.
//
//	go run ./examples/llmstream [--nats nats://127.0.0.1:4222]
//
// See examples/README.md.
package main

import (
	"flag"
	"log/slog"
	"time"

	"github.com/gatecast/gatecast/examples/internal/example"

	"github.com/gatecast/gatecast/backend"
)

func main() {
	minDelay := flag.Duration("min-delay", 20*time.Millisecond, "shortest pause between tokens")
	maxDelay := flag.Duration("max-delay", 50*time.Millisecond, "longest pause between tokens")
	maxTokens := flag.Int("max-tokens", 120, "longest answer, in tokens; keep tokens × max-delay under the route timeout (29 s)")
	example.Run("llmstream", "gatecast connect ws://127.0.0.1:8080/", func(c *backend.Client, log *slog.Logger) error {
		s := &streamer{c: c, log: log, minDelay: *minDelay, maxDelay: *maxDelay, maxTokens: *maxTokens}
		return s.register()
	})
}
