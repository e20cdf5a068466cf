package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

const (
	wait  = 5 * time.Second
	ann   = "n1-0000000000000001"
	bob   = "n1-0000000000000002"
	epoch = 1700000000000
)

// harness runs the chat backend against an embedded NATS server, with a
// fake gateway node "n1" that accepts every command and records it.
type harness struct {
	t    *testing.T
	gw   *nats.Conn
	subs map[string]*nats.Subscription // room topic subscriptions, by room

	mu       sync.Mutex
	commands []*nats.Msg
}

func newHarness(t *testing.T, rooms ...string) *harness {
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
	ch := newChat(c, slog.New(slog.DiscardHandler))
	ch.now = func() time.Time { return time.UnixMilli(epoch) }
	if err := ch.register(); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	h := &harness{t: t, gw: dial(), subs: map[string]*nats.Subscription{}}
	if _, err := h.gw.Subscribe(protocol.Subjects{Prefix: "gatecast"}.NodeCommands("n1"), func(m *nats.Msg) {
		h.mu.Lock()
		h.commands = append(h.commands, m)
		h.mu.Unlock()
		r := nats.NewMsg(m.Reply)
		r.Header.Set(protocol.HeaderStatus, "204")
		m.RespondMsg(r)
	}); err != nil {
		t.Fatal(err)
	}
	for _, room := range rooms {
		sub, err := h.gw.SubscribeSync("gatecast.topic.room." + room)
		if err != nil {
			t.Fatal(err)
		}
		h.subs[room] = sub
	}
	if err := h.gw.Flush(); err != nil {
		t.Fatal(err)
	}
	return h
}

// event sends a route event as the gateway would; it waits for the reply
// of two-way routes ($connect, $default) and returns it.
func (h *harness) event(subject, eventType, key, id, body string) *nats.Msg {
	h.t.Helper()
	m := nats.NewMsg(subject)
	m.Header.Set(protocol.HeaderEventType, eventType)
	m.Header.Set(protocol.HeaderConnectionID, id)
	m.Header.Set(protocol.HeaderRouteKey, key)
	m.Header.Set(protocol.HeaderNode, "n1")
	m.Header.Set(protocol.HeaderReceivedAt, strconv.FormatInt(epoch, 10))
	if eventType == protocol.EventMessage {
		m.Header.Set(protocol.HeaderMessageType, protocol.MessageText)
	}
	m.Data = []byte(body)
	if key != "$connect" && key != "$default" {
		if err := h.gw.PublishMsg(m); err != nil {
			h.t.Fatal(err)
		}
		return nil
	}
	reply, err := h.gw.RequestMsg(m, wait)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply
}

func (h *harness) say(id, action, body string) {
	h.t.Helper()
	h.event("gatecast.route."+action, protocol.EventMessage, action, id, body)
}

// published returns the next message published to room, decoded.
func (h *harness) published(room string) (map[string]any, nats.Header) {
	h.t.Helper()
	m, err := h.subs[room].NextMsg(wait)
	if err != nil {
		h.t.Fatalf("nothing published to %s: %v", room, err)
	}
	var v map[string]any
	if err := json.Unmarshal(m.Data, &v); err != nil {
		h.t.Fatalf("published %q: %v", m.Data, err)
	}
	return v, m.Header
}

// command waits for the n-th command (counting from 1) the node got.
func (h *harness) command(n int) *nats.Msg {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		h.mu.Lock()
		if len(h.commands) >= n {
			m := h.commands[n-1]
			h.mu.Unlock()
			return m
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for command %d", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return v
}

func wantJSON(t *testing.T, what string, got map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, w)
	}
}

func TestJoinSendLeave(t *testing.T) {
	h := newHarness(t, "lobby")
	if r := h.event("gatecast.connect", protocol.EventConnect, "$connect", ann, `{"path":"/","query":"name=ann"}`); r.Header.Get(protocol.HeaderStatus) != "200" {
		t.Fatalf("connect: status %q", r.Header.Get(protocol.HeaderStatus))
	}

	h.say(ann, "join", `{"action":"join","room":"lobby"}`)
	if c := h.command(1); c.Subject != "gatecast.conn.n1.0000000000000001.join" || string(c.Data) != "room.lobby" {
		t.Errorf("first command: %s %q, want a join to room.lobby", c.Subject, c.Data)
	}
	joined, hdr := h.published("lobby")
	wantJSON(t, "joined notice", joined, `{"type":"joined","room":"lobby","connectionId":"`+ann+`","name":"ann"}`)
	if hdr.Get(protocol.HeaderExclude) != ann {
		t.Errorf("joined notice excludes %q, want the joiner", hdr.Get(protocol.HeaderExclude))
	}
	c := h.command(2)
	if c.Subject != "gatecast.conn.n1.0000000000000001.send" {
		t.Errorf("second command %s, want the joiner's confirmation", c.Subject)
	}
	wantJSON(t, "joiner's confirmation", decodeJSON(t, c.Data), `{"type":"joined","room":"lobby","connectionId":"`+ann+`","name":"ann","you":true}`)

	// "send" comes right after "join" on another route; it is still
	// handled after it.
	h.say(ann, "send", `{"action":"send","room":"lobby","text":"hi all"}`)
	msg, hdr := h.published("lobby")
	wantJSON(t, "message", msg, `{"type":"message","room":"lobby","from":"`+ann+`","name":"ann","text":"hi all","sentAt":1700000000000}`)
	if hdr.Get(protocol.HeaderExclude) != "" || hdr.Get(protocol.HeaderMessageType) != protocol.MessageText {
		t.Errorf("message headers %v", hdr)
	}

	h.say(ann, "leave", `{"action":"leave","room":"lobby"}`)
	if c := h.command(3); c.Subject != "gatecast.conn.n1.0000000000000001.leave" || string(c.Data) != "room.lobby" {
		t.Errorf("third command: %s %q, want a leave of room.lobby", c.Subject, c.Data)
	}
	left, _ := h.published("lobby")
	wantJSON(t, "left notice", left, `{"type":"left","room":"lobby","connectionId":"`+ann+`","name":"ann"}`)
	if c := h.command(4); c.Subject != "gatecast.conn.n1.0000000000000001.send" {
		t.Errorf("fourth command %s, want the leaver's confirmation", c.Subject)
	} else {
		wantJSON(t, "leaver's confirmation", decodeJSON(t, c.Data), `{"type":"left","room":"lobby","connectionId":"`+ann+`","name":"ann","you":true}`)
	}
}

func TestDisconnectLeavesEveryRoom(t *testing.T) {
	h := newHarness(t, "a", "b")
	h.say(bob, "join", `{"action":"join","room":"a"}`)
	h.published("a")
	h.say(bob, "join", `{"action":"join","room":"b"}`)
	h.published("b")
	h.event("gatecast.disconnect", protocol.EventDisconnect, "$disconnect", bob, "")
	for _, room := range []string{"a", "b"} {
		left, _ := h.published(room)
		wantJSON(t, "left notice in "+room, left, `{"type":"left","room":"`+room+`","connectionId":"`+bob+`"}`)
	}
}

func TestMistakesAreExplained(t *testing.T) {
	h := newHarness(t, "lobby")
	if r := h.event("gatecast.connect", protocol.EventConnect, "$connect", ann, `{"path":"/","query":"name=no+spaces"}`); r.Header.Get(protocol.HeaderStatus) != "400" {
		t.Errorf("a bad name: status %q, want 400", r.Header.Get(protocol.HeaderStatus))
	}
	r := h.event("gatecast.default", protocol.EventMessage, "$default", ann, `{"action":"dance"}`)
	var p problem
	if err := json.Unmarshal(r.Data, &p); err != nil || p.Type != "error" || p.Error != "unknown action; "+usage {
		t.Errorf("$default answered %q", r.Data)
	}

	for i, tc := range []struct{ action, body, want string }{
		{"send", `{"action":"send","room":"lobby","text":"hi"}`, "join lobby first"},
		{"join", `{"action":"join","room":"no.dots"}`, "bad room name; " + usage},
		{"leave", `{"action":"leave","room":"lobby"}`, "you are not in lobby"},
		{"send", `not json`, "malformed JSON; " + usage},
	} {
		h.say(ann, tc.action, tc.body)
		c := h.command(i + 1)
		if err := json.Unmarshal(c.Data, &p); err != nil || c.Subject != "gatecast.conn.n1.0000000000000001.send" || p.Error != tc.want {
			t.Errorf("%s %s: told %s %q, want %q", tc.action, tc.body, c.Subject, c.Data, tc.want)
		}
	}
	if m, err := h.subs["lobby"].NextMsg(10 * time.Millisecond); err == nil {
		t.Errorf("a mistake was published: %q", m.Data)
	}
}

// TestGatewayConfig checks that gatecast.yaml routes every action to the
// subject the backend listens on, with the right direction.
func TestGatewayConfig(t *testing.T) {
	cfg, err := gateway.LoadConfig("gatecast.yaml")
	if err != nil {
		t.Fatal(err)
	}
	table, err := routes.New(cfg.Routes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		subject string
		twoWay  bool
	}{
		"$connect": {"gatecast.connect", true}, "$disconnect": {"gatecast.disconnect", false},
		"$default": {"gatecast.default", true}, "join": {"gatecast.route.join", false},
		"leave": {"gatecast.route.leave", false}, "send": {"gatecast.route.send", false},
	}
	keys := table.Keys()
	slices.Sort(keys)
	if len(keys) != len(want) {
		t.Errorf("routes %v", keys)
	}
	for key, w := range want {
		r, ok := table.WebSocket(key)
		if !ok || r.Integration != routes.IntegrationNATS || r.Subject != w.subject || r.TwoWay() != w.twoWay {
			t.Errorf("route %s = %+v, want nats to %s, two-way %v", key, r, w.subject, w.twoWay)
		}
	}
}
