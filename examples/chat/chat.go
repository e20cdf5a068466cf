package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/gatecast/gatecast/backend"
)

// Message types the clients receive.
type (
	// notice tells a room (and the one concerned) that someone came or went.
	notice struct {
		Type         string `json:"type"` // "joined" or "left"
		Room         string `json:"room"`
		ConnectionID string `json:"connectionId"`
		Name         string `json:"name,omitempty"`
		// You marks the copy sent to the one concerned: it is how a
		// client learns its own connection id, even when another
		// member's notice arrives first.
		You bool `json:"you,omitempty"`
	}
	// chatMessage is what "send" publishes to a room.
	chatMessage struct {
		Type   string `json:"type"` // "message"
		Room   string `json:"room"`
		From   string `json:"from"`
		Name   string `json:"name,omitempty"`
		Text   string `json:"text"`
		SentAt int64  `json:"sentAt"` // Unix ms
	}
	// problem tells one client what was wrong with its message.
	problem struct {
		Type  string `json:"type"` // "error"
		Error string `json:"error"`
	}
)

// request is what clients send; the gateway routes it by Action.
type request struct {
	Action string `json:"action"`
	Room   string `json:"room"`
	Text   string `json:"text"`
}

const (
	maxTextBytes = 4096
	usage        = `send {"action":"join","room":"lobby"}, {"action":"send","room":"lobby","text":"hi"} or {"action":"leave","room":"lobby"}; rooms are 1-64 letters, digits, _ or -`
)

// chat is the backend. It remembers each connection's name and rooms in
// memory, which is right for one backend process only: a deployment with
// several would keep them in a shared store (a database, NATS KV) or ask
// the gateway (Client.Info lists a connection's topics).
type chat struct {
	c   *backend.Client
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	members map[string]*member // by connection id
}

type member struct {
	name  string
	rooms map[string]bool
}

func newChat(c *backend.Client, log *slog.Logger) *chat {
	return &chat{c: c, log: log, now: time.Now, members: make(map[string]*member)}
}

// register subscribes the chat's handlers to their routes.
func (ch *chat) register() error {
	if _, err := ch.c.HandleConnect(ch.connect); err != nil {
		return err
	}
	if _, err := ch.c.HandleDisconnect(ch.disconnect); err != nil {
		return err
	}
	for key, fn := range map[string]backend.RouteFunc{
		"$default": ch.fallback, "join": ch.join, "leave": ch.leave, "send": ch.send,
	} {
		if _, err := ch.c.HandleRoute(key, fn); err != nil {
			return err
		}
	}
	return nil
}

// connect accepts clients, with an optional display name:
// ws://host:8080/?name=ann.
func (ch *chat) connect(_ context.Context, req *backend.ConnectRequest) error {
	q, err := url.ParseQuery(req.Upgrade.Query)
	if err != nil {
		return &backend.Refusal{Status: 400, Reason: "malformed query string"}
	}
	name := q.Get("name")
	if name != "" && !validName(name) {
		return &backend.Refusal{Status: 400, Reason: "name must be 1-64 letters, digits, _ or -"}
	}
	ch.mu.Lock()
	ch.members[req.ConnectionID] = &member{name: name, rooms: make(map[string]bool)}
	ch.mu.Unlock()
	return nil
}

func (ch *chat) join(ctx context.Context, m *backend.Message) ([]byte, error) {
	req, ok := ch.parse(ctx, m)
	if !ok {
		return nil, nil
	}
	if err := ch.c.Join(ctx, m.ConnectionID, topic(req.Room)); err != nil {
		return nil, ignoreGone(err)
	}
	ch.mu.Lock()
	mem := ch.member(m.ConnectionID)
	already := mem.rooms[req.Room]
	mem.rooms[req.Room] = true
	n := notice{Type: "joined", Room: req.Room, ConnectionID: m.ConnectionID, Name: mem.name}
	ch.mu.Unlock()
	if !already {
		if err := ch.publish(req.Room, n, backend.Exclude(m.ConnectionID)); err != nil {
			return nil, err
		}
	}
	n.You = true
	ch.tell(ctx, m.ConnectionID, n)
	return nil, nil
}

func (ch *chat) leave(ctx context.Context, m *backend.Message) ([]byte, error) {
	req, ok := ch.parse(ctx, m)
	if !ok {
		return nil, nil
	}
	ch.mu.Lock()
	mem := ch.member(m.ConnectionID)
	in := mem.rooms[req.Room]
	ch.mu.Unlock()
	if !in {
		ch.tell(ctx, m.ConnectionID, problem{"error", "you are not in " + req.Room})
		return nil, nil
	}
	if err := ch.c.Leave(ctx, m.ConnectionID, topic(req.Room)); err != nil {
		return nil, ignoreGone(err)
	}
	ch.mu.Lock()
	delete(mem.rooms, req.Room)
	n := notice{Type: "left", Room: req.Room, ConnectionID: m.ConnectionID, Name: mem.name}
	ch.mu.Unlock()
	if err := ch.publish(req.Room, n); err != nil {
		return nil, err
	}
	n.You = true
	ch.tell(ctx, m.ConnectionID, n) // no longer a member: the publish skips it
	return nil, nil
}

func (ch *chat) send(ctx context.Context, m *backend.Message) ([]byte, error) {
	req, ok := ch.parse(ctx, m)
	if !ok {
		return nil, nil
	}
	switch {
	case req.Text == "":
		ch.tell(ctx, m.ConnectionID, problem{"error", "text is empty"})
		return nil, nil
	case len(req.Text) > maxTextBytes:
		ch.tell(ctx, m.ConnectionID, problem{"error", "text is over 4096 bytes"})
		return nil, nil
	}
	ch.mu.Lock()
	mem := ch.member(m.ConnectionID)
	in, name := mem.rooms[req.Room], mem.name
	ch.mu.Unlock()
	if !in {
		ch.tell(ctx, m.ConnectionID, problem{"error", "join " + req.Room + " first"})
		return nil, nil
	}
	// The sender gets its own message too: the order everyone sees.
	return nil, ch.publish(req.Room, chatMessage{
		Type: "message", Room: req.Room, From: m.ConnectionID, Name: name, Text: req.Text, SentAt: ch.now().UnixMilli(),
	})
}

// disconnect tells the rooms of a connection that it has gone.
func (ch *chat) disconnect(_ context.Context, d *backend.Disconnect) {
	ch.mu.Lock()
	mem := ch.members[d.ConnectionID]
	delete(ch.members, d.ConnectionID)
	ch.mu.Unlock()
	if mem == nil {
		return
	}
	rooms := make([]string, 0, len(mem.rooms))
	for room := range mem.rooms {
		rooms = append(rooms, room)
	}
	slices.Sort(rooms)
	for _, room := range rooms {
		if err := ch.publish(room, notice{Type: "left", Room: room, ConnectionID: d.ConnectionID, Name: mem.name}); err != nil {
			ch.log.Warn("left notice", "room", room, "err", err)
		}
	}
}

// fallback serves $default. On the gateway's default route table every
// action arrives here, so it dispatches join, leave and send itself (and
// the chat works without a configuration file); anything else gets the
// usage as the route response.
func (ch *chat) fallback(ctx context.Context, m *backend.Message) ([]byte, error) {
	var a struct {
		Action string `json:"action"`
	}
	json.Unmarshal(m.Data, &a)
	switch a.Action {
	case "join":
		return ch.join(ctx, m)
	case "leave":
		return ch.leave(ctx, m)
	case "send":
		return ch.send(ctx, m)
	}
	m.ReplyBinary = false
	return json.Marshal(problem{"error", "unknown action; " + usage})
}

// parse reads a join, leave or send message and checks its room; it tells
// the client what is wrong, if anything.
func (ch *chat) parse(ctx context.Context, m *backend.Message) (request, bool) {
	var req request
	if err := json.Unmarshal(m.Data, &req); err != nil {
		ch.tell(ctx, m.ConnectionID, problem{"error", "malformed JSON; " + usage})
		return req, false
	}
	if !validName(req.Room) {
		ch.tell(ctx, m.ConnectionID, problem{"error", "bad room name; " + usage})
		return req, false
	}
	return req, true
}

// member returns the state of a connection, creating it for a connection
// that this process did not see connect (it started later, or $connect is
// one-way). Caller holds ch.mu.
func (ch *chat) member(id string) *member {
	mem := ch.members[id]
	if mem == nil {
		mem = &member{rooms: make(map[string]bool)}
		ch.members[id] = mem
	}
	return mem
}

func (ch *chat) publish(room string, v any, opts ...backend.PublishOption) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ch.c.Publish(topic(room), b, opts...)
}

// tell sends v to one client. A client that has gone is no error: its
// $disconnect is on the way.
func (ch *chat) tell(ctx context.Context, id string, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		err = ignoreGone(ch.c.Send(ctx, id, b))
	}
	if err != nil {
		ch.log.Warn("send", "connection", id, "err", err)
	}
}

func ignoreGone(err error) error {
	if errors.Is(err, backend.ErrGone) {
		return nil
	}
	return err
}

// topic is the gateway topic of a room.
func topic(room string) string { return "room." + room }

// validName reports whether s is 1-64 letters, digits, '_' or '-': a room
// name that makes a valid topic, or a display name.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
