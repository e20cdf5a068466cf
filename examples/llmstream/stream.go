package main

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/gatecast/gatecast/backend"
)

// What the client receives, in order: tokens, then done.
type (
	token struct {
		Type  string `json:"type"` // "token"
		Index int    `json:"index"`
		Text  string `json:"text"`
	}
	done struct {
		Type   string `json:"type"` // "done"
		Tokens int    `json:"tokens"`
	}
	problem struct {
		Type  string `json:"type"` // "error"
		Error string `json:"error"`
	}
)

// streamer answers prompts with a stream of tokens sent to the client one
// message at a time, the way an LLM backend streams its output.
type streamer struct {
	c   *backend.Client
	log *slog.Logger
	// MinDelay and MaxDelay pace the tokens: each waits a random time in
	// between, like a model generating. Zero sends them as fast as the
	// gateway takes them.
	minDelay, maxDelay time.Duration
	// maxTokens bounds an answer, so that a stream ends well within the
	// route's timeout (29 s by default) when the route is two-way.
	maxTokens int
}

// register answers prompts on $default, where they arrive with the
// gateway's default routes, on a "prompt" route if one is configured, and
// over HTTP on the route of gatecast.yaml.
func (s *streamer) register() error {
	for _, key := range []string{"$default", "prompt"} {
		if _, err := s.c.HandleRoute(key, s.prompt); err != nil {
			return err
		}
	}
	_, err := s.c.HandleHTTP(HTTPSubject, http.HandlerFunc(s.serveHTTP))
	return err
}

// prompt streams the answer to one prompt. The SDK hands a connection's
// messages to prompt one at a time, so two prompts from one client are
// answered one after the other, never interleaved, while other clients'
// prompts stream in parallel.
func (s *streamer) prompt(ctx context.Context, m *backend.Message) ([]byte, error) {
	p := promptOf(m.Data)
	if p == "" {
		return nil, ignoreGone(s.send(ctx, m.ConnectionID, problem{"error", `empty prompt; send text, or {"action":"prompt","prompt":"..."}`}))
	}
	tokens := generate(p, s.maxTokens)
	for i, text := range tokens {
		if err := s.pause(ctx); err != nil {
			return nil, err // cut short: the gateway tells a two-way route's client
		}
		if err := s.send(ctx, m.ConnectionID, token{"token", i, text}); err != nil {
			return nil, ignoreGone(err)
		}
	}
	return nil, ignoreGone(s.send(ctx, m.ConnectionID, done{"done", len(tokens)}))
}

// send sends v to the client. Each Send returns once the gateway has
// queued the message, so the tokens arrive in order.
func (s *streamer) send(ctx context.Context, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	err = s.c.Send(ctx, id, b)
	if errors.Is(err, backend.ErrGone) {
		s.log.Info("client left; stream stopped", "connection", id)
	}
	return err
}

// ignoreGone makes a client that left mid-stream no failure: there is
// nobody to tell.
func ignoreGone(err error) error {
	if errors.Is(err, backend.ErrGone) {
		return nil
	}
	return err
}

func (s *streamer) pause(ctx context.Context) error {
	if s.maxDelay <= 0 {
		return ctx.Err()
	}
	d := s.minDelay
	if s.maxDelay > s.minDelay {
		d += rand.N(s.maxDelay - s.minDelay)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// promptOf reads {"prompt":"..."}, or takes a message that is not such
// JSON as the prompt itself, so that plain lines typed into
// "gatecast connect" work.
func promptOf(data []byte) string {
	var req struct {
		Prompt *string `json:"prompt"`
	}
	if json.Unmarshal(data, &req) == nil && req.Prompt != nil {
		return strings.TrimSpace(*req.Prompt)
	}
	return strings.TrimSpace(string(data))
}

var vocabulary = strings.Fields(`the a gateway message route topic node backend client stream
token answer question connection subject reply order latency queue event socket frame server
is are was can will should might often usually quickly quietly carefully because while when
and or but so then therefore however also first next finally here there every each one two`)

// generate makes up the tokens of an answer to prompt: the same prompt
// always gets the same answer, between 16 and maxTokens tokens long (at
// least 16).
func generate(prompt string, maxTokens int) []string {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x9e3779b97f4a7c15))
	maxTokens = max(maxTokens, 16)
	n := 16 + rng.IntN(maxTokens-16+1)

	words := strings.Fields(prompt)
	tokens := make([]string, 0, n)
	tokens = append(tokens, "You", " asked")
	if len(words) > 0 {
		topic := words[0]
		for _, w := range words {
			if len(w) > len(topic) {
				topic = w
			}
		}
		tokens = append(tokens, " about", " "+topic)
	}
	tokens = append(tokens, ".")
	for len(tokens) < n-1 {
		var w string
		if len(words) > 1 && rng.IntN(6) == 0 {
			w = words[rng.IntN(len(words))]
		} else if w = vocabulary[rng.IntN(len(vocabulary))]; tokens[len(tokens)-1] == "." {
			w = strings.ToUpper(w[:1]) + w[1:] // the vocabulary is ASCII
		}
		tokens = append(tokens, " "+w)
		if rng.IntN(10) == 0 && len(tokens) < n-1 {
			tokens = append(tokens, ".")
		}
	}
	return append(tokens[:min(len(tokens), n-1)], ".")
}
