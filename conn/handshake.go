package conn

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
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
)

var refusalReasons = [...]string{
	RefusedBadRequest, RefusedVersion, RefusedOrigin, RefusedPath,
	RefusedHeadTooLarge, RefusedHandshakeTimeout, RefusedShuttingDown, RefusedMaxSockets,
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

var headEnd = []byte("\r\n\r\n")

// newUpgrader builds the loop's gobwas Upgrader. Its hooks run inside
// Upgrade on the loop goroutine.
func newUpgrader(cfg *Config) ws.Upgrader {
	path := cfg.Path
	u := ws.Upgrader{
		Protocol: cfg.SelectProtocol,
		OnRequest: func(uri []byte) error {
			if i := bytes.IndexByte(uri, '?'); i >= 0 {
				uri = uri[:i]
			}
			if string(uri) != path {
				return errPathNotFound
			}
			return nil
		},
	}
	if check := cfg.CheckOrigin; check != nil {
		u.OnHeader = func(key, value []byte) error {
			if bytes.EqualFold(key, []byte("Origin")) && !check(value) {
				return errOriginNotAllowed
			}
			return nil
		}
	}
	return u
}

// readHandshake gathers the request head in c.in and upgrades once the
// blank line that ends it has arrived.
func (c *Conn) readHandshake() {
	limit := c.ls.srv.cfg.MaxHeadBytes
	if c.in == nil {
		c.in = getBuf(limit)
	}
	n, err := unix.Read(int(c.fd), c.in[len(c.in):limit])
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
	c.upgrade(c.in[:end])
	if c.state != stateOpen {
		return
	}
	// Frames the client sent right behind its request.
	if rest := c.in[end:]; len(rest) > 0 {
		c.in = c.in[:copy(c.in, rest)]
		c.consume(c.in, true)
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
	ls.head.r.Reset(head)
	ls.head.resp = ls.head.resp[:0]
	hs, err := ls.upgrader.Upgrade(&ls.head)
	if err != nil {
		c.refuse(refusalFor(err), ls.head.resp)
		return
	}
	unlinkDeadline(c)
	c.protocol = hs.Protocol
	c.state = stateOpen
	if c.write(0, nil, ls.head.resp, true) != nil {
		return
	}
	c.flags |= flagOpened
	ls.srv.open.Add(1)
	ls.srv.handler.OnOpen(c)
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
	ls.stats.refused[refusalIndex(reason)].Add(1)
	unlinkDeadline(c)
	c.state = stateClosing
	c.flags |= flagDiscard
	putBuf(c.in)
	c.in = nil
	if c.write(0, nil, resp, true) != nil {
		return
	}
	ls.closings.push(c, ls.now()+int64(ls.srv.cfg.CloseTimeout))
	c.maybeFinish()
}
