package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
)

// Event is what the gateway tells about every route event.
type Event struct {
	// ConnectionID names the client's connection in commands.
	ConnectionID string
	// RouteKey is the route the event came by: "$connect", "$default",
	// "$disconnect" or a configured key.
	RouteKey string
	// RequestID is unique per event; log it to follow one event through.
	RequestID string
	// Node is the gateway node holding the connection.
	Node string
	// SourceIP is the client's address as the gateway saw it.
	SourceIP string
	// ConnectedAt is when the connection was accepted; on $connect, when
	// the upgrade request arrived.
	ConnectedAt time.Time
	// ReceivedAt is when the gateway received the event.
	ReceivedAt time.Time
	// Claims are the verified token claims as JSON, nil without
	// authentication.
	Claims json.RawMessage
}

// Message is a client's WebSocket message.
type Message struct {
	Event
	// Binary is true for a binary message, false for text.
	Binary bool
	// Data is the message as the client sent it. It belongs to the
	// handler, which may keep it.
	Data []byte
	// ReplyBinary says how a route response is sent: binary if true, text
	// if false. It starts equal to Binary; the handler may change it.
	ReplyBinary bool
}

// ConnectRequest is a client's upgrade request, on the $connect route.
type ConnectRequest struct {
	Event
	// Upgrade is the HTTP upgrade request as the gateway received it.
	Upgrade protocol.ConnectRequest
}

// Disconnect tells that a connection has ended, on the $disconnect route.
type Disconnect struct {
	Event
	// Code is the WebSocket close code: 1006 if the TCP connection was
	// lost without a close frame.
	Code int
	// Reason is the close reason, if any.
	Reason string
}

// ConnectFunc decides on a client's upgrade request: nil accepts it, a
// *Refusal refuses it with its status, any other error refuses it with 500.
// The verdict reaches the client only if the gateway's $connect route is
// two-way (route_response: true).
type ConnectFunc func(ctx context.Context, req *ConnectRequest) error

// RouteFunc handles a client's message. If the route is two-way, a non-nil
// reply goes back to the client as one message, a nil reply sends nothing,
// and an error makes the gateway answer the client with an error frame.
// On a one-way route the result is dropped; answer with Send instead.
type RouteFunc func(ctx context.Context, m *Message) (reply []byte, err error)

// DisconnectFunc hears that a connection has ended. Commands on it answer
// ErrGone from now on.
type DisconnectFunc func(ctx context.Context, d *Disconnect)

// HandleConnect handles the $connect route.
func (c *Client) HandleConnect(fn ConnectFunc) (*Subscription, error) {
	return c.subscribe(c.cfg.Prefix+".connect", func(ctx context.Context, m *nats.Msg) *nats.Msg {
		ev, bad := c.parseEvent(m, protocol.EventConnect)
		if bad != nil {
			return bad
		}
		req := &ConnectRequest{Event: ev}
		if err := json.Unmarshal(m.Data, &req.Upgrade); err != nil {
			c.cfg.Logger.Warn("gatecast backend: malformed CONNECT body", "subject", m.Subject, "connection", ev.ConnectionID, "err", err)
			return statusReply(http.StatusBadRequest, "malformed CONNECT body: "+err.Error())
		}
		err := fn(ctx, req)
		if err == nil {
			return statusReply(http.StatusOK, "")
		}
		var refusal *Refusal
		if !errors.As(err, &refusal) {
			r := statusReply(http.StatusInternalServerError, err.Error())
			r.Data = []byte(http.StatusText(http.StatusInternalServerError))
			return r
		}
		status := refusal.status()
		if status < 400 || status > 599 {
			return statusReply(http.StatusInternalServerError, fmt.Sprintf("backend refused with status %d, which is not 400-599", status))
		}
		r := statusReply(status, refusal.reason())
		r.Data = []byte(refusal.reason())
		return r
	})
}

// HandleRoute handles the messages of the route with key: "$default" or a
// configured key whose subject is the default one (the gateway's
// <prefix>.route.<key>). For a route with its own subject, use
// HandleSubject.
func (c *Client) HandleRoute(key string, fn RouteFunc) (*Subscription, error) {
	switch {
	case key == "$default":
		return c.HandleSubject(c.cfg.Prefix+".default", fn)
	case key == "$connect":
		return nil, errors.New("backend: HandleRoute($connect): use HandleConnect")
	case key == "$disconnect":
		return nil, errors.New("backend: HandleRoute($disconnect): use HandleDisconnect")
	case !validKey(key):
		return nil, fmt.Errorf("backend: route key %q cannot be a subject token (letters, digits, '_', '-'); give the route a subject in the gateway config and use HandleSubject", key)
	}
	return c.HandleSubject(c.cfg.Prefix+".route."+key, fn)
}

// HandleSubject handles the messages of the route whose subject is set in
// the gateway's configuration (routes.websocket.<key>.subject).
func (c *Client) HandleSubject(subject string, fn RouteFunc) (*Subscription, error) {
	if !validSubject(subject) {
		return nil, fmt.Errorf("backend: %q is not a literal NATS subject; use the route's subject as configured, without wildcards", subject)
	}
	return c.subscribe(subject, func(ctx context.Context, m *nats.Msg) *nats.Msg {
		ev, bad := c.parseEvent(m, protocol.EventMessage)
		if bad != nil {
			return bad
		}
		msg := &Message{Event: ev, Data: m.Data}
		msg.Binary = m.Header.Get(protocol.HeaderMessageType) == protocol.MessageBinary
		msg.ReplyBinary = msg.Binary
		reply, err := fn(ctx, msg)
		switch {
		case err != nil:
			return statusReply(http.StatusInternalServerError, err.Error())
		case reply == nil:
			return statusReply(http.StatusNoContent, "")
		}
		r := nats.NewMsg("")
		r.Header.Set(protocol.HeaderMessageType, messageType(msg.ReplyBinary))
		r.Data = reply
		return r
	})
}

// HandleDisconnect handles the $disconnect route.
func (c *Client) HandleDisconnect(fn DisconnectFunc) (*Subscription, error) {
	return c.subscribe(c.cfg.Prefix+".disconnect", func(ctx context.Context, m *nats.Msg) *nats.Msg {
		ev, bad := c.parseEvent(m, protocol.EventDisconnect)
		if bad != nil {
			return bad
		}
		d := &Disconnect{Event: ev, Reason: m.Header.Get(protocol.HeaderCloseReason)}
		d.Code, _ = strconv.Atoi(m.Header.Get(protocol.HeaderCloseCode))
		fn(ctx, d)
		return statusReply(http.StatusNoContent, "")
	})
}

// parseEvent reads the headers of an event of type want. A malformed event
// is logged and answered with bad, a 400 reply.
func (c *Client) parseEvent(m *nats.Msg, want string) (ev Event, bad *nats.Msg) {
	h := m.Header
	ev = Event{
		ConnectionID: h.Get(protocol.HeaderConnectionID),
		RouteKey:     h.Get(protocol.HeaderRouteKey),
		RequestID:    h.Get(protocol.HeaderRequestID),
		Node:         h.Get(protocol.HeaderNode),
		SourceIP:     h.Get(protocol.HeaderSourceIP),
		ConnectedAt:  unixMilli(h.Get(protocol.HeaderConnectedAt)),
		ReceivedAt:   unixMilli(h.Get(protocol.HeaderReceivedAt)),
	}
	if claims := h.Get(protocol.HeaderClaims); claims != "" {
		ev.Claims = json.RawMessage(claims)
	}
	var problem string
	if got := h.Get(protocol.HeaderEventType); got != want {
		problem = fmt.Sprintf("%s handler got a %q event; check that the route's subject is not shared with another route", want, got)
	} else if _, err := protocol.ParseConnectionID(ev.ConnectionID); err != nil {
		problem = fmt.Sprintf("connection id %q: %v", ev.ConnectionID, err)
	}
	if problem == "" {
		return ev, nil
	}
	c.cfg.Logger.Warn("gatecast backend: malformed event dropped", "subject", m.Subject, "problem", problem)
	return ev, statusReply(http.StatusBadRequest, problem)
}

// statusReply is a reply with Gatecast-Status and, if reason is not empty,
// Gatecast-Error.
func statusReply(status int, reason string) *nats.Msg {
	r := nats.NewMsg("")
	r.Header.Set(protocol.HeaderStatus, strconv.Itoa(status))
	if reason != "" {
		r.Header.Set(protocol.HeaderError, headerValue(reason))
	}
	return r
}

// headerValue makes s fit in a NATS header: one line, at most 1 KiB.
func headerValue(s string) string {
	const max = 1024
	if len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// unixMilli reads a decimal Unix-ms timestamp; anything else is the zero
// time.
func unixMilli(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "" {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func messageType(binary bool) string {
	if binary {
		return protocol.MessageBinary
	}
	return protocol.MessageText
}

// validKey reports whether a route key can be a subject token as it is.
func validKey(key string) bool {
	if key == "" || len(key) > 128 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
