package conn

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"

	"github.com/gobwas/ws"
)

// Refusal reasons, as counted in Stats.Refused.
const (
	RefusedBadRequest       = "bad_request"       // 400: not a valid upgrade request
	RefusedVersion          = "version"           // 426: a WebSocket version other than 13
	RefusedOrigin           = "origin"            // 403: Origin not allowed
	RefusedPath             = "path"              // 404: not the WebSocket path
	RefusedHeadTooLarge     = "head_too_large"    // 431: request head over MaxHeadBytes
	RefusedHandshakeTimeout = "handshake_timeout" // no complete request within HandshakeTimeout
	RefusedShuttingDown     = "shutting_down"     // accepted while the server was stopping
	RefusedMaxSockets       = "max_sockets"       // Config.MaxSockets sockets already held
	RefusedMaxConns         = "max_conns"         // 503: Config.MaxConns connections already admitted
	RefusedTLSHandshake     = "tls_handshake"     // the TLS handshake failed (not TLS, no common version or cipher, bad SNI)
)

var refusalReasons = [...]string{
	RefusedBadRequest, RefusedVersion, RefusedOrigin, RefusedPath,
	RefusedHeadTooLarge, RefusedHandshakeTimeout, RefusedShuttingDown, RefusedMaxSockets, RefusedMaxConns,
	RefusedTLSHandshake,
}

func refusalIndex(reason string) int {
	for i, r := range refusalReasons {
		if r == reason {
			return i
		}
	}
	return 0
}

var (
	errOriginNotAllowed = ws.RejectConnectionError(
		ws.RejectionStatus(http.StatusForbidden),
		ws.RejectionReason("origin not allowed"),
	)
	errPathNotFound = ws.RejectConnectionError(
		ws.RejectionStatus(http.StatusNotFound),
		ws.RejectionReason("no WebSocket endpoint at this path"),
	)
)

const responseHeadTooLarge = "HTTP/1.1 431 Request Header Fields Too Large\r\n" +
	"Connection: close\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n\r\n" +
	"request head over the size limit"

const responseBadRequest = "HTTP/1.1 400 Bad Request\r\n" +
	"Connection: close\r\nContent-Type: text/plain\r\nContent-Length: 27\r\n\r\n" +
	"malformed WebSocket request"

var headEnd = []byte("\r\n\r\n")

// Request is an upgrade request as a ConnectHandler sees it. It and every
// slice in it are valid only until OnConnect returns: copy what you keep.
type Request struct {
	// URI is the request target: the path and the raw query.
	URI []byte
	// Host is the Host header.
	Host []byte
	// Header holds every header except the ones gobwas/ws consumes for the
	// handshake (Host, Upgrade, Connection, Sec-WebSocket-Key, -Version,
	// -Extensions), in the order received.
	Header []HeaderField
	// Protocol is the subprotocol chosen by Config.SelectProtocol, or "".
	Protocol string
}

// HeaderField is one request header.
type HeaderField struct {
	Name, Value []byte
}

// Get returns the value of the first header named name (case-insensitive).
func (r *Request) Get(name string) []byte {
	for _, h := range r.Header {
		if bytes.EqualFold(h.Name, []byte(name)) {
			return h.Value
		}
	}
	return nil
}

// Path is the URI without its query.
func (r *Request) Path() []byte {
	if i := bytes.IndexByte(r.URI, '?'); i >= 0 {
		return r.URI[:i]
	}
	return r.URI
}

// Query is the raw query after '?', or nil.
func (r *Request) Query() []byte {
	if i := bytes.IndexByte(r.URI, '?'); i >= 0 {
		return r.URI[i+1:]
	}
	return nil
}

// ConnectHandler is implemented by a Handler that decides on upgrades.
type ConnectHandler interface {
	// OnConnect runs on the loop goroutine once a valid upgrade request
	// has been read, before the 101 response is written. It returns nil
	// to accept at once, a *Refusal to refuse with its status, or
	// ErrDeferred to decide later: the connection then waits, reads
	// paused, until Accept or Refuse is called on its loop goroutine (see
	// Conn.Do), or HandshakeTimeout passes.
	OnConnect(c *Conn, r *Request) error
}

// AbandonHandler is implemented by a ConnectHandler that must hear of
// every connection its OnConnect let through (returned nil or
// ErrDeferred) that then never opened: refused later, timed out, or gone
// while it waited. OnAbandon runs once, on the loop goroutine, after the
// socket is closed; connections that opened get OnClose instead.
type AbandonHandler interface {
	OnAbandon(c *Conn)
}

// Refusal refuses an upgrade with an HTTP status. It is an error so that
// OnConnect can return it.
type Refusal struct {
	Status int
	// Reason is the response body (plain text). Zero means the status text.
	Reason string
	// Header holds extra response headers, such as Retry-After.
	Header []HeaderString
}

// HeaderString is one response header.
type HeaderString struct{ Name, Value string }

func (r *Refusal) Error() string {
	return fmt.Sprintf("upgrade refused: %d %s", r.Status, r.reason())
}

func (r *Refusal) reason() string {
	if r.Reason != "" {
		return r.Reason
	}
	return http.StatusText(r.Status)
}

// appendResponse writes the refusal as an HTTP/1.1 response.
func (r *Refusal) appendResponse(b []byte) []byte {
	body := r.reason()
	b = fmt.Appendf(b, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n",
		r.Status, http.StatusText(r.Status), len(body))
	for _, h := range r.Header {
		b = fmt.Appendf(b, "%s: %s\r\n", h.Name, h.Value)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// newUpgrader builds the loop's gobwas Upgrader. Its hooks run inside
// Upgrade on the loop goroutine and record the request in ls.req.
func newUpgrader(ls *loopState, cfg *Config) ws.Upgrader {
	path := cfg.Path
	check := cfg.CheckOrigin
	return ws.Upgrader{
		// A header line may be as long as the whole head is allowed to be.
		ReadBufferSize: cfg.MaxHeadBytes,
		// Taken by hand so that the offered list also reaches OnConnect
		// in Request.Header (a token may ride in it, as browsers cannot
		// set Authorization on a WebSocket).
		ProtocolCustom: func(offered []byte) (string, bool) {
			ls.req.Header = append(ls.req.Header, HeaderField{Name: ls.keep([]byte("Sec-WebSocket-Protocol")), Value: ls.keep(offered)})
			if cfg.SelectProtocol == nil {
				return "", true
			}
			for _, p := range bytes.Split(offered, []byte(",")) {
				if p = bytes.TrimSpace(p); len(p) > 0 && cfg.SelectProtocol(p) {
					return string(p), true
				}
			}
			return "", true
		},
		OnRequest: func(uri []byte) error {
			ls.req.URI = ls.keep(uri)
			if i := bytes.IndexByte(uri, '?'); i >= 0 {
				uri = uri[:i]
			}
			if string(uri) != path {
				return errPathNotFound
			}
			return nil
		},
		OnHost: func(host []byte) error {
			ls.req.Host = ls.keep(host)
			return nil
		},
		OnHeader: func(key, value []byte) error {
			if check != nil && bytes.EqualFold(key, []byte("Origin")) && !check(value) {
				return errOriginNotAllowed
			}
			ls.req.Header = append(ls.req.Header, HeaderField{Name: ls.keep(key), Value: ls.keep(value)})
			return nil
		},
	}
}

// keep copies b into the loop's request arena: gobwas's slices are only
// valid inside its hooks.
func (ls *loopState) keep(b []byte) []byte {
	start := len(ls.arena)
	ls.arena = append(ls.arena, b...)
	return ls.arena[start:len(ls.arena):len(ls.arena)]
}

func (ls *loopState) resetRequest() {
	clear(ls.req.Header)
	ls.req = Request{Header: ls.req.Header[:0]}
	// The arena may move when it grows; slices into an old array stay
	// valid (the GC keeps it) until the next request.
	ls.arena = ls.arena[:0]
}

// readHandshake gathers the request head in c.in and upgrades once the
// blank line that ends it has arrived.
func (c *Conn) readHandshake() {
	limit := c.ls.srv.cfg.MaxHeadBytes
	if c.in == nil {
		c.in = getBuf(limit)
	}
	n, err := c.read(c.in[len(c.in):limit])
	if !c.readOK(n, err) {
		return
	}
	from := max(0, len(c.in)-3)
	c.in = c.in[:len(c.in)+n]
	i := bytes.Index(c.in[from:], headEnd)
	if i < 0 {
		if len(c.in) >= limit {
			c.refuse(RefusedHeadTooLarge, []byte(responseHeadTooLarge))
		}
		return
	}
	end := from + i + len(headEnd)
	if c.ls.srv.cfg.HTTP != nil && !isUpgrade(c.in[:end]) {
		c.handOff(c.in)
		return
	}
	c.upgrade(c.in[:end])
	if c.state == stateClosed || c.in == nil {
		return
	}
	// Frames the client sent right behind its request: processed now, or
	// kept until Accept if the upgrade was deferred.
	if rest := c.in[end:]; len(rest) > 0 {
		c.in = c.in[:copy(c.in, rest)]
		if c.state == stateOpen {
			c.consume(c.in, true)
		}
		return
	}
	putBuf(c.in)
	c.in = nil
}

// headIO is what gobwas's Upgrader reads the request from and writes the
// response to: the bytes already read, and the loop's response buffer.
type headIO struct {
	r    bytes.Reader
	resp []byte
}

func (h *headIO) Read(p []byte) (int, error) { return h.r.Read(p) }

func (h *headIO) Write(p []byte) (int, error) {
	h.resp = append(h.resp, p...)
	return len(p), nil
}

func (c *Conn) upgrade(head []byte) {
	ls := c.ls
	ls.resetRequest()
	ls.head.r.Reset(head)
	ls.head.resp = ls.head.resp[:0]
	hs, err := ls.upgrader.Upgrade(&ls.head)
	if err != nil {
		c.refuse(refusalFor(err), ls.head.resp)
		return
	}
	c.protocol = hs.Protocol
	if !ls.srv.admit() {
		ls.resp = (&Refusal{Status: http.StatusServiceUnavailable, Reason: "connection limit reached",
			Header: []HeaderString{{"Retry-After", "1"}}}).appendResponse(ls.resp[:0])
		c.refuse(RefusedMaxConns, ls.resp)
		return
	}
	c.flags2 |= flag2Admitted
	if ch := ls.srv.connectHandler; ch != nil {
		ls.req.Protocol = hs.Protocol
		err := ch.OnConnect(c, &ls.req)
		ls.resetRequest()
		var ref *Refusal
		if err == nil || errors.Is(err, ErrDeferred) {
			c.flags2 |= flag2Claimed
		}
		switch {
		case err == nil:
		case errors.As(err, &ref):
			c.Refuse(ref)
			return
		case errors.Is(err, ErrDeferred):
			// Keep the 101 response until the verdict; stop reading so
			// that frames sent early wait in the kernel.
			c.msg = append(getBuf(len(ls.head.resp)), ls.head.resp...)
			c.flags |= flagDeferred
			c.pauseReads(true)
			return
		default:
			c.Refuse(&Refusal{Status: http.StatusInternalServerError})
			return
		}
	}
	c.open(ls.head.resp)
}

// open writes the 101 response and moves to open.
func (c *Conn) open(resp []byte) {
	ls := c.ls
	unlinkDeadline(c)
	c.state = stateOpen
	if c.write(0, resp, true) != nil {
		return
	}
	c.flags |= flagOpened
	ls.srv.open.Add(1)
	now := ls.loopNow()
	c.openedAt, c.lastActive = now, now
	if due := c.sessionDue(); due >= 0 {
		ls.wheel.add(c, due)
	}
	ls.srv.handler.OnOpen(c)
}

// Accept completes an upgrade that OnConnect deferred. It does nothing if
// the connection is not waiting for a verdict (it may have timed out or
// gone away meanwhile). Loop goroutine only.
func (c *Conn) Accept() {
	if c.state != stateHandshake || c.flags&flagDeferred == 0 {
		return
	}
	c.flags &^= flagDeferred
	resp := c.msg
	c.msg = nil
	c.open(resp)
	putBuf(resp)
	if c.state == stateClosed {
		return
	}
	// Also when OnOpen already started closing: the client's close frame
	// must still be read.
	c.pauseReads(false)
	if len(c.in) > 0 {
		c.consume(c.in, true)
	}
	if c.tls != nil && c.state != stateClosed {
		c.readTLS(false) // records that waited for the verdict
	}
}

// Refuse answers an upgrade request that has not been accepted yet with
// r's status and closes the connection. Loop goroutine only.
func (c *Conn) Refuse(r *Refusal) {
	if c.state != stateHandshake {
		return
	}
	c.flags &^= flagDeferred
	putBuf(c.msg)
	c.msg = nil
	c.pauseReads(false)
	ls := c.ls
	ls.stats.refusedByHandler.Add(1)
	ls.resp = r.appendResponse(ls.resp[:0])
	c.refuse("", ls.resp)
}

func refusalFor(err error) string {
	var rej *ws.ConnectionRejectedError
	if errors.As(err, &rej) {
		switch rej.StatusCode() {
		case http.StatusUpgradeRequired:
			return RefusedVersion
		case http.StatusForbidden:
			return RefusedOrigin
		case http.StatusNotFound:
			return RefusedPath
		}
	}
	return RefusedBadRequest
}

// refuse answers a failed handshake with resp and closes once it has left.
func (c *Conn) refuse(reason string, resp []byte) {
	ls := c.ls
	if reason != "" {
		ls.stats.refused[refusalIndex(reason)].Add(1)
	}
	if len(resp) == 0 {
		// gobwas/ws writes nothing when it cannot read a request line or
		// header at all; the client still deserves an answer.
		resp = []byte(responseBadRequest)
	}
	unlinkDeadline(c)
	c.state = stateClosing
	c.flags |= flagDiscard
	putBuf(c.in)
	c.in = nil
	if c.write(0, resp, true) != nil {
		return
	}
	ls.closings.push(c, ls.now()+int64(ls.srv.cfg.CloseTimeout))
	c.maybeFinish()
}
