package broker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/protocol"
)

// Result is the outcome of a command on a connection, with an HTTP-style
// status: 200 or 204 done, 400 bad command, 404 no such connection ever,
// 410 ended, 503 could not be carried out now.
type Result struct {
	Status int
	Body   []byte // the info command's JSON
	Error  string // why, for a status other than 2xx
}

func result(status int, msg string) Result { return Result{Status: status, Error: msg} }

// Command runs a command (protocol.Command*) on the connection id names,
// on whichever node holds it: directly when it is this node, as a NATS
// request otherwise. Safe from any goroutine.
func (h *Hub) Command(ctx context.Context, id protocol.ConnectionID, command string, hdr nats.Header, body []byte) Result {
	if h.closed.Load() {
		return result(http.StatusServiceUnavailable, "gateway shutting down")
	}
	if id.Node == h.node {
		return h.localCommand(ctx, id.N, command, hdr, body)
	}
	reply, err := h.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: h.subj.Command(id, command), Header: hdr, Data: body})
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return result(http.StatusGone, "no gateway node holds this connection")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return result(http.StatusGatewayTimeout, "the node holding the connection did not answer")
	case err != nil:
		return result(http.StatusServiceUnavailable, err.Error())
	}
	status, _ := strconv.Atoi(reply.Header.Get(protocol.HeaderStatus))
	if status == 0 {
		status = http.StatusOK
	}
	return Result{Status: status, Body: reply.Data, Error: reply.Header.Get(protocol.HeaderError)}
}

func (h *Hub) localCommand(ctx context.Context, n uint64, command string, hdr nats.Header, body []byte) Result {
	if !h.srv.Issued(n) {
		return result(http.StatusNotFound, "no such connection")
	}
	done := make(chan Result, 1)
	if !h.srv.Lookup(n, func(c *conn.Conn) { done <- h.exec(c, command, hdr, body) }) {
		return result(http.StatusServiceUnavailable, "gateway shutting down")
	}
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		return result(http.StatusGatewayTimeout, ctx.Err().Error())
	}
}

// exec carries out a command on c. Loop goroutine.
func (h *Hub) exec(c *conn.Conn, command string, hdr nats.Header, body []byte) Result {
	h.stats.commands.Add(1)
	if c == nil || !c.Open() {
		return result(http.StatusGone, "the connection has ended")
	}
	s := sessionOf(c)
	switch command {
	case protocol.CommandSend:
		op := ws.OpText
		if hdr.Get(protocol.HeaderMessageType) == protocol.MessageBinary {
			op = ws.OpBinary
		}
		if err := c.WriteMessage(op, body); err != nil {
			return result(http.StatusServiceUnavailable, err.Error())
		}
		return Result{Status: http.StatusOK}
	case protocol.CommandClose:
		code := int(ws.StatusNormalClosure)
		if v := hdr.Get(protocol.HeaderCloseCode); v != "" {
			var err error
			if code, err = strconv.Atoi(v); err != nil || !(code == 1000 || code >= 3000 && code <= 4999) {
				return result(http.StatusBadRequest, "close code must be 1000 or 3000-4999")
			}
		}
		reason := hdr.Get(protocol.HeaderCloseReason)
		if len(reason) > 123 {
			return result(http.StatusBadRequest, "close reason over 123 bytes")
		}
		c.Close(conn.Disconnect{Code: ws.StatusCode(code), Reason: reason})
		return Result{Status: http.StatusNoContent}
	case protocol.CommandInfo:
		b, _ := json.Marshal(s.info())
		return Result{Status: http.StatusOK, Body: b}
	case protocol.CommandJoin, protocol.CommandLeave:
		topic := string(body)
		if !protocol.ValidTopic(topic) {
			return result(http.StatusBadRequest, "invalid topic name: 1-128 letters, digits, '_', '-', ':' and inner dots")
		}
		if command == protocol.CommandLeave {
			h.leave(c, s, topic)
			return Result{Status: http.StatusNoContent}
		}
		if err := h.join(c, s, topic); err != nil {
			return result(http.StatusBadRequest, err.Error())
		}
		return Result{Status: http.StatusNoContent}
	}
	return result(http.StatusBadRequest, "unknown command "+strconv.Quote(command))
}

// onCommand serves commands that backends and other nodes send to this
// node's connections. NATS goroutine.
func (h *Hub) onCommand(m *nats.Msg) {
	n, command, ok := h.subj.ParseCommand(h.node, m.Subject)
	respond := func(r Result) {
		if m.Reply == "" {
			return
		}
		reply := &nats.Msg{Subject: m.Reply, Header: nats.Header{}, Data: r.Body}
		reply.Header.Set(protocol.HeaderStatus, strconv.Itoa(r.Status))
		if r.Error != "" {
			reply.Header.Set(protocol.HeaderError, r.Error)
		}
		h.nc.PublishMsg(reply)
	}
	switch {
	case !ok:
		respond(result(http.StatusBadRequest, "malformed command subject"))
		return
	case !h.srv.Issued(n):
		respond(result(http.StatusNotFound, "no such connection"))
		return
	}
	if !h.srv.Lookup(n, func(c *conn.Conn) { respond(h.exec(c, command, m.Header, m.Data)) }) {
		respond(result(http.StatusServiceUnavailable, "gateway shutting down"))
	}
}

// Publish sends data to every member of topic on every node. exclude, if
// not empty, is a connection id that does not receive it.
func (h *Hub) Publish(topic string, binary bool, data []byte, exclude string) error {
	if !protocol.ValidTopic(topic) {
		return errors.New("invalid topic name: 1-128 letters, digits, '_', '-', ':' and inner dots")
	}
	m := &nats.Msg{Subject: h.subj.Topic(topic), Header: nats.Header{}, Data: data}
	if binary {
		m.Header.Set(protocol.HeaderMessageType, protocol.MessageBinary)
	}
	if exclude != "" {
		m.Header.Set(protocol.HeaderExclude, exclude)
	}
	if err := h.nc.PublishMsg(m); err != nil {
		return ErrBrokerDown
	}
	h.stats.publishes.Add(1)
	return nil
}

// TopicMembers counts the members of topic over all nodes: it asks every
// node and adds up the answers that come within quiet of each other.
func (h *Hub) TopicMembers(ctx context.Context, topic string) (int, error) {
	if !protocol.ValidTopic(topic) {
		return 0, errors.New("invalid topic name")
	}
	inbox := h.nc.NewRespInbox()
	ch := make(chan *nats.Msg, 64)
	sub, err := h.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return 0, ErrBrokerDown
	}
	defer sub.Unsubscribe()
	if err := h.nc.PublishRequest(h.subj.TopicCount(), inbox, []byte(topic)); err != nil {
		return 0, ErrBrokerDown
	}
	const quiet = 50 * time.Millisecond
	total := 0
	timer := time.NewTimer(500 * time.Millisecond) // the first answer may take longer
	defer timer.Stop()
	for {
		select {
		case m := <-ch:
			var r protocol.TopicCountReply
			if json.Unmarshal(m.Data, &r) == nil {
				total += r.Members
			}
			timer.Reset(quiet)
		case <-timer.C:
			return total, nil
		case <-ctx.Done():
			return total, ctx.Err()
		}
	}
}

// onTopicCount answers TopicMembers for this node. NATS goroutine.
func (h *Hub) onTopicCount(m *nats.Msg) {
	topic := string(m.Data)
	if !protocol.ValidTopic(topic) || m.Reply == "" {
		return
	}
	n := h.localMembers(topic)
	if n == 0 {
		return
	}
	b, _ := json.Marshal(protocol.TopicCountReply{Node: h.node, Members: n})
	m.Respond(b)
}
