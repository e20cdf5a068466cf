package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// HTTPSubject is the subject of the HTTP route in gatecast.yaml.
const HTTPSubject = "llmstream.http"

// serveHTTP answers POST /v1/stream ({"prompt":"..."}, or the prompt as
// plain text) and GET /v1/stream?prompt=... with Server-Sent Events: one
// "token" event per token, then a "done" event. Each Flush sends one event
// at once; the SDK holds Flush back when the gateway's buffer for a slow
// client is full, and the request's context ends if the client leaves.
func (s *streamer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	prompt := r.URL.Query().Get("prompt")
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		prompt = promptOf(body)
	}
	if prompt == "" {
		http.Error(w, `empty prompt; POST {"prompt":"..."} or GET ?prompt=...`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	rc := http.NewResponseController(w)
	tokens := generate(prompt, s.maxTokens)
	for i, text := range tokens {
		if err := s.pause(r.Context()); err != nil {
			s.log.Info("client left; HTTP stream stopped", "tokens_sent", i)
			return
		}
		b, _ := json.Marshal(token{"token", i, text})
		w.Write(b)
		if err := rc.Flush(); err != nil {
			s.log.Info("HTTP stream stopped", "tokens_sent", i, "err", err)
			return
		}
	}
	fmt.Fprintf(w, `{"type":"done","tokens":%d}`, len(tokens))
}
