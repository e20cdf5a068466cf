package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
)

// Send sends data to the client as one text message. It returns once the
// gateway node has queued the message for the connection, so the messages
// of successive Sends reach the client in order.
func (c *Client) Send(ctx context.Context, connectionID string, data []byte) error {
	return c.send(ctx, connectionID, data, false)
}

// SendBinary is Send for a binary message.
func (c *Client) SendBinary(ctx context.Context, connectionID string, data []byte) error {
	return c.send(ctx, connectionID, data, true)
}

func (c *Client) send(ctx context.Context, connectionID string, data []byte, binary bool) error {
	h := nats.Header{}
	h.Set(protocol.HeaderMessageType, messageType(binary))
	_, err := c.command(ctx, connectionID, protocol.CommandSend, h, data)
	return err
}

// Close closes the connection with a WebSocket close code, 1000 (normal
// closure; 0 means 1000) or an application code 3000-4999, and a reason of
// at most 123 bytes; the gateway answers anything else with 400. The
// connection's $disconnect event follows as for any other ending.
func (c *Client) Close(ctx context.Context, connectionID string, code int, reason string) error {
	if code == 0 {
		code = 1000
	}
	if len(reason) > 123 {
		return fmt.Errorf("backend: close reason is %d bytes; a close frame allows 123", len(reason))
	}
	h := nats.Header{}
	h.Set(protocol.HeaderCloseCode, strconv.Itoa(code))
	if reason != "" {
		h.Set(protocol.HeaderCloseReason, reason)
	}
	_, err := c.command(ctx, connectionID, protocol.CommandClose, h, nil)
	return err
}

// Info returns what the gateway knows about the connection.
func (c *Client) Info(ctx context.Context, connectionID string) (*protocol.ConnectionInfo, error) {
	reply, err := c.command(ctx, connectionID, protocol.CommandInfo, nil, nil)
	if err != nil {
		return nil, err
	}
	info := new(protocol.ConnectionInfo)
	if err := json.Unmarshal(reply.Data, info); err != nil {
		return nil, fmt.Errorf("backend: info on %s: malformed answer from the gateway: %w", connectionID, err)
	}
	return info, nil
}

// Join adds the connection to topic, on its gateway node: it receives what
// is published to the topic from the moment Join returns.
func (c *Client) Join(ctx context.Context, connectionID, topic string) error {
	if !protocol.ValidTopic(topic) {
		return fmt.Errorf("backend: join %q: %w", topic, ErrBadTopic)
	}
	_, err := c.command(ctx, connectionID, protocol.CommandJoin, nil, []byte(topic))
	return err
}

// Leave removes the connection from topic.
func (c *Client) Leave(ctx context.Context, connectionID, topic string) error {
	if !protocol.ValidTopic(topic) {
		return fmt.Errorf("backend: leave %q: %w", topic, ErrBadTopic)
	}
	_, err := c.command(ctx, connectionID, protocol.CommandLeave, nil, []byte(topic))
	return err
}

// command sends a command to the node holding the connection and maps its
// answer to an error.
func (c *Client) command(ctx context.Context, connectionID, command string, h nats.Header, body []byte) (*nats.Msg, error) {
	id, err := protocol.ParseConnectionID(connectionID)
	if err != nil {
		return nil, fmt.Errorf("backend: %s on %q: %w", command, connectionID, err)
	}
	ctx, cancel := c.commandContext(ctx)
	defer cancel()
	msg := &nats.Msg{Subject: c.subjects.Command(id, command), Header: h, Data: body}
	reply, err := c.nc.RequestMsgWithContext(ctx, msg)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, &CommandError{Command: command, ConnectionID: connectionID}
	case err != nil:
		return nil, fmt.Errorf("backend: %s on %s: %w", command, connectionID, err)
	}
	status := http.StatusOK
	if s := reply.Header.Get(protocol.HeaderStatus); s != "" {
		if status, err = strconv.Atoi(s); err != nil {
			return nil, fmt.Errorf("backend: %s on %s: the gateway answered with status %q", command, connectionID, s)
		}
	}
	if status < 200 || status > 299 {
		return nil, &CommandError{Command: command, ConnectionID: connectionID, Status: status, Reason: reply.Header.Get(protocol.HeaderError)}
	}
	return reply, nil
}

// PublishOption changes how Publish sends a message.
type PublishOption func(*nats.Msg)

// Binary makes the published message a binary one; it is text otherwise.
func Binary() PublishOption {
	return func(m *nats.Msg) { m.Header.Set(protocol.HeaderMessageType, protocol.MessageBinary) }
}

// Exclude keeps the message from one connection, typically the sender.
func Exclude(connectionID string) PublishOption {
	return func(m *nats.Msg) { m.Header.Set(protocol.HeaderExclude, connectionID) }
}

// Publish sends data to every member of topic, on every gateway node, as
// one message. It returns once the NATS client has queued it: delivery is
// at most once, and the messages of one Client on one topic reach each
// member in the order published.
func (c *Client) Publish(topic string, data []byte, opts ...PublishOption) error {
	if !protocol.ValidTopic(topic) {
		return fmt.Errorf("backend: publish to %q: %w", topic, ErrBadTopic)
	}
	m := nats.NewMsg(c.subjects.Topic(topic))
	m.Header.Set(protocol.HeaderMessageType, protocol.MessageText)
	m.Data = data
	for _, o := range opts {
		o(m)
	}
	if ex := m.Header.Get(protocol.HeaderExclude); ex != "" {
		if _, err := protocol.ParseConnectionID(ex); err != nil {
			return fmt.Errorf("backend: publish to %q: exclude %q: %w", topic, ex, err)
		}
	}
	if err := c.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("backend: publish to %q: %w", topic, err)
	}
	return nil
}

// TopicMembers counts the members of topic on every gateway node. Nodes
// with members answer independently; it adds up the answers that come
// until none has come for Config.TopicCountWait (ten times that for the
// first), so a node that is slow to answer may be left out. With no
// gateway node running it returns 0 at once. If ctx ends first, it returns
// the count so far and ctx.Err().
func (c *Client) TopicMembers(ctx context.Context, topic string) (int, error) {
	if !protocol.ValidTopic(topic) {
		return 0, fmt.Errorf("backend: count members of %q: %w", topic, ErrBadTopic)
	}
	ctx, cancel := c.commandContext(ctx)
	defer cancel()
	inbox := c.nc.NewInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		return 0, fmt.Errorf("backend: count members of %q: %w", topic, err)
	}
	defer sub.Unsubscribe()
	if err := c.nc.PublishRequest(c.subjects.TopicCount(), inbox, []byte(topic)); err != nil {
		return 0, fmt.Errorf("backend: count members of %q: %w", topic, err)
	}
	total, quiet := 0, 10*c.cfg.TopicCountWait
	for {
		wait, cancelWait := context.WithTimeout(ctx, quiet)
		m, err := sub.NextMsgWithContext(wait)
		cancelWait()
		switch {
		case ctx.Err() != nil:
			return total, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			return total, nil
		case errors.Is(err, nats.ErrNoResponders):
			return total, nil // no gateway node runs
		case err != nil:
			return total, fmt.Errorf("backend: count members of %q: %w", topic, err)
		}
		var r protocol.TopicCountReply
		if err := json.Unmarshal(m.Data, &r); err != nil {
			return total, fmt.Errorf("backend: count members of %q: malformed answer from the gateway: %w", topic, err)
		}
		total += r.Members
		quiet = c.cfg.TopicCountWait
	}
}
