package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
)

// DefaultHTTPHandlerTimeout bounds an HTTP handler that the gateway never
// cancels: the gateway's default max_stream_duration.
const DefaultHTTPHandlerTimeout = 15 * time.Minute

// autoChunkBytes is how much a streaming handler may write before Flush
// before the SDK sends it as a chunk anyway.
const autoChunkBytes = 32 << 10

// ErrStreamCanceled is the cause of an HTTP handler's context when the
// gateway ends its stream: the client went away, read too slowly, or the
// stream ran past its limits. Writes fail with it from then on.
var ErrStreamCanceled = errors.New("backend: the gateway canceled the stream")

// RequestInfo is what the gateway tells about an HTTP request beyond the
// request itself.
type RequestInfo struct {
	// RequestID is unique per request; log it to follow one request.
	RequestID string
	// RouteKey is the route that matched, such as "GET /users/{id}".
	RouteKey string
	// Node is the gateway node that received the request.
	Node string
	// SourceIP is the client's address as the gateway saw it.
	SourceIP string
	// ReceivedAt is when the gateway received the request.
	ReceivedAt time.Time
	// Claims are the verified token claims as JSON, nil without
	// authorization on the route.
	Claims json.RawMessage
}

type requestInfoKey struct{}

// HTTPInfo returns the gateway's information about r, a request passed to
// a handler of HandleHTTP.
func HTTPInfo(r *http.Request) (RequestInfo, bool) {
	info, ok := r.Context().Value(requestInfoKey{}).(RequestInfo)
	return info, ok
}

// HandleHTTP serves the HTTP route whose subject is subject with h, a
// plain http.Handler: the request arrives as the client sent it (path
// parameters in r.PathValue), and what h writes goes back to the client.
// An answer h does not flush leaves as one message when h returns; once h
// flushes (http.Flusher or http.ResponseController), the answer is a
// stream and each flush sends a chunk, which the gateway writes to the
// client at once (as one Server-Sent Event on an sse route). Flush waits
// while the gateway holds as many bytes as it buffers for the client, so
// a slow client slows the handler instead of filling memory. The request's
// context ends when the gateway cancels the stream (the client left), when
// the Client drains, or after DefaultHTTPHandlerTimeout.
//
// Each request runs in its own goroutine, within Config.Concurrency.
func (c *Client) HandleHTTP(subject string, h http.Handler) (*Subscription, error) {
	if !validSubject(subject) {
		return nil, fmt.Errorf("backend: %q is not a literal NATS subject; use the route's subject as configured, without wildcards", subject)
	}
	return c.subscribeTimeout(subject, DefaultHTTPHandlerTimeout, func(ctx context.Context, m *nats.Msg) *nats.Msg {
		return c.serveHTTP(ctx, h, m)
	})
}

// HandleHTTPDefault serves the gateway's default HTTP route ($default,
// <prefix>.http.default).
func (c *Client) HandleHTTPDefault(h http.Handler) (*Subscription, error) {
	return c.HandleHTTP(c.cfg.Prefix+".http.default", h)
}

func (c *Client) serveHTTP(ctx context.Context, h http.Handler, m *nats.Msg) *nats.Msg {
	if got := m.Header.Get(protocol.HeaderEventType); got != protocol.EventRequest {
		c.cfg.Logger.Warn("gatecast backend: HTTP handler got a non-HTTP event; check that the route's subject is not shared", "subject", m.Subject, "event", got)
		return statusReply(http.StatusBadRequest, "not an HTTP request")
	}
	req, info, err := httpRequest(m)
	if err != nil {
		c.cfg.Logger.Warn("gatecast backend: malformed HTTP request dropped", "subject", m.Subject, "err", err)
		return statusReply(http.StatusBadRequest, err.Error())
	}
	ctx, cancel := context.WithCancelCause(context.WithValue(ctx, requestInfoKey{}, info))
	defer cancel(nil)
	w := &responseWriter{c: c, reply: m.Reply, header: make(http.Header), cancel: cancel, ctx: ctx}
	w.window, _ = strconv.Atoi(m.Header.Get(protocol.HeaderStreamWindow))
	w.acked = make(chan struct{}, 1)
	req = req.WithContext(ctx)
	defer w.stopControl()
	defer func() {
		if p := recover(); p != nil {
			c.cfg.Logger.Error("gatecast backend: HTTP handler panicked", "subject", m.Subject, "request_id", m.Header.Get(protocol.HeaderRequestID), "panic", p)
			w.finish(fmt.Sprintf("handler panicked: %v", p))
		}
	}()
	h.ServeHTTP(w, req)
	w.finish("")
	return nil
}

// httpRequest rebuilds the client's request from a gateway message.
func httpRequest(m *nats.Msg) (*http.Request, RequestInfo, error) {
	hd := m.Header
	target := hd.Get(protocol.HeaderPath)
	if q := hd.Get(protocol.HeaderQuery); q != "" {
		target += "?" + q
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, RequestInfo{}, fmt.Errorf("request target %q: %w", target, err)
	}
	info := RequestInfo{
		RequestID: hd.Get(protocol.HeaderRequestID), RouteKey: hd.Get(protocol.HeaderRouteKey),
		Node: hd.Get(protocol.HeaderNode), SourceIP: hd.Get(protocol.HeaderSourceIP),
		ReceivedAt: unixMilli(hd.Get(protocol.HeaderReceivedAt)),
	}
	if claims := hd.Get(protocol.HeaderClaims); claims != "" {
		info.Claims = json.RawMessage(claims)
	}
	r := &http.Request{
		Method: hd.Get(protocol.HeaderMethod), URL: u, RequestURI: target,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, len(hd)), Host: hd.Get(protocol.HeaderHost),
		Body: http.NoBody, ContentLength: int64(len(m.Data)), RemoteAddr: info.SourceIP,
	}
	if proto := hd.Get(protocol.HeaderProtocol); proto != "" {
		if major, minor, ok := http.ParseHTTPVersion(proto); ok {
			r.Proto, r.ProtoMajor, r.ProtoMinor = proto, major, minor
		}
	}
	if r.Method == "" {
		return nil, info, errors.New("no " + protocol.HeaderMethod)
	}
	if len(m.Data) > 0 {
		r.Body = readCloser{bytes.NewReader(m.Data)}
	}
	for name, vs := range hd {
		if name := protocol.CanonicalHeader(name); protocol.HTTPHeaderForwarded(name) {
			r.Header[name] = vs
		}
	}
	if pp := hd.Get(protocol.HeaderPathParams); pp != "" {
		params, err := url.ParseQuery(pp)
		if err != nil {
			return nil, info, fmt.Errorf("%s: %w", protocol.HeaderPathParams, err)
		}
		for name, vs := range params {
			r.SetPathValue(name, vs[0])
		}
	}
	return r, info, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// responseWriter turns what an http.Handler writes into the gateway's
// answer: one message, or a stream of them.
type responseWriter struct {
	c      *Client
	ctx    context.Context
	cancel context.CancelCauseFunc
	reply  string
	header http.Header
	status int
	buf    bytes.Buffer
	done   bool

	// Streaming.
	streaming bool
	seq       int
	control   *nats.Subscription
	window    int           // bytes the gateway buffers; 0: no flow control
	acked     chan struct{} // capacity 1: an ack arrived

	mu       sync.Mutex
	inFlight []sentChunk // chunks sent and not acknowledged; guarded by mu
	unacked  int         // their bytes; guarded by mu
}

type sentChunk struct{ seq, n int }

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 && !w.streaming {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if err := context.Cause(w.ctx); err != nil && w.streaming {
		return 0, err
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, _ := w.buf.Write(p)
	if w.streaming && w.buf.Len() >= autoChunkBytes {
		return n, w.FlushError()
	}
	return n, nil
}

// Flush implements http.Flusher; errors are seen by the next Write.
func (w *responseWriter) Flush() { w.FlushError() }

// FlushError sends what was written so far as the stream's next chunk,
// starting the stream if needed. http.ResponseController uses it.
func (w *responseWriter) FlushError() error {
	if w.done || w.reply == "" {
		return nil
	}
	if !w.streaming {
		return w.start()
	}
	if w.buf.Len() == 0 {
		return nil
	}
	return w.send(protocol.StreamChunk, "")
}

// start sends the stream's first message: status, headers, and what was
// written so far.
func (w *responseWriter) start() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	inbox := w.c.nc.NewInbox()
	sub, err := w.c.nc.Subscribe(inbox, w.onControl)
	if err != nil {
		return fmt.Errorf("backend: stream control subscription: %w", err)
	}
	w.control = sub
	w.streaming = true
	m := w.message(protocol.StreamStart, "")
	m.Reply = inbox
	w.header.Del("Content-Length")
	w.putHeader(m)
	return w.publish(m)
}

// send sends the next stream message with what was written so far.
func (w *responseWriter) send(kind, reason string) error {
	if err := w.waitWindow(w.buf.Len()); err != nil {
		return err
	}
	m := w.message(kind, reason)
	m.Reply = w.control.Subject
	return w.publish(m)
}

// message builds the next stream message and takes the written bytes.
func (w *responseWriter) message(kind, reason string) *nats.Msg {
	m := nats.NewMsg(w.reply)
	m.Header[protocol.HeaderStream] = []string{kind}
	m.Header[protocol.HeaderStreamSeq] = []string{strconv.Itoa(w.seq)}
	if reason != "" {
		m.Header[protocol.HeaderError] = []string{headerValue(reason)}
	}
	m.Data = bytes.Clone(w.buf.Bytes())
	w.buf.Reset()
	return m
}

func (w *responseWriter) publish(m *nats.Msg) error {
	if w.window > 0 {
		w.mu.Lock()
		w.inFlight = append(w.inFlight, sentChunk{seq: w.seq, n: len(m.Data)})
		w.unacked += len(m.Data)
		w.mu.Unlock()
	}
	w.seq++
	if err := w.c.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("backend: send stream message: %w", err)
	}
	return nil
}

// waitWindow blocks until n more bytes fit in the gateway's buffer (or
// nothing is outstanding), or the stream ends.
func (w *responseWriter) waitWindow(n int) error {
	for w.window > 0 {
		w.mu.Lock()
		fits := w.unacked == 0 || w.unacked+n <= w.window
		w.mu.Unlock()
		if fits {
			return nil
		}
		select {
		case <-w.acked:
		case <-w.ctx.Done():
			return context.Cause(w.ctx)
		}
	}
	return context.Cause(w.ctx)
}

// onControl takes the gateway's acks and cancellation. NATS goroutine.
func (w *responseWriter) onControl(m *nats.Msg) {
	if m.Header.Get(protocol.HeaderStream) == protocol.StreamCancel {
		w.cancel(fmt.Errorf("%w: %s", ErrStreamCanceled, m.Header.Get(protocol.HeaderError)))
		return
	}
	seq, err := strconv.Atoi(m.Header.Get(protocol.HeaderStreamAck))
	if err != nil {
		return
	}
	w.mu.Lock()
	i := 0
	for ; i < len(w.inFlight) && w.inFlight[i].seq <= seq; i++ {
		w.unacked -= w.inFlight[i].n
	}
	w.inFlight = w.inFlight[i:]
	w.mu.Unlock()
	select {
	case w.acked <- struct{}{}:
	default:
	}
}

// finish sends the whole answer, or ends the stream; failure (a panic's
// message) makes it a 500 or an error marker.
func (w *responseWriter) finish(failure string) {
	if w.done || w.reply == "" {
		return
	}
	defer func() { w.done = true }()
	if w.streaming {
		if context.Cause(w.ctx) != nil {
			return // the gateway has ended the stream already
		}
		kind := protocol.StreamEnd
		if failure != "" {
			kind = protocol.StreamError
			w.buf.Reset()
		}
		if err := w.send(kind, failure); err != nil {
			w.c.cfg.Logger.Warn("gatecast backend: could not end an HTTP stream", "err", err)
		}
		return
	}
	m := nats.NewMsg(w.reply)
	if failure != "" {
		w.status, w.header = http.StatusInternalServerError, http.Header{}
		w.buf.Reset()
		m.Header[protocol.HeaderError] = []string{headerValue(failure)}
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.putHeader(m)
	m.Data = w.buf.Bytes()
	if err := w.c.nc.PublishMsg(m); err != nil {
		w.c.cfg.Logger.Warn("gatecast backend: could not answer an HTTP request", "err", err)
	}
}

// putHeader puts the status and the response headers a backend may set
// (see protocol.HTTPHeaderForwarded) on m.
func (w *responseWriter) putHeader(m *nats.Msg) {
	for name, vs := range w.header {
		if protocol.HTTPHeaderForwarded(protocol.CanonicalHeader(name)) {
			m.Header[name] = vs
		}
	}
	m.Header[protocol.HeaderStatus] = []string{strconv.Itoa(w.status)}
}

func (w *responseWriter) stopControl() {
	if w.control != nil {
		w.control.Unsubscribe()
	}
}
