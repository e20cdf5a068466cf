package backend_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/protocol"
)

// fakeNode plays a gateway node's command subscription: it records every
// command and answers with answer's status, error and body.
type fakeNode struct {
	mu       sync.Mutex
	commands []*nats.Msg
	answer   func(m *nats.Msg) (status, reason string, body []byte)
}

func runNode(t *testing.T, gw *nats.Conn, node string, answer func(*nats.Msg) (string, string, []byte)) *fakeNode {
	t.Helper()
	f := &fakeNode{answer: answer}
	if _, err := gw.Subscribe(protocol.Subjects{Prefix: protocol.DefaultPrefix}.NodeCommands(node), func(m *nats.Msg) {
		f.mu.Lock()
		f.commands = append(f.commands, m)
		f.mu.Unlock()
		status, reason, body := f.answer(m)
		if status == "" {
			return // a node that never answers
		}
		r := nats.NewMsg(m.Reply)
		r.Header.Set(protocol.HeaderStatus, status)
		if reason != "" {
			r.Header.Set(protocol.HeaderError, reason)
		}
		r.Data = body
		m.RespondMsg(r)
	}); err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeNode) last(t *testing.T) *nats.Msg {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.commands) == 0 {
		t.Fatal("the node got no command")
	}
	return f.commands[len(f.commands)-1]
}

func TestCommandsOnTheWire(t *testing.T) {
	c, _, gw := setup(t, backend.Config{})
	info := protocol.ConnectionInfo{
		ConnectionID: connA, ConnectedAt: "2024-01-01T00:00:00Z", LastActiveAt: "2024-01-01T00:00:01Z",
		Identity: protocol.Identity{SourceIP: "192.0.2.7", UserAgent: "test"}, Topics: []string{"room.1"},
		Claims: map[string]any{"sub": "ann"},
	}
	infoJSON, _ := json.Marshal(info)
	node := runNode(t, gw, testNode, func(m *nats.Msg) (string, string, []byte) {
		if m.Subject == "gatecast.conn.n1.00000000000000a1.info" {
			return "200", "", infoJSON
		}
		return "204", "", nil
	})
	ctx := context.Background()
	prefix := "gatecast.conn.n1.00000000000000a1."

	for _, tc := range []struct {
		name    string
		do      func() error
		subject string
		headers map[string]string
		body    string
	}{
		{"send", func() error { return c.Send(ctx, connA, []byte("hi")) }, prefix + "send",
			map[string]string{protocol.HeaderMessageType: "text"}, "hi"},
		{"send binary", func() error { return c.SendBinary(ctx, connA, []byte{1, 2}) }, prefix + "send",
			map[string]string{protocol.HeaderMessageType: "binary"}, "\x01\x02"},
		{"close", func() error { return c.Close(ctx, connA, 4000, "bye") }, prefix + "close",
			map[string]string{protocol.HeaderCloseCode: "4000", protocol.HeaderCloseReason: "bye"}, ""},
		{"close with defaults", func() error { return c.Close(ctx, connA, 0, "") }, prefix + "close",
			map[string]string{protocol.HeaderCloseCode: "1000", protocol.HeaderCloseReason: ""}, ""},
		{"join", func() error { return c.Join(ctx, connA, "room.1") }, prefix + "join", nil, "room.1"},
		{"leave", func() error { return c.Leave(ctx, connA, "room.1") }, prefix + "leave", nil, "room.1"},
		{"info", func() error {
			got, err := c.Info(ctx, connA)
			if err == nil && !reflect.DeepEqual(*got, info) {
				t.Errorf("Info = %+v, want %+v", *got, info)
			}
			return err
		}, prefix + "info", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); err != nil {
				t.Fatal(err)
			}
			m := node.last(t)
			if m.Subject != tc.subject {
				t.Errorf("subject = %q, want %q", m.Subject, tc.subject)
			}
			for k, v := range tc.headers {
				if got := m.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if string(m.Data) != tc.body {
				t.Errorf("body = %q, want %q", m.Data, tc.body)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	c, _, gw := setup(t, backend.Config{})
	status := map[string]string{
		"n1-0000000000000001": "404", "n1-0000000000000002": "410",
		"n1-0000000000000003": "400", "n1-0000000000000004": "500", "n1-0000000000000005": "",
	}
	runNode(t, gw, testNode, func(m *nats.Msg) (string, string, []byte) {
		for id, s := range status {
			if n, _ := protocol.ParseConnectionID(id); m.Subject == (protocol.Subjects{Prefix: "gatecast"}).Command(n, protocol.CommandJoin) {
				return s, "because " + s, nil
			}
		}
		return "204", "", nil
	})
	for _, tc := range []struct {
		name   string
		id     string
		ctx    time.Duration
		is     error
		status int
	}{
		{"404 never issued", "n1-0000000000000001", 0, backend.ErrUnknownConnection, 404},
		{"410 ended", "n1-0000000000000002", 0, backend.ErrGone, 410},
		{"400 refused", "n1-0000000000000003", 0, nil, 400},
		{"500", "n1-0000000000000004", 0, nil, 500},
		{"no answer within ctx", "n1-0000000000000005", 30 * time.Millisecond, context.DeadlineExceeded, -1},
		{"node gone: no responders", "n9-0000000000000001", 0, backend.ErrGone, 0},
		{"malformed id", "n1.x-0000000000000001", 0, protocol.ErrBadConnectionID, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			err := c.Join(ctx, tc.id, "room.1")
			if err == nil {
				t.Fatal("Join succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want it to be %v", err, tc.is)
			}
			var ce *backend.CommandError
			switch {
			case tc.status < 0 && errors.As(err, &ce):
				t.Errorf("err = %#v, want no CommandError", err)
			case tc.status >= 0 && !errors.As(err, &ce):
				t.Errorf("err = %v, want a CommandError", err)
			case tc.status >= 0:
				if ce.Status != tc.status || ce.Command != "join" || ce.ConnectionID != tc.id {
					t.Errorf("CommandError = %+v", ce)
				}
				if tc.status > 0 && ce.Reason != "because "+status[tc.id] {
					t.Errorf("Reason = %q", ce.Reason)
				}
			}
		})
	}
	if err := c.Join(context.Background(), connA, "room.*"); !errors.Is(err, backend.ErrBadTopic) {
		t.Errorf("Join on a wildcard = %v, want ErrBadTopic", err)
	}
	if err := c.Leave(context.Background(), connA, ""); !errors.Is(err, backend.ErrBadTopic) {
		t.Errorf("Leave on an empty topic = %v, want ErrBadTopic", err)
	}
	if err := c.Close(context.Background(), connA, 1000, string(make([]byte, 124))); err == nil {
		t.Error("Close accepted a 124-byte reason")
	}
}

func TestCommandTimeoutWithoutDeadline(t *testing.T) {
	c, _, gw := setup(t, backend.Config{CommandTimeout: 20 * time.Millisecond})
	runNode(t, gw, testNode, func(*nats.Msg) (string, string, []byte) { return "", "", nil })
	if err := c.Send(context.Background(), connA, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want DeadlineExceeded", err)
	}
}

func TestPublish(t *testing.T) {
	c, _, gw := setup(t, backend.Config{})
	sub, err := gw.SubscribeSync("gatecast.topic.room.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		opts        []backend.PublishOption
		messageType string
		exclude     string
	}{
		{"text", nil, "text", ""},
		{"binary", []backend.PublishOption{backend.Binary()}, "binary", ""},
		{"exclude the sender", []backend.PublishOption{backend.Exclude(connA)}, "text", connA},
		{"both", []backend.PublishOption{backend.Exclude(connB), backend.Binary()}, "binary", connB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Publish("room.1", []byte(tc.name), tc.opts...); err != nil {
				t.Fatal(err)
			}
			m, err := sub.NextMsg(wait)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != tc.name || m.Header.Get(protocol.HeaderMessageType) != tc.messageType ||
				m.Header.Get(protocol.HeaderExclude) != tc.exclude {
				t.Errorf("published %q with headers %v", m.Data, m.Header)
			}
		})
	}
	if err := c.Publish("room.>", nil); !errors.Is(err, backend.ErrBadTopic) {
		t.Errorf("Publish on a wildcard = %v, want ErrBadTopic", err)
	}
	if err := c.Publish("room.1", nil, backend.Exclude("nobody")); !errors.Is(err, protocol.ErrBadConnectionID) {
		t.Errorf("Publish excluding a malformed id = %v, want ErrBadConnectionID", err)
	}
}

func TestTopicMembers(t *testing.T) {
	c, _, gw := setup(t, backend.Config{TopicCountWait: 20 * time.Millisecond})
	ctx := context.Background()

	if n, err := c.TopicMembers(ctx, "room.1"); n != 0 || err != nil {
		t.Errorf("with no gateway node: %d, %v; want 0, nil", n, err)
	}

	answer := func(node string, members int) {
		t.Helper()
		if _, err := gw.Subscribe("gatecast.api.topics.count", func(m *nats.Msg) {
			if string(m.Data) != "room.1" || members == 0 {
				return // nodes without members stay silent
			}
			b, _ := json.Marshal(protocol.TopicCountReply{Node: node, Members: members})
			m.Respond(b)
		}); err != nil {
			t.Fatal(err)
		}
	}
	answer("n1", 3)
	answer("n2", 4)
	answer("n3", 0)
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.TopicMembers(ctx, "room.1"); n != 7 || err != nil {
		t.Errorf("TopicMembers = %d, %v; want 7, nil", n, err)
	}
	// The first answer may take longer than TopicCountWait.
	if _, err := gw.Subscribe("gatecast.api.topics.count", func(m *nats.Msg) {
		if string(m.Data) == "room.slow" {
			time.Sleep(60 * time.Millisecond) // a node far away
			m.Respond([]byte(`{"node":"n4","members":2}`))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.TopicMembers(ctx, "room.slow"); n != 2 || err != nil {
		t.Errorf("TopicMembers with a slow node = %d, %v; want 2, nil", n, err)
	}
	if n, err := c.TopicMembers(ctx, "room.2"); n != 0 || err != nil {
		t.Errorf("TopicMembers of an empty topic = %d, %v; want 0, nil", n, err)
	}
	if _, err := c.TopicMembers(ctx, "a b"); !errors.Is(err, backend.ErrBadTopic) {
		t.Errorf("TopicMembers(\"a b\") = %v, want ErrBadTopic", err)
	}
}
