package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/protocol"
)

const wait = 5 * time.Second

// received is one message the fake gateway node was told to send.
type received struct {
	conn string // the connection number, from the command subject
	body map[string]any
}

// harness runs the streamer against an embedded NATS server and a fake
// gateway node "n1"; answer decides the status of the i-th send (from 0).
type harness struct {
	t  *testing.T
	gw *nats.Conn

	mu   sync.Mutex
	sent []received
}

func newHarness(t *testing.T, s *streamer, answer func(i int) string) *harness {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(wait) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(ns.Shutdown)
	dial := func() *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}

	nc := dial()
	c, err := backend.New(nc, backend.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Drain(context.Background()) })
	s.c, s.log = c, slog.New(slog.DiscardHandler)
	if err := s.register(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	h := &harness{t: t, gw: dial()}
	subjects := protocol.Subjects{Prefix: "gatecast"}
	if _, err := h.gw.Subscribe(subjects.NodeCommands("n1"), func(m *nats.Msg) {
		n, cmd, ok := subjects.ParseCommand("n1", m.Subject)
		var body map[string]any
		if !ok || cmd != protocol.CommandSend || json.Unmarshal(m.Data, &body) != nil || m.Header.Get(protocol.HeaderMessageType) != "text" {
			t.Errorf("unexpected command %s %q", m.Subject, m.Data)
		}
		h.mu.Lock()
		i := len(h.sent)
		h.sent = append(h.sent, received{strconv.FormatUint(n, 16), body})
		h.mu.Unlock()
		r := nats.NewMsg(m.Reply)
		r.Header.Set(protocol.HeaderStatus, answer(i))
		m.RespondMsg(r)
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.gw.Flush(); err != nil {
		t.Fatal(err)
	}
	return h
}

// prompt sends a message on $default from connection n1-<16 hex of n>
// and returns the route response's status once the handler has finished.
func (h *harness) prompt(n int, body string) string {
	h.t.Helper()
	m := nats.NewMsg("gatecast.default")
	m.Header.Set(protocol.HeaderEventType, protocol.EventMessage)
	m.Header.Set(protocol.HeaderConnectionID, protocol.ConnectionID{Node: "n1", N: uint64(n)}.String())
	m.Header.Set(protocol.HeaderRouteKey, "$default")
	m.Header.Set(protocol.HeaderMessageType, protocol.MessageText)
	m.Data = []byte(body)
	reply, err := h.gw.RequestMsg(m, wait)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply.Header.Get(protocol.HeaderStatus)
}

// stream returns what connection n was sent, in order.
func (h *harness) stream(n int) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, r := range h.sent {
		if r.conn == strconv.FormatInt(int64(n), 16) {
			out = append(out, r.body)
		}
	}
	return out
}

func always204(int) string { return "204" }

// checkStream checks that got is prompt's tokens, in order, then done.
func checkStream(t *testing.T, got []map[string]any, prompt string, maxTokens int) {
	t.Helper()
	tokens := generate(prompt, maxTokens)
	if len(got) != len(tokens)+1 {
		t.Fatalf("got %d messages, want %d tokens and done", len(got), len(tokens))
	}
	for i, text := range tokens {
		want := map[string]any{"type": "token", "index": float64(i), "text": text}
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("message %d = %v, want %v", i, got[i], want)
		}
	}
	if want := (map[string]any{"type": "done", "tokens": float64(len(tokens))}); !reflect.DeepEqual(got[len(tokens)], want) {
		t.Errorf("last message = %v, want %v", got[len(tokens)], want)
	}
}

func TestTokensArriveInOrderThenDone(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"plain text", "why is the sky blue"},
		{"json", `{"action":"prompt","prompt":"why is the sky blue"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &streamer{maxTokens: 60}
			h := newHarness(t, s, always204)
			// The route response comes when the handler returns, after
			// every Send was acknowledged: no polling needed.
			if status := h.prompt(1, tc.body); status != "204" {
				t.Errorf("route response status %q, want 204", status)
			}
			checkStream(t, h.stream(1), "why is the sky blue", 60)
		})
	}
}

// TestStreamsRunInParallel streams to two clients with a pause between
// tokens: both streams are complete and in order, and they overlap, so one
// client's long answer does not hold up the other.
func TestStreamsRunInParallel(t *testing.T) {
	s := &streamer{minDelay: time.Millisecond, maxDelay: 2 * time.Millisecond, maxTokens: 40}
	h := newHarness(t, s, always204)
	prompts := map[int]string{1: "first client", 2: "second client"}
	var wg sync.WaitGroup
	for n, p := range prompts {
		wg.Go(func() {
			if status := h.prompt(n, p); status != "204" {
				t.Errorf("client %d: status %q", n, status)
			}
		})
	}
	wg.Wait()
	for n, p := range prompts {
		checkStream(t, h.stream(n), p, 40)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	first, last := map[string]int{}, map[string]int{}
	for i, r := range h.sent {
		if _, ok := first[r.conn]; !ok {
			first[r.conn] = i
		}
		last[r.conn] = i
	}
	if first["1"] > last["2"] || first["2"] > last["1"] {
		t.Errorf("the streams ran one after the other: %v %v", first, last)
	}
}

func TestStopsWhenTheClientLeaves(t *testing.T) {
	s := &streamer{maxTokens: 60}
	h := newHarness(t, s, func(i int) string {
		if i >= 3 {
			return "410"
		}
		return "204"
	})
	if status := h.prompt(1, "a long question"); status != "204" {
		t.Errorf("route response status %q, want 204: a client leaving is no failure", status)
	}
	if got := h.stream(1); len(got) != 4 {
		t.Errorf("%d sends, want 3 tokens and the one that found the client gone", len(got))
	}
}

func TestEmptyPrompt(t *testing.T) {
	h := newHarness(t, &streamer{maxTokens: 60}, always204)
	h.prompt(1, `{"prompt":"  "}`)
	got := h.stream(1)
	if len(got) != 1 || got[0]["type"] != "error" {
		t.Errorf("sent %v, want one error", got)
	}
}

func TestGenerate(t *testing.T) {
	for _, p := range []string{"x", "why is the sky blue", "über größe", "a b c d e f g h"} {
		for _, maxTokens := range []int{0, 16, 17, 120} {
			a := generate(p, maxTokens)
			if !reflect.DeepEqual(a, generate(p, maxTokens)) {
				t.Errorf("generate(%q) differs between calls", p)
			}
			if len(a) < 16 || len(a) > max(maxTokens, 16) || a[len(a)-1] != "." {
				t.Errorf("generate(%q, %d) = %d tokens %q", p, maxTokens, len(a), a)
			}
		}
	}
	if reflect.DeepEqual(generate("one", 120), generate("two", 120)) {
		t.Error("two prompts got the same answer")
	}
}

func TestPromptOf(t *testing.T) {
	for in, want := range map[string]string{
		`{"action":"prompt","prompt":" hi "}`: "hi",
		`{"prompt":""}`:                       "",
		`plain words`:                         "plain words",
		`{"action":"other"}`:                  `{"action":"other"}`,
		`"a json string"`:                     `"a json string"`,
	} {
		if got := promptOf([]byte(in)); got != want {
			t.Errorf("promptOf(%s) = %q, want %q", in, got, want)
		}
	}
}
