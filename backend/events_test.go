package backend_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/protocol"
)

func TestConnect(t *testing.T) {
	upgrade := protocol.ConnectRequest{
		Path: "/chat", Query: "name=ann",
		Headers:  map[string][]string{"Origin": {"https://example.com"}},
		SourceIP: "192.0.2.7",
	}
	body, _ := json.Marshal(upgrade)
	for _, tc := range []struct {
		name       string
		verdict    error
		status     string
		body       string
		errorMatch string // a substring of Gatecast-Error; "" for none
	}{
		{name: "accept", verdict: nil, status: "200"},
		{name: "refusal", verdict: &backend.Refusal{Status: 401, Reason: "log in first"}, status: "401", body: "log in first", errorMatch: "log in first"},
		{name: "wrapped refusal", verdict: fmt.Errorf("checking: %w", &backend.Refusal{Status: 429, Reason: "slow down"}), status: "429", body: "slow down", errorMatch: "slow down"},
		{name: "zero refusal", verdict: &backend.Refusal{}, status: "403", body: "Forbidden", errorMatch: "Forbidden"},
		{name: "plain error", verdict: errors.New("db down"), status: "500", body: "Internal Server Error", errorMatch: "db down"},
		{name: "refusal with a success status", verdict: &backend.Refusal{Status: 302}, status: "500", errorMatch: "302"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, bnc, gw := setup(t, backend.Config{})
			got := make(chan *backend.ConnectRequest, 1)
			if _, err := c.HandleConnect(func(ctx context.Context, req *backend.ConnectRequest) error {
				got <- req
				return tc.verdict
			}); err != nil {
				t.Fatal(err)
			}
			ready(t, bnc)
			m := event("gatecast.connect", protocol.EventConnect, "$connect", connA, body)
			m.Header.Set(protocol.HeaderClaims, `{"sub":"ann"}`)
			reply := request(t, gw, m)

			req := receive(t, got)
			want := backend.Event{
				ConnectionID: connA, RouteKey: "$connect", RequestID: m.Header.Get(protocol.HeaderRequestID),
				Node: testNode, SourceIP: "192.0.2.7", ConnectedAt: connectedAt, ReceivedAt: receivedAt,
				Claims: json.RawMessage(`{"sub":"ann"}`),
			}
			if !reflect.DeepEqual(req.Event, want) {
				t.Errorf("event:\n got %+v\nwant %+v", req.Event, want)
			}
			if !reflect.DeepEqual(req.Upgrade, upgrade) {
				t.Errorf("upgrade = %+v, want %+v", req.Upgrade, upgrade)
			}
			if s := reply.Header.Get(protocol.HeaderStatus); s != tc.status {
				t.Errorf("status = %q, want %q", s, tc.status)
			}
			if string(reply.Data) != tc.body {
				t.Errorf("body = %q, want %q", reply.Data, tc.body)
			}
			e := reply.Header.Get(protocol.HeaderError)
			if tc.errorMatch == "" && e != "" || !strings.Contains(e, tc.errorMatch) {
				t.Errorf("Gatecast-Error = %q, want it to contain %q", e, tc.errorMatch)
			}
		})
	}
}

func TestRouteResponse(t *testing.T) {
	for _, tc := range []struct {
		name        string
		binary      bool
		handler     backend.RouteFunc
		status      string
		messageType string
		body        string
		errorMatch  string
	}{
		{
			name: "text reply",
			handler: func(_ context.Context, m *backend.Message) ([]byte, error) {
				return append([]byte("re: "), m.Data...), nil
			},
			body: "re: hello", messageType: "text",
		},
		{
			name: "binary in, binary out", binary: true,
			handler: func(_ context.Context, m *backend.Message) ([]byte, error) { return m.Data, nil },
			body:    "hello", messageType: "binary",
		},
		{
			name: "binary in, text out", binary: true,
			handler: func(_ context.Context, m *backend.Message) ([]byte, error) {
				m.ReplyBinary = false
				return []byte("ok"), nil
			},
			body: "ok", messageType: "text",
		},
		{
			name:    "empty but not nil reply is sent",
			handler: func(context.Context, *backend.Message) ([]byte, error) { return []byte{}, nil },
			body:    "", messageType: "text",
		},
		{
			name:    "nil reply",
			handler: func(context.Context, *backend.Message) ([]byte, error) { return nil, nil },
			status:  "204",
		},
		{
			name: "error",
			handler: func(context.Context, *backend.Message) ([]byte, error) {
				return []byte("ignored"), errors.New("no such\nthing")
			},
			status: "500", errorMatch: "no such thing",
		},
		{
			name:    "panic",
			handler: func(context.Context, *backend.Message) ([]byte, error) { panic("boom") },
			status:  "500", errorMatch: "boom",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, bnc, gw := setup(t, backend.Config{Logger: discard()})
			if _, err := c.HandleRoute("$default", tc.handler); err != nil {
				t.Fatal(err)
			}
			ready(t, bnc)
			m := message("gatecast.default", "$default", connA, []byte("hello"))
			if tc.binary {
				m.Header.Set(protocol.HeaderMessageType, protocol.MessageBinary)
			}
			reply := request(t, gw, m)
			if s := reply.Header.Get(protocol.HeaderStatus); s != tc.status {
				t.Errorf("status = %q, want %q", s, tc.status)
			}
			if mt := reply.Header.Get(protocol.HeaderMessageType); mt != tc.messageType {
				t.Errorf("message type = %q, want %q", mt, tc.messageType)
			}
			if string(reply.Data) != tc.body {
				t.Errorf("body = %q, want %q", reply.Data, tc.body)
			}
			if e := reply.Header.Get(protocol.HeaderError); tc.errorMatch == "" && e != "" || !strings.Contains(e, tc.errorMatch) {
				t.Errorf("Gatecast-Error = %q, want it to contain %q", e, tc.errorMatch)
			}
		})
	}
}

func TestMessageFields(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{})
	got := make(chan *backend.Message, 1)
	if _, err := c.HandleRoute("send", func(_ context.Context, m *backend.Message) ([]byte, error) {
		got <- m
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	m := message("gatecast.route.send", "send", connA, []byte{0, 1, 2})
	m.Header.Set(protocol.HeaderMessageType, protocol.MessageBinary)
	if err := gw.PublishMsg(m); err != nil { // a one-way route: no reply wanted
		t.Fatal(err)
	}
	msg := receive(t, got)
	if msg.ConnectionID != connA || msg.RouteKey != "send" || msg.Node != testNode || msg.SourceIP != "192.0.2.7" ||
		!msg.ConnectedAt.Equal(connectedAt) || !msg.ReceivedAt.Equal(receivedAt) || msg.Claims != nil {
		t.Errorf("event = %+v", msg.Event)
	}
	if !msg.Binary || !msg.ReplyBinary || string(msg.Data) != "\x00\x01\x02" {
		t.Errorf("Binary %v ReplyBinary %v Data %q", msg.Binary, msg.ReplyBinary, msg.Data)
	}
}

func TestDisconnect(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{})
	got := make(chan *backend.Disconnect, 1)
	if _, err := c.HandleDisconnect(func(_ context.Context, d *backend.Disconnect) { got <- d }); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	m := event("gatecast.disconnect", protocol.EventDisconnect, "$disconnect", connA, nil)
	m.Header.Set(protocol.HeaderCloseCode, "1006")
	m.Header.Set(protocol.HeaderCloseReason, "lost")
	if err := gw.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	d := receive(t, got)
	if d.ConnectionID != connA || d.RouteKey != "$disconnect" || d.Code != 1006 || d.Reason != "lost" {
		t.Errorf("disconnect = %+v", d)
	}
}

func TestMalformedEventsAreRefused(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{Logger: discard()})
	called := make(chan struct{}, 10)
	if _, err := c.HandleRoute("$default", func(context.Context, *backend.Message) ([]byte, error) {
		called <- struct{}{}
		return []byte("x"), nil
	}); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	for _, tc := range []struct {
		name string
		m    *nats.Msg
		want string
	}{
		{"wrong event type", event("gatecast.default", protocol.EventConnect, "$connect", connA, nil), "CONNECT"},
		{"bad connection id", message("gatecast.default", "$default", "n1.*-0000000000000001", nil), "connection id"},
		{"no headers", &nats.Msg{Subject: "gatecast.default", Data: []byte("hi")}, "event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply := request(t, gw, tc.m)
			if s := reply.Header.Get(protocol.HeaderStatus); s != "400" {
				t.Errorf("status = %q, want 400", s)
			}
			if e := reply.Header.Get(protocol.HeaderError); !strings.Contains(e, tc.want) {
				t.Errorf("Gatecast-Error = %q, want it to mention %q", e, tc.want)
			}
		})
	}
	if len(called) != 0 {
		t.Errorf("the handler ran %d times for malformed events", len(called))
	}
}

func TestHandleSubjects(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{Prefix: "acme.gc"})
	answer := func(s string) backend.RouteFunc {
		return func(context.Context, *backend.Message) ([]byte, error) { return []byte(s), nil }
	}
	for _, h := range []struct {
		key, subject string
	}{
		{"$default", "acme.gc.default"},
		{"join", "acme.gc.route.join"},
		{"send-message_2", "acme.gc.route.send-message_2"},
	} {
		sub, err := c.HandleRoute(h.key, answer(h.key))
		if err != nil {
			t.Fatalf("HandleRoute(%q): %v", h.key, err)
		}
		if sub.Subject() != h.subject {
			t.Errorf("HandleRoute(%q) listens on %q, want %q", h.key, sub.Subject(), h.subject)
		}
	}
	if _, err := c.HandleSubject("chat.custom", answer("custom")); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	for subject, want := range map[string]string{
		"acme.gc.default": "$default", "acme.gc.route.join": "join",
		"acme.gc.route.send-message_2": "send-message_2", "chat.custom": "custom",
	} {
		if reply := request(t, gw, message(subject, "k", connA, nil)); string(reply.Data) != want {
			t.Errorf("%s answered %q, want %q", subject, reply.Data, want)
		}
	}

	for _, key := range []string{"$connect", "$disconnect", "$other", "a.b", "a b", "", "*", strings.Repeat("k", 129)} {
		if _, err := c.HandleRoute(key, answer("")); err == nil {
			t.Errorf("HandleRoute(%q) accepted it", key)
		}
	}
	for _, subject := range []string{"", "a.*", "a.>", "a..b", ".a", "a b"} {
		if _, err := c.HandleSubject(subject, answer("")); err == nil {
			t.Errorf("HandleSubject(%q) accepted it", subject)
		}
	}
	if _, err := c.HandleRoute("join", answer("")); err == nil {
		t.Error("a second handler on the same subject was accepted")
	}
}

func TestUnsubscribe(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{})
	sub, err := c.HandleRoute("$default", func(context.Context, *backend.Message) ([]byte, error) { return []byte("a"), nil })
	if err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	request(t, gw, message("gatecast.default", "$default", connA, nil))
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	if _, err := gw.RequestMsg(message("gatecast.default", "$default", connA, nil), wait); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("after Unsubscribe, request = %v, want no responders", err)
	}
	// The subject is free again.
	if _, err := c.HandleRoute("$default", func(context.Context, *backend.Message) ([]byte, error) { return []byte("b"), nil }); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	if reply := request(t, gw, message("gatecast.default", "$default", connA, nil)); string(reply.Data) != "b" {
		t.Errorf("reply = %q, want b", reply.Data)
	}
}

// TestOrderPerConnection sends interleaved events of two connections over
// two routes and checks that each connection's events are handled in the
// order sent, while one connection's slow handler does not hold up the
// other.
func TestOrderPerConnection(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{})
	var mu sync.Mutex
	seen := map[string][]string{}
	release := make(chan struct{})
	record := func(_ context.Context, m *backend.Message) ([]byte, error) {
		if m.ConnectionID == connA && string(m.Data) == "A0" {
			<-release // A is stuck until B has been handled
		}
		mu.Lock()
		seen[m.ConnectionID] = append(seen[m.ConnectionID], string(m.Data))
		mu.Unlock()
		return nil, nil
	}
	for _, key := range []string{"join", "send"} {
		if _, err := c.HandleRoute(key, record); err != nil {
			t.Fatal(err)
		}
	}
	ready(t, bnc)
	const n = 200
	var want []string
	for i := range n {
		want = append(want, fmt.Sprint(i))
	}
	want[0] = "A0"
	for i := range n {
		key := []string{"join", "send"}[i%2]
		a := message("gatecast.route."+key, key, connA, []byte(want[i]))
		b := message("gatecast.route."+key, key, connB, []byte(want[i]))
		if err := gw.PublishMsg(a); err != nil {
			t.Fatal(err)
		}
		if err := gw.PublishMsg(b); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "B's events while A is stuck", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen[connB]) == n
	})
	mu.Lock()
	if len(seen[connA]) != 0 {
		t.Errorf("A's later events ran before A0 returned: %v", seen[connA][:min(5, len(seen[connA]))])
	}
	mu.Unlock()
	close(release)
	waitFor(t, "A's events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen[connA]) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for _, id := range []string{connA, connB} {
		if !reflect.DeepEqual(seen[id], want) {
			t.Errorf("%s handled out of order: %v", id, seen[id])
		}
	}
}

func TestConcurrencyOneKeepsGlobalOrder(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{Concurrency: 1})
	var mu sync.Mutex
	var seen []string
	running, maxRunning := 0, 0
	if _, err := c.HandleRoute("$default", func(_ context.Context, m *backend.Message) ([]byte, error) {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		seen = append(seen, string(m.Data))
		mu.Unlock()
		time.Sleep(time.Millisecond) // give a second handler the chance to overlap
		mu.Lock()
		running--
		mu.Unlock()
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	var want []string
	for i := range 50 {
		id := []string{connA, connB, "n2-0000000000000003"}[i%3]
		want = append(want, fmt.Sprint(i))
		if err := gw.PublishMsg(message("gatecast.default", "$default", id, []byte(want[i]))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(seen, want) || maxRunning != 1 {
		t.Errorf("max running %d, order %v", maxRunning, seen)
	}
}

func TestHandlerContext(t *testing.T) {
	c, bnc, gw := setup(t, backend.Config{HandlerTimeout: time.Hour})
	got := make(chan context.Context, 1)
	if _, err := c.HandleRoute("$default", func(ctx context.Context, _ *backend.Message) ([]byte, error) {
		deadline, ok := ctx.Deadline()
		if !ok || time.Until(deadline) < 59*time.Minute || time.Until(deadline) > time.Hour {
			t.Errorf("deadline %v (ok %v), want an hour from now", deadline, ok)
		}
		got <- ctx
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	request(t, gw, message("gatecast.default", "$default", connA, nil))
	ctx := receive(t, got)
	waitFor(t, "the handler's context to end after it returned", func() bool { return ctx.Err() != nil })
}

func TestDrainWaitsForHandlers(t *testing.T) {
	ns := runServer(t)
	bnc, gw := connect(t, ns), connect(t, ns)
	c, err := backend.New(bnc, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	if _, err := c.HandleRoute("$default", func(_ context.Context, m *backend.Message) ([]byte, error) {
		if string(m.Data) == "first" {
			close(started)
			<-release
		}
		return m.Data, nil
	}); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	replies := make(chan *nats.Msg, 2)
	inbox := gw.NewInbox()
	if _, err := gw.ChanSubscribe(inbox, replies); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"first", "second"} { // "second" waits behind "first": same connection
		m := message("gatecast.default", "$default", connA, []byte(body))
		m.Reply = inbox
		if err := gw.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	receive(t, started)

	drained := make(chan error, 1)
	go func() { drained <- c.Drain(context.Background()) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v while a handler was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := receive(t, drained); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	for _, want := range []string{"first", "second"} {
		if r := receive(t, replies); string(r.Data) != want {
			t.Errorf("reply %q, want %q", r.Data, want)
		}
	}
	if _, err := c.HandleRoute("other", nil); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("HandleRoute after Drain: %v, want ErrClosed", err)
	}
	if err := c.Drain(context.Background()); err != nil {
		t.Errorf("second Drain: %v", err)
	}
}

func TestDrainGivesUp(t *testing.T) {
	ns := runServer(t)
	bnc, gw := connect(t, ns), connect(t, ns)
	c, err := backend.New(bnc, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan context.Context, 1)
	if _, err := c.HandleRoute("$default", func(ctx context.Context, _ *backend.Message) ([]byte, error) {
		started <- ctx
		<-ctx.Done()
		return nil, ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	ready(t, bnc)
	if err := gw.PublishMsg(message("gatecast.default", "$default", connA, nil)); err != nil {
		t.Fatal(err)
	}
	hctx := receive(t, started)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain = %v, want DeadlineExceeded", err)
	}
	waitFor(t, "the handler's context to be cancelled", func() bool { return hctx.Err() != nil })
	if err := c.Drain(context.Background()); err != nil {
		t.Errorf("Drain after the handler returned: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	ns := runServer(t)
	nc := connect(t, ns)
	if _, err := backend.New(nil, backend.Config{}); err == nil {
		t.Error("New(nil) accepted it")
	}
	for name, cfg := range map[string]backend.Config{
		"wildcard prefix":  {Prefix: "gc.*"},
		"empty token":      {Prefix: "gc..x"},
		"queue with space": {QueueGroup: "a b"},
		"negative timeout": {HandlerTimeout: -1},
		"negative command": {CommandTimeout: -1},
		"negative count":   {TopicCountWait: -1},
		"negative conc":    {Concurrency: -1},
		"negative pending": {MaxPending: -1},
	} {
		if _, err := backend.New(nc, cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestDrainAfterTheConnectionClosed(t *testing.T) {
	ns := runServer(t)
	nc := connect(t, ns)
	c, err := backend.New(nc, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.HandleRoute("$default", func(context.Context, *backend.Message) ([]byte, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}
