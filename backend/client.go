package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
)

// Defaults of Config.
const (
	DefaultQueueGroup     = "gatecast"
	DefaultHandlerTimeout = 29 * time.Second
	DefaultCommandTimeout = 5 * time.Second
	DefaultConcurrency    = 256
	// DefaultHTTPConcurrency is larger: a streamed answer holds its
	// handler for as long as it streams.
	DefaultHTTPConcurrency = 4096
	DefaultMaxPending      = 64 * 1024
	DefaultTopicCountWait  = 50 * time.Millisecond
)

// Config tunes a Client. The zero value works against a gateway with the
// default subject prefix.
type Config struct {
	// Prefix is the first token (or tokens) of every subject, the gateway's
	// routes.subject_prefix. Zero means protocol.DefaultPrefix, "gatecast".
	Prefix string
	// QueueGroup is the NATS queue group of the handlers' subscriptions:
	// each event goes to one backend instance of the group. Zero means
	// "gatecast".
	QueueGroup string
	// HandlerTimeout bounds each handler call: its context ends after it.
	// Zero means 29 s, the gateway's default route timeout; a streaming
	// handler that answers with Send may need more.
	HandlerTimeout time.Duration
	// CommandTimeout bounds a command (Send, Close, Info, Join, Leave,
	// TopicMembers) whose context has no deadline. Zero means 5 s.
	CommandTimeout time.Duration
	// Concurrency is how many handlers may run at once, each for a
	// different connection. Zero means 256. With 1, every event is handled
	// one at a time, in the order received.
	Concurrency int
	// HTTPConcurrency is how many HTTP handlers (HandleHTTP) may run at
	// once, on top of Concurrency: each request, and each streamed answer
	// for as long as it streams, holds one. Past it, requests wait (and
	// the gateway times them out). Zero means 4096.
	HTTPConcurrency int
	// MaxPending bounds the events received but not yet handled: up to
	// MaxPending wait to be dispatched, and as many more behind the busy
	// handlers of their connections. Beyond that the NATS client drops
	// events and reports nats.ErrSlowConsumer to the connection's error
	// handler; the gateway then times out their route responses. Zero
	// means 65536.
	MaxPending int
	// TopicCountWait is how long TopicMembers waits for one more gateway
	// node to answer before it adds up what it has; it waits ten times as
	// long for the first answer, since nodes without members stay silent.
	// Zero means 50 ms (500 ms for the first), as the gateway's HTTP API.
	TopicCountWait time.Duration
	// Logger receives what cannot be returned to a caller: replies that
	// could not be sent, panics in handlers, malformed events. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Client is a backend's connection to gatecast: it turns route events into
// handler calls and commands into NATS requests. It is safe for concurrent
// use; see the package documentation for how handlers are scheduled.
type Client struct {
	nc       *nats.Conn
	cfg      Config
	subjects protocol.Subjects

	// events is shared by every handler subscription, so that it holds the
	// events in the order they arrived on the NATS connection, whatever
	// their subject. NATS pushes to it from its read loop, never blocking.
	events  chan *nats.Msg
	pending chan struct{} // a token per event taken from events and not yet handled
	slots   chan struct{} // a token per running connection goroutine
	hslots  chan struct{} // a token per running HTTP request goroutine
	base    context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the dispatcher and connection goroutines
	stop    chan struct{}  // closed by Drain once no subscription can add to events
	done    chan struct{}  // closed when every goroutine has returned

	mu       sync.RWMutex
	handlers map[string]*Subscription // by subject; guarded by mu
	started  bool                     // the dispatcher runs; guarded by mu
	draining bool                     // guarded by mu

	qmu    sync.Mutex
	active map[string]*connQueue // by connection id: events waiting, in order; guarded by qmu
}

// connQueue holds the events of one connection that arrived while one of
// its events was being handled. Client.qmu guards it.
type connQueue struct {
	events []*nats.Msg
}

// New returns a Client on nc. The caller keeps ownership of nc: Drain the
// Client, then drain or close nc.
func New(nc *nats.Conn, cfg Config) (*Client, error) {
	if nc == nil {
		return nil, errors.New("backend: New needs a NATS connection")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = protocol.DefaultPrefix
	}
	// A prefix follows the rules of a topic: literal tokens, no wildcards.
	if !protocol.ValidTopic(cfg.Prefix) {
		return nil, fmt.Errorf("backend: prefix %q is not a literal NATS subject; use the gateway's routes.subject_prefix, such as %q", cfg.Prefix, protocol.DefaultPrefix)
	}
	if cfg.QueueGroup == "" {
		cfg.QueueGroup = DefaultQueueGroup
	}
	if !validSubject(cfg.QueueGroup) {
		return nil, fmt.Errorf("backend: queue group %q must be a name without spaces or wildcards, such as %q", cfg.QueueGroup, DefaultQueueGroup)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"HandlerTimeout", &cfg.HandlerTimeout, DefaultHandlerTimeout},
		{"CommandTimeout", &cfg.CommandTimeout, DefaultCommandTimeout},
		{"TopicCountWait", &cfg.TopicCountWait, DefaultTopicCountWait},
	} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("backend: %s %v is negative; leave it zero for %v", d.name, *d.v, d.def)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	for _, n := range []struct {
		name string
		v    *int
		def  int
	}{
		{"Concurrency", &cfg.Concurrency, DefaultConcurrency},
		{"HTTPConcurrency", &cfg.HTTPConcurrency, DefaultHTTPConcurrency},
		{"MaxPending", &cfg.MaxPending, DefaultMaxPending},
	} {
		switch {
		case *n.v < 0:
			return nil, fmt.Errorf("backend: %s %d is negative; leave it zero for %d", n.name, *n.v, n.def)
		case *n.v == 0:
			*n.v = n.def
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	base, cancel := context.WithCancel(context.Background())
	return &Client{
		nc:       nc,
		cfg:      cfg,
		subjects: protocol.Subjects{Prefix: cfg.Prefix},
		base:     base,
		cancel:   cancel,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		handlers: make(map[string]*Subscription),
		active:   make(map[string]*connQueue),
	}, nil
}

// Subscription is one handler's subscription to a route's subject.
type Subscription struct {
	c       *Client
	subject string
	sub     *nats.Subscription
	handle  func(ctx context.Context, m *nats.Msg) *nats.Msg
	timeout time.Duration // of each handler call; zero: Config.HandlerTimeout
}

// Subject is the NATS subject the handler listens on.
func (s *Subscription) Subject() string { return s.subject }

// Unsubscribe stops the handler at once: events it received but did not
// start handling are dropped, and the gateway times out their route
// responses. To stop every handler gracefully, use Client.Drain.
func (s *Subscription) Unsubscribe() error {
	s.c.mu.Lock()
	if s.c.handlers[s.subject] == s {
		delete(s.c.handlers, s.subject)
	}
	s.c.mu.Unlock()
	return s.sub.Unsubscribe()
}

// subscribe registers handle for the events on subject.
func (c *Client) subscribe(subject string, handle func(ctx context.Context, m *nats.Msg) *nats.Msg) (*Subscription, error) {
	return c.subscribeTimeout(subject, 0, handle)
}

// subscribeTimeout is subscribe with a handler timeout of its own (zero:
// Config.HandlerTimeout).
func (c *Client) subscribeTimeout(subject string, timeout time.Duration, handle func(ctx context.Context, m *nats.Msg) *nats.Msg) (*Subscription, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining {
		return nil, ErrClosed
	}
	if _, dup := c.handlers[subject]; dup {
		return nil, fmt.Errorf("backend: %s already has a handler on this Client; unsubscribe it first", subject)
	}
	if !c.started {
		c.events = make(chan *nats.Msg, c.cfg.MaxPending)
		c.pending = make(chan struct{}, c.cfg.MaxPending)
		c.slots = make(chan struct{}, c.cfg.Concurrency)
		c.hslots = make(chan struct{}, c.cfg.HTTPConcurrency)
		c.started = true
		c.wg.Add(1)
		go c.dispatch()
	}
	sub, err := c.nc.ChanQueueSubscribe(subject, c.cfg.QueueGroup, c.events)
	if err != nil {
		return nil, fmt.Errorf("backend: subscribe to %s: %w", subject, err)
	}
	s := &Subscription{c: c, subject: subject, sub: sub, handle: handle, timeout: timeout}
	c.handlers[subject] = s
	return s, nil
}

// Drain stops taking events, lets the handlers finish the events already
// received, and returns when they all have returned. If ctx ends first, it
// cancels the handlers' contexts, drops the events not yet started, and
// returns ctx.Err() without waiting further. Calling Drain again waits in
// the same way; the Client cannot handle events afterwards, but commands
// still work while nc is open.
func (c *Client) Drain(ctx context.Context) error {
	c.mu.Lock()
	first := !c.draining
	c.draining = true
	started := c.started
	subs := make([]*Subscription, 0, len(c.handlers))
	for _, s := range c.handlers {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	if !started {
		return nil
	}
	if first {
		go c.drainSubscriptions(subs)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.cancel()
		return ctx.Err()
	}
}

// drainSubscriptions waits until no subscription can deliver another event,
// then tells the dispatcher so; it runs once, from Drain.
func (c *Client) drainSubscriptions(subs []*Subscription) {
	closed := make([]<-chan nats.SubStatus, len(subs))
	for i, s := range subs {
		closed[i] = s.sub.StatusChanged(nats.SubscriptionClosed)
		// An error means already unsubscribed, or nc closed: either way
		// nothing more will come, which IsValid tells below.
		s.sub.Drain()
	}
	for i, s := range subs {
		// nats.go closes the subscription once the server has confirmed
		// the unsubscribe; a closed nc never reports it, hence the poll.
		for s.sub.IsValid() {
			select {
			case <-closed[i]:
			case <-time.After(20 * time.Millisecond):
			case <-c.base.Done():
				s.sub.Unsubscribe()
			}
		}
	}
	close(c.stop)
	c.wg.Wait()
	c.cancel()
	close(c.done)
}

// dispatch moves events from the shared channel to their connection's
// queue, starting a goroutine for each connection that has none running.
// It is the only reader of c.events.
func (c *Client) dispatch() {
	defer c.wg.Done()
	for {
		select {
		case m := <-c.events:
			c.enqueue(m)
		case <-c.stop:
			for {
				select {
				case m := <-c.events:
					c.enqueue(m)
				default:
					return
				}
			}
		}
	}
}

// enqueue hands m to its connection's goroutine, starting one if needed.
// It blocks while MaxPending events are outstanding or Concurrency
// goroutines run, which is what pushes back on NATS.
func (c *Client) enqueue(m *nats.Msg) {
	select {
	case c.pending <- struct{}{}:
	case <-c.base.Done():
		return
	}
	// Events of one connection are handled in order; HTTP requests have
	// no connection and each runs on its own.
	id, slots := m.Header.Get(protocol.HeaderConnectionID), c.slots
	if id == "" {
		id, slots = "request "+m.Header.Get(protocol.HeaderRequestID), c.hslots
	}
	c.qmu.Lock()
	if q, ok := c.active[id]; ok {
		q.events = append(q.events, m)
		c.qmu.Unlock()
		return
	}
	q := &connQueue{events: []*nats.Msg{m}}
	c.active[id] = q
	c.qmu.Unlock()
	select {
	case slots <- struct{}{}:
	case <-c.base.Done():
		c.qmu.Lock()
		delete(c.active, id)
		c.qmu.Unlock()
		return
	}
	c.wg.Add(1)
	go c.serveConnection(id, q, slots)
}

// serveConnection handles the events of one connection in order until its
// queue is empty.
func (c *Client) serveConnection(id string, q *connQueue, slots chan struct{}) {
	defer c.wg.Done()
	defer func() { <-slots }()
	for {
		c.qmu.Lock()
		if len(q.events) == 0 || c.base.Err() != nil {
			delete(c.active, id)
			c.qmu.Unlock()
			return
		}
		m := q.events[0]
		q.events[0] = nil
		q.events = q.events[1:]
		c.qmu.Unlock()
		c.handle(m)
		<-c.pending
	}
}

// handle runs the handler of m's subject and sends its reply if the
// gateway asked for one.
func (c *Client) handle(m *nats.Msg) {
	c.mu.RLock()
	s := c.handlers[m.Subject]
	c.mu.RUnlock()
	if s == nil {
		return // unsubscribed after the event arrived
	}
	timeout := c.cfg.HandlerTimeout
	if s.timeout > 0 {
		timeout = s.timeout
	}
	ctx, cancel := context.WithTimeout(c.base, timeout)
	defer cancel()
	reply := c.call(ctx, s, m)
	if m.Reply == "" || reply == nil {
		return
	}
	if err := m.RespondMsg(reply); err != nil {
		c.cfg.Logger.Warn("gatecast backend: could not reply to the gateway", "subject", m.Subject,
			"connection", m.Header.Get(protocol.HeaderConnectionID), "err", err)
	}
}

// call runs the handler and turns a panic into a 500 reply, so that one bad
// event cannot take down a backend serving many connections.
func (c *Client) call(ctx context.Context, s *Subscription, m *nats.Msg) (reply *nats.Msg) {
	defer func() {
		if r := recover(); r != nil {
			c.cfg.Logger.Error("gatecast backend: handler panicked", "subject", m.Subject,
				"connection", m.Header.Get(protocol.HeaderConnectionID), "panic", r)
			reply = statusReply(500, fmt.Sprintf("handler panicked: %v", r))
		}
	}()
	return s.handle(ctx, m)
}

// commandContext bounds ctx by CommandTimeout unless it has a deadline.
func (c *Client) commandContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.CommandTimeout)
}

// validSubject reports whether s is a literal NATS subject: non-empty
// tokens separated by dots, no wildcards, no spaces or control characters.
func validSubject(s string) bool {
	if s == "" || len(s) > 256 || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f || c == '*' || c == '>':
			return false
		case c == '.' && s[i-1] == '.':
			return false
		}
	}
	return true
}
