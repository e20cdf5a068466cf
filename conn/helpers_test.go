package conn_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// ioTimeout bounds every client read and write and every wait for a
// condition, so that a server that fails to answer makes the test fail
// instead of hang. It is not a timing assertion: a healthy server answers
// in microseconds; the margin is for a machine loaded by other work.
const ioTimeout = 10 * time.Second

// sampleKey and sampleAccept are the nonce and accept value of RFC 6455,
// section 1.3 (TestSampleAccept recomputes the latter).
const (
	sampleKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// acceptFor computes Sec-WebSocket-Accept for key as RFC 6455, 4.2.2 says.
func acceptFor(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// waitFor polls cond until it holds, failing the test if it does not within
// timeout. The poll interval starts small and grows, so fast conditions
// cost little and slow ones do not spin.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	pause := 50 * time.Microsecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// testHandler echoes every message and records the life cycle of the
// connections it sees. Its hooks are set before the server starts.
type testHandler struct {
	// onOpen, if set, runs at the end of OnOpen.
	onOpen func(c *conn.Conn)
	// onMessage, if set, runs first in OnMessage; returning true skips
	// the echo.
	onMessage func(c *conn.Conn, op ws.OpCode, p []byte) bool

	mu        sync.Mutex
	opened    []*conn.Conn
	protocols []string
	closes    []conn.Disconnect
	messages  int
}

func (h *testHandler) OnOpen(c *conn.Conn) {
	h.mu.Lock()
	h.opened = append(h.opened, c)
	h.protocols = append(h.protocols, c.Protocol())
	h.mu.Unlock()
	if h.onOpen != nil {
		h.onOpen(c)
	}
}

func (h *testHandler) OnMessage(c *conn.Conn, op ws.OpCode, p []byte) {
	h.mu.Lock()
	h.messages++
	h.mu.Unlock()
	if h.onMessage != nil && h.onMessage(c, op, p) {
		return
	}
	c.WriteMessage(op, p)
}

func (h *testHandler) OnClose(c *conn.Conn, d conn.Disconnect) {
	h.mu.Lock()
	h.closes = append(h.closes, d)
	h.mu.Unlock()
}

func (h *testHandler) openedConns() []*conn.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*conn.Conn(nil), h.opened...)
}

func (h *testHandler) openedProtocols() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.protocols...)
}

func (h *testHandler) messageCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.messages
}

func (h *testHandler) closed() []conn.Disconnect {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]conn.Disconnect(nil), h.closes...)
}

// waitOpened waits for the n-th OnOpen and returns that connection.
func (h *testHandler) waitOpened(t testing.TB, n int) *conn.Conn {
	t.Helper()
	waitFor(t, "OnOpen", ioTimeout, func() bool { return len(h.openedConns()) >= n })
	return h.openedConns()[n-1]
}

// waitClosed waits for the n-th OnClose and returns its Disconnect.
func (h *testHandler) waitClosed(t testing.TB, n int) conn.Disconnect {
	t.Helper()
	waitFor(t, "OnClose", ioTimeout, func() bool { return len(h.closed()) >= n })
	return h.closed()[n-1]
}

// startServer starts a server on a free loopback port and shuts it down
// when the test ends; the shutdown must succeed.
func startServer(t testing.TB, cfg conn.Config, h conn.Handler) *conn.Server {
	t.Helper()
	srv, err := conn.NewServer(cfg, h)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		srv.Shutdown(context.Background())
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at cleanup: %v", err)
		}
	})
	return srv
}

// client is a raw TCP WebSocket client that writes exactly the bytes a
// test asks for.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial connects to srv. rcvBuf, if positive, sets the socket's receive
// buffer before the connection is made, so the TCP window stays small.
func dial(t testing.TB, srv *conn.Server, rcvBuf int) *client {
	t.Helper()
	d := net.Dialer{Timeout: ioTimeout}
	if rcvBuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
			})
			return errors.Join(err, serr)
		}
	}
	nc, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
}

// open dials srv and completes a good upgrade.
func open(t testing.TB, srv *conn.Server) *client {
	t.Helper()
	c := dial(t, srv, 0)
	c.write([]byte(upgradeRequest("/")))
	resp, _ := c.readHead()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: status %d, want 101", resp.StatusCode)
	}
	return c
}

// upgradeRequest is a valid upgrade request for path with the RFC's sample
// key, followed by extra header lines ("Name: value").
func upgradeRequest(path string, extra ...string) string {
	return buildRequest("GET "+path+" HTTP/1.1", append(baseHeaders(), extra...)...)
}

func baseHeaders() []string {
	return []string{
		"Host: example.com",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + sampleKey,
		"Sec-WebSocket-Version: 13",
	}
}

func buildRequest(line string, headers ...string) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// without returns headers minus those whose name is name.
func without(headers []string, name string) []string {
	var out []string
	for _, h := range headers {
		if !strings.HasPrefix(strings.ToLower(h), strings.ToLower(name)+":") {
			out = append(out, h)
		}
	}
	return out
}

// replaced returns headers with the header named like h replaced by h.
func replaced(headers []string, h string) []string {
	name, _, _ := strings.Cut(h, ":")
	return append(without(headers, name), h)
}

func (c *client) write(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("client write: %v", err)
	}
}

// writeFrame writes one masked frame.
func (c *client) writeFrame(op ws.OpCode, fin bool, payload []byte) {
	c.t.Helper()
	c.write(maskedFrame(op, fin, payload))
}

// readHead reads an HTTP response head and returns it parsed and raw.
func (c *client) readHead() (*http.Response, []byte) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	var raw []byte
	for {
		line, err := c.br.ReadSlice('\n')
		raw = append(raw, line...)
		if err != nil {
			c.t.Fatalf("reading response head (got %q): %v", raw, err)
		}
		if bytes.Equal(line, []byte("\r\n")) {
			break
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		c.t.Fatalf("parsing response head %q: %v", raw, err)
	}
	return resp, raw
}

// readFrame reads one server frame, which must be unmasked.
func (c *client) readFrame() (ws.Frame, error) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Masked {
		c.t.Fatalf("server sent a masked frame: %+v", h)
	}
	if h.Length > 16<<20 {
		c.t.Fatalf("server frame of %d bytes", h.Length)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return ws.Frame{}, err
	}
	return ws.Frame{Header: h, Payload: p}, nil
}

func (c *client) mustReadFrame() ws.Frame {
	c.t.Helper()
	f, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("reading frame: %v", err)
	}
	return f
}

// expectFrame reads one frame and checks it is a final frame with op and
// payload.
func (c *client) expectFrame(op ws.OpCode, payload []byte) {
	c.t.Helper()
	f := c.mustReadFrame()
	if f.Header.OpCode != op || !f.Header.Fin || f.Header.Rsv != 0 {
		c.t.Fatalf("got frame %+v, want a final %v frame", f.Header, op)
	}
	if !bytes.Equal(f.Payload, payload) {
		c.t.Fatalf("got %v payload of %d bytes %s, want %d bytes %s",
			op, len(f.Payload), abbrev(f.Payload), len(payload), abbrev(payload))
	}
}

// expectClose reads the next frame, which must be a close frame with code
// (or an empty close frame if code is 0), and returns its reason.
func (c *client) expectClose(code ws.StatusCode) string {
	c.t.Helper()
	f := c.mustReadFrame()
	if f.Header.OpCode != ws.OpClose {
		c.t.Fatalf("got %v frame (%d bytes %s), want close %d", f.Header.OpCode, len(f.Payload), abbrev(f.Payload), code)
	}
	if code == 0 {
		if len(f.Payload) != 0 {
			c.t.Fatalf("got close payload %q, want an empty close frame", f.Payload)
		}
		return ""
	}
	if len(f.Payload) < 2 {
		c.t.Fatalf("got close payload %q, want code %d", f.Payload, code)
	}
	got, reason := ws.ParseCloseFrameData(f.Payload)
	if got != code {
		c.t.Fatalf("got close code %d (%q), want %d", got, reason, code)
	}
	return reason
}

// expectEOF checks that the server closed its side of the TCP connection
// with nothing more to read.
func (c *client) expectEOF() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := c.br.ReadByte()
	if err != io.EOF {
		c.t.Fatalf("read after close: got byte %#x, err %v; want io.EOF", b, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// maskedFrame encodes a masked client frame.
func maskedFrame(op ws.OpCode, fin bool, payload []byte) []byte {
	f := ws.NewFrame(op, fin, bytes.Clone(payload))
	f = ws.MaskFrameInPlace(f)
	var b bytes.Buffer
	if err := ws.WriteFrame(&b, f); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// rawFrame encodes h followed by payload, masking the payload with h.Mask
// when h.Masked is set. The header is written as given, so it may be
// malformed on purpose.
func rawFrame(h ws.Header, payload []byte) []byte {
	var b bytes.Buffer
	if err := ws.WriteHeader(&b, h); err != nil {
		panic(err)
	}
	p := bytes.Clone(payload)
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	b.Write(p)
	return b.Bytes()
}

// header64 encodes a masked frame header whose 64-bit length field holds
// length as is, even with its most significant bit set.
func header64(op ws.OpCode, length uint64) []byte {
	b := []byte{0x80 | byte(op), 0x80 | 127}
	b = binary.BigEndian.AppendUint64(b, length)
	return append(b, 1, 2, 3, 4)
}

func closeBody(code ws.StatusCode, reason string) []byte {
	b := make([]byte, 2+len(reason))
	ws.PutCloseFrameBody(b, code, reason)
	return b
}

func abbrev(p []byte) string {
	if len(p) <= 32 {
		return strings.ToValidUTF8(string(p), "?")
	}
	return strings.ToValidUTF8(string(p[:32]), "?") + "..."
}

// pattern returns n bytes of printable ASCII that differ from position to
// position, so that a misplaced chunk shows.
func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 'a' + byte(i%23)
	}
	return p
}
