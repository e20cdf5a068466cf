package conn_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// connectHandler is a testHandler that also decides on upgrades.
type connectHandler struct {
	testHandler
	decide func(c *conn.Conn, r *conn.Request) error

	mu       sync.Mutex
	requests []seenRequest
	pending  []*conn.Conn // connections whose upgrade was deferred
}

// seenRequest is a copy of what OnConnect saw: the Request is only valid
// during the call.
type seenRequest struct {
	uri, path, query, host string
	headers                []string // "Name: value"
	custom, origin         string   // Get("x-custom"), Get("ORIGIN")
	protocol               string
}

func (h *connectHandler) OnConnect(c *conn.Conn, r *conn.Request) error {
	seen := seenRequest{
		uri: string(r.URI), path: string(r.Path()), query: string(r.Query()), host: string(r.Host),
		custom: string(r.Get("x-custom")), origin: string(r.Get("ORIGIN")), protocol: r.Protocol,
	}
	for _, f := range r.Header {
		seen.headers = append(seen.headers, string(f.Name)+": "+string(f.Value))
	}
	err := h.decide(c, r)
	h.mu.Lock()
	h.requests = append(h.requests, seen)
	if errors.Is(err, conn.ErrDeferred) {
		h.pending = append(h.pending, c)
	}
	h.mu.Unlock()
	return err
}

func (h *connectHandler) requestCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

func (h *connectHandler) waitRequest(t *testing.T, n int) (seenRequest, *conn.Conn) {
	t.Helper()
	waitFor(t, "OnConnect", ioTimeout, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.requests) >= n
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	var c *conn.Conn
	if len(h.pending) >= n {
		c = h.pending[n-1]
	}
	return h.requests[n-1], c
}

// onLoop runs fn on c's loop and waits for it.
func onLoop(t *testing.T, c *conn.Conn, fn func()) {
	t.Helper()
	done := make(chan struct{})
	if !c.Do(func() { fn(); close(done) }) {
		t.Fatal("Do: server shut down")
	}
	select {
	case <-done:
	case <-time.After(ioTimeout):
		t.Fatal("Do did not run")
	}
}

func TestConnectRequest(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return nil }}
	srv := startServer(t, conn.Config{
		Path:           "/ws",
		SelectProtocol: func(p []byte) bool { return string(p) == "v2" },
	}, h)
	c := dial(t, srv, 0)
	c.write([]byte(buildRequest("GET /ws?token=abc&x=1 HTTP/1.1",
		"Host: gate.example:8080",
		"x-custom: first",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: "+sampleKey,
		"Sec-WebSocket-Version: 13",
		"Sec-WebSocket-Protocol: v1, v2",
		"Origin: https://app.example",
		"X-Custom: second",
		"Cookie: a=b",
	)))
	if resp, raw := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d:\n%s", resp.StatusCode, raw)
	}
	r, _ := h.waitRequest(t, 1)
	want := seenRequest{
		uri: "/ws?token=abc&x=1", path: "/ws", query: "token=abc&x=1", host: "gate.example:8080",
		headers: []string{"X-Custom: first", "Sec-WebSocket-Protocol: v1, v2", "Origin: https://app.example", "X-Custom: second", "Cookie: a=b"},
		custom:  "first", origin: "https://app.example", protocol: "v2",
	}
	if strings.Join(r.headers, "|") != strings.Join(want.headers, "|") {
		t.Errorf("headers %q, want %q", r.headers, want.headers)
	}
	r.headers, want.headers = nil, nil
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Errorf("OnConnect saw %+v\nwant             %+v", r, want)
	}
	h.waitOpened(t, 1)
	c.writeFrame(ws.OpText, true, []byte("accepted"))
	c.expectFrame(ws.OpText, []byte("accepted"))
}

// TestConnectRequestReused: each request sees only its own headers, also
// when an earlier one on the same loop had more or longer ones.
func TestConnectRequestReused(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return nil }}
	srv := startServer(t, conn.Config{Loops: 1}, h)
	long := strings.Repeat("v", 3000)
	for i, extra := range [][]string{{"A: " + long, "B: 2", "C: 3"}, {"D: 4"}, nil} {
		c := dial(t, srv, 0)
		c.write([]byte(upgradeRequest("/", extra...)))
		if resp, _ := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
		r, _ := h.waitRequest(t, i+1)
		if strings.Join(r.headers, "|") != strings.Join(extra, "|") {
			t.Errorf("request %d: headers %.60q, want %.60q", i, r.headers, extra)
		}
	}
}

func TestConnectRefuse(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
		wantHeader map[string]string
	}{
		{
			name:       "refusal with reason and header",
			err:        &conn.Refusal{Status: http.StatusTooManyRequests, Reason: "slow down", Header: []conn.HeaderString{{Name: "Retry-After", Value: "7"}}},
			wantStatus: http.StatusTooManyRequests, wantBody: "slow down", wantHeader: map[string]string{"Retry-After": "7"},
		},
		{
			name:       "refusal without reason",
			err:        &conn.Refusal{Status: http.StatusUnauthorized},
			wantStatus: http.StatusUnauthorized, wantBody: http.StatusText(http.StatusUnauthorized),
		},
		{
			name:       "wrapped refusal",
			err:        errorsJoin(errors.New("auth backend said no"), &conn.Refusal{Status: http.StatusForbidden, Reason: "banned"}),
			wantStatus: http.StatusForbidden, wantBody: "banned",
		},
		{
			name:       "any other error",
			err:        errors.New("backend exploded"),
			wantStatus: http.StatusInternalServerError, wantBody: http.StatusText(http.StatusInternalServerError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return tt.err }}
			srv := startServer(t, conn.Config{}, h)
			c := dial(t, srv, 0)
			// A frame right behind the request must not be processed.
			c.write(append([]byte(upgradeRequest("/")), maskedFrame(ws.OpText, true, []byte("sneaky"))...))
			resp, raw := c.readHead()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", resp.StatusCode, tt.wantStatus, raw)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
			body, err := io.ReadAll(c.br)
			if err != nil {
				t.Fatalf("reading the body to EOF: %v", err)
			}
			if string(body) != tt.wantBody || resp.ContentLength != int64(len(body)) {
				t.Errorf("body %q (Content-Length %d), want %q", body, resp.ContentLength, tt.wantBody)
			}
			st := srv.Stats()
			if st.RefusedByHandler != 1 || st.Open != 0 || st.MessagesIn != 0 {
				t.Errorf("RefusedByHandler %d, Open %d, MessagesIn %d; want 1, 0, 0", st.RefusedByHandler, st.Open, st.MessagesIn)
			}
			for reason, n := range st.Refused {
				if n != 0 {
					t.Errorf("Refused[%q] = %d: a handler's refusal is counted apart", reason, n)
				}
			}
			if len(h.openedConns()) != 0 {
				t.Error("OnOpen ran for a refused upgrade")
			}
			c.nc.Close()
			waitFor(t, "the socket to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
		})
	}
}

func errorsJoin(errs ...error) error { return errors.Join(errs...) }

// TestConnectDeferAccept defers the verdict and accepts from another
// goroutine: frames the client sent early, with the request and after it,
// are processed once the upgrade is accepted, in order.
func TestConnectDeferAccept(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
	srv := startServer(t, conn.Config{}, h)
	c := dial(t, srv, 0)
	c.write(append([]byte(upgradeRequest("/")), maskedFrame(ws.OpText, true, []byte("with the request"))...))
	_, pending := h.waitRequest(t, 1)
	if pending == nil {
		t.Fatal("no pending connection")
	}
	c.writeFrame(ws.OpText, true, []byte("while waiting"))
	if st := srv.Stats(); st.Open != 0 || len(h.openedConns()) != 0 {
		t.Fatalf("open before the verdict: Open %d", st.Open)
	}
	onLoop(t, pending, pending.Accept)
	resp, _ := c.readHead()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != sampleAccept {
		t.Fatalf("after Accept: status %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	c.expectFrame(ws.OpText, []byte("with the request"))
	c.expectFrame(ws.OpText, []byte("while waiting"))
	if sc := h.waitOpened(t, 1); sc != pending {
		t.Error("OnOpen got another Conn than OnConnect")
	}
	// A second verdict changes nothing.
	onLoop(t, pending, pending.Accept)
	onLoop(t, pending, func() { pending.Refuse(&conn.Refusal{Status: http.StatusForbidden}) })
	c.writeFrame(ws.OpText, true, []byte("still open"))
	c.expectFrame(ws.OpText, []byte("still open"))
	if st := srv.Stats(); st.RefusedByHandler != 0 || st.Open != 1 {
		t.Errorf("RefusedByHandler %d, Open %d; want 0 and 1", st.RefusedByHandler, st.Open)
	}
}

func TestConnectDeferRefuse(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
	srv := startServer(t, conn.Config{}, h)
	c := dial(t, srv, 0)
	c.write([]byte(upgradeRequest("/")))
	_, pending := h.waitRequest(t, 1)
	onLoop(t, pending, func() {
		pending.Refuse(&conn.Refusal{Status: http.StatusServiceUnavailable, Reason: "backend down"})
	})
	resp, _ := c.readHead()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	if body, err := io.ReadAll(c.br); err != nil || string(body) != "backend down" {
		t.Fatalf("body %q, %v", body, err)
	}
	onLoop(t, pending, pending.Accept) // too late: nothing happens
	if st := srv.Stats(); st.RefusedByHandler != 1 || st.Open != 0 || len(h.openedConns()) != 0 {
		t.Errorf("RefusedByHandler %d, Open %d; want 1 and 0", st.RefusedByHandler, st.Open)
	}
}

// TestConnectDeferTimeout: a verdict that never comes is bounded by
// HandshakeTimeout.
func TestConnectDeferTimeout(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
	srv := startServer(t, conn.Config{HandshakeTimeout: 100 * time.Millisecond}, h)
	timeouts := func() uint64 { return srv.Stats().Refused[conn.RefusedHandshakeTimeout] }
	// On a loaded machine the request may not even be read within
	// HandshakeTimeout; then try again.
	var (
		c       *client
		pending *conn.Conn
	)
	missed := 0
	for pending == nil {
		if missed == 5 {
			t.Fatal("no request was read within HandshakeTimeout in 5 tries")
		}
		c = dial(t, srv, 0)
		c.write([]byte(upgradeRequest("/")))
		waitFor(t, "OnConnect or the timeout", ioTimeout, func() bool {
			return h.requestCount() > 0 || timeouts() > uint64(missed)
		})
		if h.requestCount() > 0 {
			_, pending = h.waitRequest(t, 1)
		} else {
			missed++
		}
	}
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	if _, err := c.br.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("read: %v; want the connection closed", err)
	}
	waitFor(t, "the socket to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
	if got, want := timeouts(), uint64(missed+1); got != want {
		t.Errorf("Refused[%q] = %d, want %d", conn.RefusedHandshakeTimeout, got, want)
	}
	onLoop(t, pending, pending.Accept) // too late: nothing happens
	if len(h.openedConns()) != 0 {
		t.Error("Accept after the timeout opened the connection")
	}
}

// TestConnectDeferShutdown: Shutdown closes connections waiting for a
// verdict.
func TestConnectDeferShutdown(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
	srv := startServer(t, conn.Config{}, h)
	c := dial(t, srv, 0)
	c.write([]byte(upgradeRequest("/")))
	h.waitRequest(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	if _, err := c.br.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("read: %v; want the connection closed", err)
	}
}

// TestConnectDeferClientLeaves: a client that gives up while the verdict
// is pending must not hold its socket until HandshakeTimeout.
func TestConnectDeferClientLeaves(t *testing.T) {
	tests := []struct {
		name  string
		leave func(nc *net.TCPConn)
	}{
		{name: "reset", leave: func(nc *net.TCPConn) { nc.SetLinger(0); nc.Close() }},
		{name: "close", leave: func(nc *net.TCPConn) { nc.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
			srv := startServer(t, conn.Config{HandshakeTimeout: time.Minute}, h)
			c := dial(t, srv, 0)
			c.write([]byte(upgradeRequest("/")))
			_, pending := h.waitRequest(t, 1)
			tt.leave(c.nc.(*net.TCPConn))
			waitFor(t, "the server to notice the client left", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
			onLoop(t, pending, pending.Accept) // too late: nothing happens
			if len(h.openedConns()) != 0 {
				t.Error("Accept after the client left opened the connection")
			}
		})
	}
}

// TestConnectDeferAcceptThenClose: OnOpen, run by a deferred Accept,
// closes the connection at once. The client's answering close frame must
// still be read, so the close handshake completes without CloseTimeout.
func TestConnectDeferAcceptThenClose(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
	h.onOpen = func(c *conn.Conn) { c.Close(conn.Disconnect{Code: 4003, Reason: "changed my mind"}) }
	srv := startServer(t, conn.Config{CloseTimeout: time.Minute}, h)
	c := dial(t, srv, 0)
	c.write([]byte(upgradeRequest("/")))
	_, pending := h.waitRequest(t, 1)
	onLoop(t, pending, pending.Accept)
	if resp, _ := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	c.expectClose(4003)
	c.expectEOF()
	c.writeFrame(ws.OpClose, true, closeBody(4003, ""))
	if d := h.waitClosed(t, 1); d.Code != 4003 {
		t.Errorf("OnClose got %+v, want 4003", d)
	}
	if st := srv.Stats(); st.CloseTimeouts != 0 {
		t.Errorf("CloseTimeouts = %d, want 0", st.CloseTimeouts)
	}
}

func TestLookup(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{Loops: 2}, h)
	var clients []*client
	for range 4 {
		clients = append(clients, open(t, srv))
	}
	conns := []*conn.Conn{}
	for i := range clients {
		conns = append(conns, h.waitOpened(t, i+1))
	}
	// Match clients to connections by address.
	byAddr := map[string]*conn.Conn{}
	for _, sc := range conns {
		byAddr[sc.RemoteAddr().String()] = sc
	}
	loopsUsed := map[int]bool{}
	for i, c := range clients {
		sc := byAddr[c.nc.LocalAddr().String()]
		if sc == nil {
			t.Fatalf("client %d: no connection from %s", i, c.nc.LocalAddr())
		}
		if li := sc.LoopIndex(); li < 0 || li >= srv.Loops() {
			t.Fatalf("LoopIndex %d outside [0, %d)", li, srv.Loops())
		}
		loopsUsed[sc.LoopIndex()] = true
		id := sc.ID()
		found := make(chan *conn.Conn, 1)
		if !srv.Lookup(id, func(lc *conn.Conn) {
			if lc != nil {
				lc.WriteMessage(ws.OpText, []byte("found you"))
			}
			found <- lc
		}) {
			t.Fatalf("Lookup(%#x) reported false", id)
		}
		if lc := <-found; lc != sc {
			t.Fatalf("Lookup(%#x) found %p, want %p", id, lc, sc)
		}
		c.expectFrame(ws.OpText, []byte("found you"))
	}
	if srv.Loops() != 2 || len(loopsUsed) != 2 {
		t.Errorf("Loops() = %d, loops used %v; want 2 and both", srv.Loops(), loopsUsed)
	}

	lookup := func(id uint64) (ran bool, c *conn.Conn) {
		t.Helper()
		found := make(chan *conn.Conn, 1)
		if !srv.Lookup(id, func(c *conn.Conn) { found <- c }) {
			return false, nil
		}
		select {
		case c := <-found:
			return true, c
		case <-time.After(ioTimeout):
			t.Fatal("Lookup's fn did not run")
		}
		return
	}
	// An id with another sequence number but the same loop and
	// descriptor names an earlier connection: not found.
	first := conns[0]
	if ran, c := lookup(first.ID() ^ 1<<40); !ran || c != nil {
		t.Errorf("Lookup of a stale id: ran %v, conn %p; want true, nil", ran, c)
	}
	if ran, _ := lookup(first.ID() | 0xff<<24); ran {
		t.Error("Lookup of an id naming loop 255 reported true")
	}
	// Closed: not found.
	clients[0].writeFrame(ws.OpClose, true, closeBody(ws.StatusNormalClosure, ""))
	clients[0].expectClose(ws.StatusNormalClosure)
	h.waitClosed(t, 1)
	closedOne := byAddr[clients[0].nc.LocalAddr().String()]
	if ran, c := lookup(closedOne.ID()); !ran || c != nil {
		t.Errorf("Lookup of a closed connection: ran %v, conn %p; want true, nil", ran, c)
	}
	// IDs are distinct.
	seen := map[uint64]bool{}
	for _, sc := range conns {
		if seen[sc.ID()] {
			t.Errorf("duplicate id %#x", sc.ID())
		}
		seen[sc.ID()] = true
	}

	for i := range srv.Loops() {
		ran := make(chan int, 1)
		if !srv.RunOnLoop(i, func() { ran <- i }) {
			t.Fatalf("RunOnLoop(%d) reported false", i)
		}
		if got := <-ran; got != i {
			t.Fatalf("RunOnLoop(%d) ran %d", i, got)
		}
	}
	for _, c := range clients[1:] {
		c.nc.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if ran, _ := lookup(conns[1].ID()); ran {
		t.Error("Lookup after Shutdown reported true")
	}
	if srv.RunOnLoop(0, func() {}) {
		t.Error("RunOnLoop after Shutdown reported true")
	}
}

// TestLookupStates: Lookup finds a connection in every state but closed;
// Pending and Open tell which.
func TestLookupStates(t *testing.T) {
	h := &connectHandler{decide: func(*conn.Conn, *conn.Request) error { return conn.ErrDeferred }}
	h.onMessage = func(c *conn.Conn, _ ws.OpCode, p []byte) bool {
		if string(p) == "close" {
			c.Close(conn.Disconnect{Code: ws.StatusNormalClosure})
			return true
		}
		return false
	}
	srv := startServer(t, conn.Config{CloseTimeout: time.Minute}, h)
	c := dial(t, srv, 0)
	c.write([]byte(upgradeRequest("/")))
	_, pending := h.waitRequest(t, 1)
	id := pending.ID()

	type state struct {
		found, pending, open bool
	}
	lookup := func() state {
		t.Helper()
		got := make(chan state, 1)
		if !srv.Lookup(id, func(c *conn.Conn) {
			if c == nil {
				got <- state{}
				return
			}
			if c != pending {
				t.Errorf("Lookup found another connection")
			}
			got <- state{found: true, pending: c.Pending(), open: c.Open()}
		}) {
			t.Fatal("Lookup reported false")
		}
		return <-got
	}
	if got, want := lookup(), (state{found: true, pending: true}); got != want {
		t.Errorf("waiting for the verdict: %+v, want %+v", got, want)
	}
	onLoop(t, pending, pending.Accept)
	if got, want := lookup(), (state{found: true, open: true}); got != want {
		t.Errorf("accepted: %+v, want %+v", got, want)
	}
	if resp, _ := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c.writeFrame(ws.OpText, true, []byte("close"))
	c.expectClose(ws.StatusNormalClosure)
	if got, want := lookup(), (state{found: true}); got != want {
		t.Errorf("closing: %+v, want %+v", got, want)
	}
	c.writeFrame(ws.OpClose, true, closeBody(ws.StatusNormalClosure, ""))
	h.waitClosed(t, 1)
	if got, want := lookup(), (state{}); got != want {
		t.Errorf("closed: %+v, want %+v", got, want)
	}
	if !srv.Issued(id) {
		t.Errorf("Issued(%#x) = false for a connection that existed", id)
	}
}

func TestIssued(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{Loops: 2}, h)
	open(t, srv)
	id := h.waitOpened(t, 1).ID()
	tests := []struct {
		name string
		id   uint64
		want bool
	}{
		{name: "issued", id: id, want: true},
		{name: "zero", id: 0, want: false},
		{name: "sequence not reached", id: id + 1<<32, want: false},
		{name: "sequence far ahead", id: id | 0xffff<<40, want: false},
		{name: "no such loop", id: id&^(0xff<<24) | 7<<24, want: false},
	}
	for _, tt := range tests {
		if got := srv.Issued(tt.id); got != tt.want {
			t.Errorf("%s: Issued(%#x) = %v, want %v", tt.name, tt.id, got, tt.want)
		}
	}
}
