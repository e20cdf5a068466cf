package broker

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

// HubConfig tunes a Hub. Every field's zero value means the default in its
// comment.
type HubConfig struct {
	// Node is this node's id, part of every connection id. Zero means 8
	// random characters.
	Node string
	// MaxPending bounds the route responses and $connect verdicts
	// outstanding on this node; past it a message gets an error frame.
	// Zero means 65536.
	MaxPending int
	// MaxTopicsPerConnection bounds the topics one connection may join.
	// Zero means 100.
	MaxTopicsPerConnection int
	// InboxBuffer is how many replies, commands and topic messages may
	// wait for the dispatcher before NATS drops them (and reports a slow
	// consumer). Zero means 65536.
	InboxBuffer int
	// Admission, if set, admits upgrades (connect rates, per-IP caps) and
	// messages (message rates). Nil admits everything.
	Admission *admission.Pipeline
	// Origins, if set, refuses upgrades from browser pages of other sites
	// with 403. Nil allows any origin.
	Origins *admission.OriginPolicy
	// Auth, if set, requires a valid token on every upgrade; its claims go
	// to backends in Gatecast-Claims. Nil requires none.
	Auth *Auth
	// WAF, if set, inspects upgrades and messages for SQL injection and
	// XSS, in its mode or the route's (routes.Route.WAF). Nil inspects
	// nothing.
	WAF *waf.Firewall
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
	// Log receives warnings; nil discards them.
	Log *slog.Logger
	// AccessLog receives one entry per connection event (CONNECT with the
	// upgrade's status, MESSAGE, DISCONNECT with the close code); nil logs
	// nothing.
	AccessLog *accesslog.Logger
}

// Server is what the hub needs of conn.Server.
type Server interface {
	Lookup(id uint64, fn func(c *conn.Conn)) bool
	Issued(id uint64) bool
	RunOnLoop(i int, fn func()) bool
	Loops() int
}

// Hub is one gateway node's side of NATS. See the package documentation.
type Hub struct {
	cfg   HubConfig
	log   *slog.Logger
	nc    *nats.Conn
	table *routes.Table
	subj  protocol.Subjects
	node  string
	srv   Server
	loops []*hubLoop

	reqSeq     atomic.Uint64 // numbers requests (reply subjects)
	requestIDs atomic.Uint64 // numbers events (Gatecast-Request-Id)
	pending    *pendingTable

	tmu    sync.Mutex
	topics map[string]*topicEntry // guarded by tmu
	// inbox carries replies, commands and topic messages to one
	// dispatcher goroutine, in the order NATS delivered them: a backend's
	// route response, its later Send and its topic publishes reach a
	// connection in the order the backend sent them.
	inbox chan *nats.Msg

	subs     []*nats.Subscription
	stop     chan struct{}
	wg       sync.WaitGroup
	closed   atomic.Bool
	stopOnce sync.Once

	stats hubStats
}

// hubLoop is the hub's state for one event loop. Loop goroutine only.
type hubLoop struct {
	hub     *Hub
	members map[string]*members
	msg     *nats.Msg // reused for every event this loop publishes
}

var errTooManyTopics = errors.New("too many topics on this connection")

// NewHub builds a hub over an established NATS connection.
func NewHub(nc *nats.Conn, table *routes.Table, cfg HubConfig) (*Hub, error) {
	if cfg.Node == "" {
		cfg.Node = randomNode()
	}
	if !protocol.ValidNode(cfg.Node) {
		return nil, errors.New("broker: node id must be 1-64 letters, digits or '_'")
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 65536
	}
	if cfg.MaxTopicsPerConnection <= 0 {
		cfg.MaxTopicsPerConnection = 100
	}
	if cfg.InboxBuffer <= 0 {
		cfg.InboxBuffer = 65536
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		cfg:     cfg,
		log:     log,
		nc:      nc,
		table:   table,
		subj:    protocol.Subjects{Prefix: table.Prefix()},
		node:    cfg.Node,
		pending: newPendingTable(cfg.MaxPending),
		topics:  make(map[string]*topicEntry),
		inbox:   make(chan *nats.Msg, cfg.InboxBuffer),
		stop:    make(chan struct{}),
	}, nil
}

func randomNode() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// Node is this node's id.
func (h *Hub) Node() string { return h.node }

// Start binds the hub to the WebSocket server and subscribes to this
// node's replies, commands and topic counts. Call it after
// conn.NewServer(cfg, hub) and before Listen.
func (h *Hub) Start(srv Server) error {
	h.srv = srv
	for i := 0; i < srv.Loops(); i++ {
		h.loops = append(h.loops, &hubLoop{
			hub:     h,
			members: make(map[string]*members),
			msg:     &nats.Msg{Header: nats.Header{}},
		})
	}
	if len(h.loops) > 64 {
		return errors.New("broker: at most 64 event loops")
	}
	for _, subject := range []string{h.subj.Replies(h.node), h.subj.NodeCommands(h.node)} {
		sub, err := h.nc.ChanSubscribe(subject, h.inbox)
		if err != nil {
			h.Close()
			return err
		}
		h.subs = append(h.subs, sub)
	}
	// Counting members waits for the loops, so it has its own goroutine.
	sub, err := h.nc.Subscribe(h.subj.TopicCount(), h.onTopicCount)
	if err != nil {
		h.Close()
		return err
	}
	h.subs = append(h.subs, sub)
	h.wg.Add(2)
	go h.dispatch()
	go h.sweep()
	return nil
}

// Close unsubscribes and stops the hub's goroutines. Call it after the
// WebSocket server has shut down, so $disconnect events have gone out.
// It flushes what was published. Safe to call twice.
func (h *Hub) Close() {
	h.stopOnce.Do(func() {
		h.closed.Store(true)
		for _, s := range h.subs {
			s.Unsubscribe()
		}
		h.tmu.Lock()
		for t, e := range h.topics {
			if e.sub != nil {
				e.sub.Unsubscribe()
			}
			delete(h.topics, t)
		}
		h.tmu.Unlock()
		h.nc.FlushTimeout(2 * time.Second)
		close(h.stop)
		close(h.inbox)
		h.wg.Wait()
	})
}

// sweep expires outstanding requests.
func (h *Hub) sweep() {
	defer h.wg.Done()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var expired []request
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		expired = h.pending.expire(h.cfg.Now(), expired[:0])
		for _, r := range expired {
			h.stats.timeouts.Add(1)
			h.srv.Lookup(r.conn, func(c *conn.Conn) {
				if c == nil {
					return
				}
				if r.kind == kindConnect {
					h.refuseDeferred(c, &conn.Refusal{Status: 504, Reason: "the $connect backend did not answer in time"})
					return
				}
				h.errorFrame(c, sessionOf(c), "Endpoint request timed out", "")
			})
		}
		clear(expired)
	}
}

// OnConnect runs the $connect route. Loop goroutine.
func (h *Hub) OnConnect(c *conn.Conn, req *conn.Request) error {
	err := h.connect(c, req)
	var ref *conn.Refusal
	switch {
	case err == nil:
		h.logEvent(sessionOf(c), protocol.EventConnect, routes.KeyConnect, 101)
	case errors.As(err, &ref):
		h.logEvent(sessionOf(c), protocol.EventConnect, routes.KeyConnect, ref.Status)
	}
	return err
}

func (h *Hub) connect(c *conn.Conn, req *conn.Request) error {
	now := h.cfg.Now()
	s := newSession(h.node, c, req.Get("User-Agent"), now)
	c.SetValue(s)
	if o := h.cfg.Origins; o != nil && !o.Allow(req.Get("Origin"), req.Host) {
		h.stats.originRefused.Add(1)
		return &conn.Refusal{Status: 403, Reason: "origin not allowed"}
	}
	s.clientIP = c.RemoteAddr().Addr()
	if p := h.cfg.Admission; p != nil {
		s.clientIP = p.ClientIP(s.clientIP, string(req.Get("X-Forwarded-For")))
		s.sourceIP = s.clientIP.String()
	}
	if err := h.inspectUpgrade(req, s); err != nil {
		return err
	}
	if p := h.cfg.Admission; p != nil {
		if ref := p.Connect(s.clientIP, now); ref != nil {
			return refusal(ref)
		}
		s.admitted = true
	}
	if h.cfg.Auth != nil {
		if err := h.authorize(req, s); err != nil {
			h.release(s)
			return err
		}
	}
	r, ok := h.table.WebSocket(routes.KeyConnect)
	if !ok || r.Integration != routes.IntegrationNATS {
		return nil
	}
	body, _ := json.Marshal(connectRequest(req, s.sourceIP))
	ls := h.loops[c.LoopIndex()]
	msg := ls.event(h, s, protocol.EventConnect, r, body, now)
	if !r.TwoWay() {
		if err := h.nc.PublishMsg(msg); err != nil {
			h.stats.publishErrors.Add(1)
		} else {
			h.stats.events.Add(1)
		}
		return nil
	}
	n := h.reqSeq.Add(1)
	if !h.pending.add(n, request{conn: c.ID(), kind: kindConnect, routeKey: routes.KeyConnect}, r.Timeout, now) {
		h.stats.pendingFull.Add(1)
		return &conn.Refusal{Status: 503, Reason: "too many upgrades waiting for the $connect backend"}
	}
	msg.Reply = h.subj.ReplyTo(h.node, n)
	err := h.nc.PublishMsg(msg)
	msg.Reply = ""
	if err != nil {
		h.pending.take(n)
		h.stats.publishErrors.Add(1)
		return &conn.Refusal{Status: 503, Reason: "message broker unreachable"}
	}
	h.stats.events.Add(1)
	return conn.ErrDeferred
}

func connectRequest(req *conn.Request, sourceIP string) protocol.ConnectRequest {
	cr := protocol.ConnectRequest{
		Path:     string(req.Path()),
		Query:    string(req.Query()),
		Headers:  make(map[string][]string, len(req.Header)),
		SourceIP: sourceIP,
		Protocol: req.Protocol,
	}
	for _, f := range req.Header {
		k := string(f.Name)
		cr.Headers[k] = append(cr.Headers[k], string(f.Value))
	}
	return cr
}

// refusal turns an admission decision into the upgrade's HTTP answer.
func refusal(ref *admission.Refusal) *conn.Refusal {
	r := &conn.Refusal{Status: ref.Status, Reason: ref.Detail}
	if ra := ref.RetryAfterHeader(); ra != "" {
		r.Header = []conn.HeaderString{{Name: "Retry-After", Value: ra}}
	}
	return r
}

// OnAbandon gives back what OnConnect took for a connection that never
// opened. Loop goroutine.
func (h *Hub) OnAbandon(c *conn.Conn) { h.release(sessionOf(c)) }

func (h *Hub) release(s *session) {
	if s != nil && s.admitted {
		s.admitted = false
		h.cfg.Admission.Release(s.clientIP, h.cfg.Now())
	}
}

// OnOpen has nothing to do. Loop goroutine.
//
// The session already exists: the hub is a conn.ConnectHandler, so
// OnConnect ran for every connection that opens.
func (h *Hub) OnOpen(*conn.Conn) {}

// OnMessage routes one client message. Loop goroutine.
func (h *Hub) OnMessage(c *conn.Conn, op ws.OpCode, payload []byte) {
	s := sessionOf(c)
	now := h.cfg.Now()
	s.lastActive = now.UnixMilli()
	key, r, ok := h.table.Select(payload)
	if !ok {
		h.logEvent(s, protocol.EventMessage, key, 403)
		h.errorFrame(c, s, "Forbidden", "")
		return
	}
	if p := h.cfg.Admission; p != nil && !h.admitMessage(c, s, p, r, now) {
		h.logEvent(s, protocol.EventMessage, r.Key, 429)
		return
	}
	if h.cfg.WAF != nil && !h.inspectMessage(c, s, r, payload) {
		h.logEvent(s, protocol.EventMessage, r.Key, 403)
		return
	}
	if len(r.Scopes) > 0 && !hasScopes(s.scopes(), r.Scopes) {
		h.stats.scopeRefused.Add(1)
		h.logEvent(s, protocol.EventMessage, r.Key, 403)
		h.errorFrame(c, s, "Forbidden: this route needs scopes "+strings.Join(r.Scopes, " "), "")
		return
	}
	h.logEvent(s, protocol.EventMessage, r.Key, 200)
	switch r.Integration {
	case routes.IntegrationEcho:
		c.WriteMessage(op, payload)
	case routes.IntegrationSubscribe, routes.IntegrationUnsubscribe:
		h.clientTopic(c, s, r, payload)
	case routes.IntegrationNATS:
		h.publishMessage(c, s, r, op, payload, now)
	}
}

func (h *Hub) publishMessage(c *conn.Conn, s *session, r *routes.Route, op ws.OpCode, payload []byte, now time.Time) {
	ls := h.loops[c.LoopIndex()]
	msg := ls.event(h, s, protocol.EventMessage, r, payload, now)
	if op == ws.OpBinary {
		msg.Header[protocol.HeaderMessageType] = binaryType
	} else {
		msg.Header[protocol.HeaderMessageType] = textType
	}
	var n uint64
	if r.TwoWay() {
		n = h.reqSeq.Add(1)
		if !h.pending.add(n, request{conn: c.ID(), kind: kindMessage, routeKey: r.Key}, r.Timeout, now) {
			h.stats.pendingFull.Add(1)
			h.errorFrame(c, s, "Too Many Requests: gateway request table full", msg.Header.Get(protocol.HeaderRequestID))
			return
		}
		msg.Reply = h.subj.ReplyTo(h.node, n)
	}
	err := h.nc.PublishMsg(msg)
	msg.Reply = ""
	msg.Data = nil
	if err != nil {
		if n != 0 {
			h.pending.take(n)
		}
		h.stats.publishErrors.Add(1)
		h.errorFrame(c, s, "Service Unavailable: message broker unreachable", msg.Header.Get(protocol.HeaderRequestID))
		return
	}
	h.stats.events.Add(1)
}

// admitMessage applies the connection's message rate and the route's.
func (h *Hub) admitMessage(c *conn.Conn, s *session, p *admission.Pipeline, r *routes.Route, now time.Time) bool {
	ref := p.Message(&s.meter, p.Config().MessageRate, now)
	if ref == nil && r.RateIndex >= 0 {
		x := s.extras()
		if x.meters == nil {
			x.meters = make([]admission.Meter, h.table.RatedRoutes())
		}
		ref = p.Message(&x.meters[r.RateIndex], r.MessageRate, now)
	}
	if ref == nil {
		return true
	}
	h.stats.rateLimited.Add(1)
	if p.Config().MessagePolicy == "close" {
		c.Close(conn.Disconnect{Code: ws.StatusPolicyViolation, Reason: "message rate limit exceeded"})
		return false
	}
	h.errorFrame(c, s, ref.Detail, "")
	return false
}

// clientTopic runs a subscribe or unsubscribe route.
func (h *Hub) clientTopic(c *conn.Conn, s *session, r *routes.Route, payload []byte) {
	name, ok := r.TopicName(payload)
	if !ok {
		h.errorFrame(c, s, "Bad Request: no valid topic at "+r.TopicFrom+" (allowed prefix \""+r.TopicPrefix+"\")", "")
		return
	}
	topic := string(name)
	if r.Integration == routes.IntegrationUnsubscribe {
		h.leave(c, s, topic)
		return
	}
	if err := h.join(c, s, topic); err != nil {
		h.errorFrame(c, s, "Bad Request: "+err.Error(), "")
	}
}

// OnClose leaves the connection's topics and sends $disconnect. Loop
// goroutine.
func (h *Hub) OnClose(c *conn.Conn, d conn.Disconnect) {
	s := sessionOf(c)
	if s == nil {
		return
	}
	h.release(s)
	h.logEvent(s, protocol.EventDisconnect, routes.KeyDisconnect, int(d.Code))
	for len(s.topics) > 0 {
		h.leave(c, s, s.topics[len(s.topics)-1])
	}
	r, ok := h.table.WebSocket(routes.KeyDisconnect)
	if !ok || r.Integration != routes.IntegrationNATS || h.closed.Load() {
		return
	}
	ls := h.loops[c.LoopIndex()]
	msg := ls.event(h, s, protocol.EventDisconnect, r, nil, h.cfg.Now())
	msg.Header[protocol.HeaderCloseCode] = []string{strconv.Itoa(int(d.Code))}
	if d.Reason != "" {
		msg.Header[protocol.HeaderCloseReason] = []string{d.Reason}
	}
	err := h.nc.PublishMsg(msg)
	delete(msg.Header, protocol.HeaderCloseCode)
	delete(msg.Header, protocol.HeaderCloseReason)
	if err != nil {
		h.stats.publishErrors.Add(1)
		return
	}
	h.stats.events.Add(1)
}

var (
	textType   = []string{protocol.MessageText}
	binaryType = []string{protocol.MessageBinary}
)

// event fills the loop's reusable message for a route event. The header
// map and its value slices are reused: nats.go encodes them during
// PublishMsg and keeps nothing.
func (ls *hubLoop) event(h *Hub, s *session, typ string, r *routes.Route, body []byte, now time.Time) *nats.Msg {
	m := ls.msg
	m.Subject = r.Subject
	m.Data = body
	hd := m.Header
	set := func(k, v string) {
		vs := hd[k]
		if cap(vs) == 0 {
			vs = make([]string, 1)
		}
		vs = vs[:1]
		vs[0] = v
		hd[k] = vs
	}
	set(protocol.HeaderEventType, typ)
	set(protocol.HeaderConnectionID, s.id)
	set(protocol.HeaderRouteKey, r.Key)
	set(protocol.HeaderRequestID, h.newRequestID())
	set(protocol.HeaderNode, h.node)
	set(protocol.HeaderSourceIP, s.sourceIP)
	set(protocol.HeaderConnectedAt, s.connectedMs)
	set(protocol.HeaderReceivedAt, strconv.FormatInt(now.UnixMilli(), 10))
	delete(hd, protocol.HeaderMessageType)
	if cl := s.claims(); cl != nil {
		set(protocol.HeaderClaims, string(cl))
	} else {
		delete(hd, protocol.HeaderClaims)
	}
	return m
}

// newRequestID names one event or error frame for logs and tracing.
func (h *Hub) newRequestID() string {
	return h.node + "-r" + strconv.FormatUint(h.requestIDs.Add(1), 36)
}

// errorFrame answers the client the way Amazon API Gateway does when it
// cannot deliver a message, and keeps the connection open.
func (h *Hub) errorFrame(c *conn.Conn, s *session, message, requestID string) {
	if s == nil || !c.Open() {
		return
	}
	if requestID == "" {
		requestID = h.newRequestID()
	}
	b, _ := json.Marshal(struct {
		Message      string `json:"message"`
		ConnectionID string `json:"connectionId"`
		RequestID    string `json:"requestId"`
	}{message, s.id, requestID})
	h.stats.errorFrames.Add(1)
	c.WriteMessage(ws.OpText, b)
}

// onReply carries a backend's reply to the connection that asked. NATS
// goroutine.
func (h *Hub) onReply(m *nats.Msg) {
	i := len(m.Subject) - 1
	for i >= 0 && m.Subject[i] != '.' {
		i--
	}
	n, err := strconv.ParseUint(m.Subject[i+1:], 36, 64)
	if err != nil {
		return
	}
	r, ok := h.pending.take(n)
	if !ok {
		h.stats.lateReplies.Add(1)
		return
	}
	noResponders := len(m.Data) == 0 && m.Header.Get("Status") == "503"
	if noResponders {
		h.stats.noResponders.Add(1)
	}
	status := m.Header.Get(protocol.HeaderStatus)
	h.srv.Lookup(r.conn, func(c *conn.Conn) {
		if c == nil {
			return
		}
		if r.kind == kindConnect {
			switch {
			case noResponders:
				h.refuseDeferred(c, &conn.Refusal{Status: 503, Reason: "no backend subscribed to the $connect route"})
			case status == "" || status[0] == '2':
				if c.Pending() {
					h.logEvent(sessionOf(c), protocol.EventConnect, routes.KeyConnect, 101)
				}
				c.Accept()
			default:
				code, err := strconv.Atoi(status)
				if err != nil || code < 400 || code > 599 {
					code = 403
				}
				h.refuseDeferred(c, &conn.Refusal{Status: code, Reason: string(m.Data)})
			}
			return
		}
		switch {
		case noResponders:
			h.errorFrame(c, sessionOf(c), "Service Unavailable: no backend for route "+r.routeKey, "")
		case status == "204":
		case status != "" && status[0] != '2':
			// The backend failed; its reason is for the operator's log, not
			// for the client (Amazon answers the same way).
			h.stats.backendErrors.Add(1)
			h.log.Warn("backend answered a route with an error", "route", r.routeKey, "status", status,
				"error", m.Header.Get(protocol.HeaderError), "connection", sessionOf(c).id)
			h.errorFrame(c, sessionOf(c), "Internal server error", "")
		case !c.Open():
		default:
			op := ws.OpText
			if m.Header.Get(protocol.HeaderMessageType) == protocol.MessageBinary {
				op = ws.OpBinary
			}
			h.stats.replies.Add(1)
			c.WriteMessage(op, m.Data)
		}
	})
}

func hasScopes(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
