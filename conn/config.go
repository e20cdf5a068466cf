package conn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// SlowConsumerPolicy says what happens to a connection whose write queue
// is full.
type SlowConsumerPolicy uint8

const (
	// SlowConsumerDrop drops the newest messages while the queue is full
	// and counts them; the connection stays open.
	SlowConsumerDrop SlowConsumerPolicy = iota
	// SlowConsumerClose drops the newest messages too, and closes the
	// connection with 1008 if the queue has not drained below half its
	// bound within SlowConsumerGrace.
	SlowConsumerClose
)

// ParseSlowConsumerPolicy reads "drop" or "close".
func ParseSlowConsumerPolicy(s string) (SlowConsumerPolicy, error) {
	switch strings.ToLower(s) {
	case "", "drop":
		return SlowConsumerDrop, nil
	case "close":
		return SlowConsumerClose, nil
	}
	return 0, fmt.Errorf("slow consumer policy %q: want \"drop\" or \"close\"", s)
}

func (p SlowConsumerPolicy) String() string {
	if p == SlowConsumerClose {
		return "close"
	}
	return "drop"
}

// Config tunes a Server. Every field's zero value means the default given
// in its comment.
type Config struct {
	// Path is the request path that upgrades to WebSocket; other paths get
	// 404. Zero means "/".
	Path string

	// Loops is the number of event loops. Zero means GOMAXPROCS.
	Loops int

	// MaxSockets caps the client sockets held at once (in any state). New
	// connections over it are refused at once (reason "max_sockets"), so
	// the process keeps descriptors for its admin listener, NATS and
	// files. Zero means the open-file limit minus a headroom of 1/64 of
	// it (at least 16).
	MaxSockets int

	// MaxConns caps the WebSocket connections admitted at once: open, or
	// past the handshake and waiting for OnConnect's verdict. Upgrades over
	// it get 503 with Retry-After. The count is exact: never one over.
	// Zero means 10,000.
	MaxConns int

	// IdleTimeout closes a connection with 1001 when no data message has
	// gone either way for this long. Zero means 10 minutes; negative: off.
	IdleTimeout time.Duration

	// MaxLifetime closes a connection with 1001 this long after it opened.
	// Zero means 2 hours; negative: off.
	MaxLifetime time.Duration

	// MaxHeadBytes bounds the request line and headers of an upgrade (and
	// of the first request handed to HTTP). A longer head gets 431. Zero
	// means 10 KiB (10,240 bytes, Amazon API Gateway's limit).
	MaxHeadBytes int

	// HandshakeTimeout bounds the time from accept to a complete upgrade
	// request, so a client sending its headers a byte at a time (slow
	// loris) is closed. Zero means 10 s.
	HandshakeTimeout time.Duration

	// MaxFrameBytes bounds one frame's payload; a bigger frame closes the
	// connection with 1009. Zero means 32 KiB.
	MaxFrameBytes int

	// MaxMessageBytes bounds a message reassembled from fragments; a bigger
	// message closes the connection with 1009. Zero means 128 KiB.
	MaxMessageBytes int

	// WriteQueueBytes bounds the bytes kept for a connection that the
	// kernel did not take. Zero means 1 MiB.
	WriteQueueBytes int

	// SlowConsumer is what happens when the write queue is full. The zero
	// value is SlowConsumerDrop.
	SlowConsumer SlowConsumerPolicy

	// SlowConsumerGrace is how long a connection under SlowConsumerClose
	// may stay over its bound. Zero means 5 s.
	SlowConsumerGrace time.Duration

	// CloseTimeout bounds the wait for the peer's side of the close
	// handshake after our close frame was sent. Zero means 5 s.
	CloseTimeout time.Duration

	// CheckOrigin, if set, is called with the Origin header of each upgrade
	// request; returning false refuses it with 403. Nil allows any origin.
	// The argument is valid only until the call returns.
	CheckOrigin func(origin []byte) bool

	// SelectProtocol, if set, picks the subprotocol: it is called with each
	// protocol the client offers, in order, and the first it accepts is
	// negotiated. Nil negotiates none. The argument is valid only until the
	// call returns.
	SelectProtocol func(protocol []byte) bool

	// HTTP, if set, receives every connection whose first request is not a
	// WebSocket upgrade (no "Upgrade: websocket" header), so that plain
	// HTTP and WebSocket share the port. The socket leaves the event loop
	// and arrives as a net.Conn whose first reads replay the bytes the loop
	// had read (the request head, maybe more); it counts against
	// MaxSockets until it is closed. HTTP runs on a loop goroutine and must
	// not block: hand the connection to a goroutine or an http.Server.
	// MaxHeadBytes and HandshakeTimeout still bound that first head. Nil
	// answers such requests as failed upgrades (426, 400 or 404).
	HTTP func(nc net.Conn)

	// TLS, if set, makes every connection TLS (wss://, https://): the
	// handshake runs on a short-lived goroutine fed by the loop and must
	// finish within HandshakeTimeout together with the request head; an
	// open connection then holds no goroutine. TLS 1.3 connections then
	// leave crypto/tls for package tlsrecord, which keeps only their keys
	// while idle. The Server sets GetConfigForClient (calling yours
	// first) to give each handshake a clone with its own KeyLogWriter;
	// yours still gets its lines. With HTTP set, a client that negotiates
	// "h2" by ALPN goes to HTTP as a *tls.Conn, a TLS 1.3 HTTP/1.1 client
	// as a tlsrecord.Conn.
	TLS *tls.Config
}

func (c Config) withDefaults() Config {
	if c.MaxSockets == 0 {
		c.MaxSockets = defaultMaxSockets()
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.MaxConns == 0 {
		c.MaxConns = 10000
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	if c.MaxLifetime == 0 {
		c.MaxLifetime = 2 * time.Hour
	}
	if c.MaxHeadBytes == 0 {
		c.MaxHeadBytes = 10 << 10
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = 32 << 10
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 128 << 10
	}
	if c.WriteQueueBytes == 0 {
		c.WriteQueueBytes = 1 << 20
	}
	if c.SlowConsumerGrace == 0 {
		c.SlowConsumerGrace = 5 * time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 5 * time.Second
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("max conns %d: want at least 1", c.MaxConns))
	}
	if c.MaxSockets < 1 {
		errs = append(errs, fmt.Errorf("max sockets %d: want at least 1", c.MaxSockets))
	}
	if !strings.HasPrefix(c.Path, "/") {
		errs = append(errs, fmt.Errorf("path %q must start with /", c.Path))
	}
	if c.MaxHeadBytes < 256 || c.MaxHeadBytes > maxPooled {
		errs = append(errs, fmt.Errorf("max head bytes %d: want 256 to %d", c.MaxHeadBytes, maxPooled))
	}
	if c.MaxFrameBytes < 125 {
		errs = append(errs, fmt.Errorf("max frame bytes %d: want at least 125", c.MaxFrameBytes))
	}
	if c.MaxMessageBytes < c.MaxFrameBytes {
		errs = append(errs, fmt.Errorf("max message bytes %d is below max frame bytes %d", c.MaxMessageBytes, c.MaxFrameBytes))
	}
	if c.MaxMessageBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("max message bytes %d: want at most 64 MiB", c.MaxMessageBytes))
	}
	if c.WriteQueueBytes < 4096 {
		errs = append(errs, fmt.Errorf("write queue bytes %d: want at least 4096", c.WriteQueueBytes))
	}
	for name, d := range map[string]time.Duration{
		"handshake timeout": c.HandshakeTimeout, "slow consumer grace": c.SlowConsumerGrace, "close timeout": c.CloseTimeout,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v must not be negative", name, d))
		}
	}
	return errors.Join(errs...)
}

// defaultMaxSockets leaves a headroom of descriptors under the open-file
// limit for everything that is not a client socket.
func defaultMaxSockets() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<24 {
		return 1 << 20
	}
	n := int(lim.Cur)
	return max(n-max(16, n/64), 1)
}
