package conn_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

func TestClientClose(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpClose, true, closeBody(ws.StatusNormalClosure, "bye now"))
	c.expectClose(ws.StatusNormalClosure)
	c.expectEOF()
	d := h.waitClosed(t, 1)
	want := conn.Disconnect{Code: ws.StatusNormalClosure, Reason: "bye now", ByPeer: true}
	if d != want {
		t.Errorf("OnClose got %+v, want %+v", d, want)
	}
	// The server closed the socket itself; it did not wait for the
	// client's EOF.
	waitFor(t, "socket to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
	if st := srv.Stats(); st.Open != 0 || st.CloseTimeouts != 0 {
		t.Errorf("Open = %d, CloseTimeouts = %d; want 0 and 0", st.Open, st.CloseTimeouts)
	}
}

func TestClientCloseEmpty(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpClose, true, nil)
	c.expectClose(0)
	c.expectEOF()
	d := h.waitClosed(t, 1)
	if d.Code != ws.StatusNoStatusRcvd || !d.ByPeer {
		t.Errorf("OnClose got %+v, want code 1005 by peer", d)
	}
}

func TestClientCloseCodes(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want ws.StatusCode // the code the server answers with
	}{
		{name: "1-byte payload", body: []byte{0x03}, want: ws.StatusProtocolError},
		{name: "invalid UTF-8 reason", body: closeBody(ws.StatusNormalClosure, "bad \xff reason"), want: ws.StatusInvalidFramePayloadData},
		{name: "reason of 123 bytes", body: closeBody(ws.StatusNormalClosure, strings.Repeat("r", 123)), want: ws.StatusNormalClosure},
		// A bad code is reported as such whatever the reason holds, on
		// both sides of the valid ranges.
		{name: "invalid code 999 and invalid UTF-8", body: closeBody(999, "\xff"), want: ws.StatusProtocolError},
		{name: "invalid code 5000 and invalid UTF-8", body: closeBody(5000, "\xff"), want: ws.StatusProtocolError},
	}
	for _, code := range []ws.StatusCode{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		tests = append(tests, struct {
			name string
			body []byte
			want ws.StatusCode
		}{name: fmt.Sprintf("invalid code %d", code), body: closeBody(code, ""), want: ws.StatusProtocolError})
	}
	for _, code := range []ws.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		tests = append(tests, struct {
			name string
			body []byte
			want ws.StatusCode
		}{name: fmt.Sprintf("valid code %d", code), body: closeBody(code, "why"), want: code})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{}, h)
			c := open(t, srv)
			c.writeFrame(ws.OpClose, true, tt.body)
			c.expectClose(tt.want)
			c.expectEOF()
			d := h.waitClosed(t, 1)
			if d.Code != tt.want {
				t.Errorf("OnClose got %+v, want code %d", d, tt.want)
			}
		})
	}
}

// TestClientCloseDuringMessage closes in the middle of a fragmented
// message: the close handshake still completes and the partial message is
// never delivered.
func TestClientCloseDuringMessage(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpText, false, []byte("never finished"))
	c.writeFrame(ws.OpClose, true, closeBody(ws.StatusGoingAway, ""))
	c.expectClose(ws.StatusGoingAway)
	c.expectEOF()
	if d := h.waitClosed(t, 1); d.Code != ws.StatusGoingAway || !d.ByPeer {
		t.Errorf("OnClose got %+v, want 1001 by peer", d)
	}
	if n := h.messageCount(); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

// TestServerClose closes from the handler: the client gets the code and
// reason, answers, and the server then closes the socket.
func TestServerClose(t *testing.T) {
	h := &testHandler{onMessage: func(c *conn.Conn, op ws.OpCode, p []byte) bool {
		if string(p) != "close me" {
			return false
		}
		c.Close(conn.Disconnect{Code: 4001, Reason: "as you wish"})
		if err := c.WriteMessage(ws.OpText, []byte("too late")); err != conn.ErrNotOpen {
			t.Errorf("WriteMessage after Close: %v, want ErrNotOpen", err)
		}
		return true
	}}
	srv := startServer(t, conn.Config{CloseTimeout: time.Minute}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpText, true, []byte("close me"))
	if reason := c.expectClose(4001); reason != "as you wish" {
		t.Errorf("close reason %q, want %q", reason, "as you wish")
	}
	c.expectEOF() // our write side was shut after the close frame
	// Messages sent while the server is closing are dropped, then the
	// client's close frame completes the handshake.
	c.writeFrame(ws.OpText, true, []byte("ignored"))
	c.writeFrame(ws.OpClose, true, closeBody(4001, ""))
	d := h.waitClosed(t, 1)
	want := conn.Disconnect{Code: 4001, Reason: "as you wish"}
	if d != want {
		t.Errorf("OnClose got %+v, want %+v", d, want)
	}
	// MessagesIn counts delivered messages: "ignored" was not.
	if st := srv.Stats(); st.CloseTimeouts != 0 || st.MessagesIn != 1 || h.messageCount() != 1 {
		t.Errorf("CloseTimeouts = %d, MessagesIn = %d, handler saw %d; want 0, 1, 1", st.CloseTimeouts, st.MessagesIn, h.messageCount())
	}
}

// TestServerCloseInOnOpen closes the connection from OnOpen, as an
// authorisation check would. The client's answering close frame must
// complete the handshake: the server closes the socket without waiting
// for CloseTimeout.
func TestServerCloseInOnOpen(t *testing.T) {
	h := &testHandler{onOpen: func(c *conn.Conn) {
		c.Close(conn.Disconnect{Code: 4003, Reason: "not allowed"})
	}}
	srv := startServer(t, conn.Config{CloseTimeout: time.Minute}, h)
	c := open(t, srv)
	c.expectClose(4003)
	c.expectEOF()
	c.writeFrame(ws.OpClose, true, closeBody(4003, ""))
	d := h.waitClosed(t, 1)
	if d.Code != 4003 || d.ByPeer {
		t.Errorf("OnClose got %+v, want 4003 not by peer", d)
	}
	if st := srv.Stats(); st.FramesIn != 1 {
		t.Errorf("FramesIn = %d, want 1 (the client's close frame)", st.FramesIn)
	}
}

// TestCloseTimeout: the client never answers our close frame nor closes
// its socket, so CloseTimeout ends the connection.
func TestCloseTimeout(t *testing.T) {
	h := &testHandler{onMessage: func(c *conn.Conn, _ ws.OpCode, _ []byte) bool {
		c.Close(conn.Disconnect{Code: ws.StatusNormalClosure})
		return true
	}}
	srv := startServer(t, conn.Config{CloseTimeout: 100 * time.Millisecond}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpText, true, []byte("x"))
	c.expectClose(ws.StatusNormalClosure)
	d := h.waitClosed(t, 1)
	if d.Code != ws.StatusNormalClosure {
		t.Errorf("OnClose got %+v, want 1000", d)
	}
	if st := srv.Stats(); st.CloseTimeouts != 1 || st.Sockets != 0 {
		t.Errorf("CloseTimeouts = %d, Sockets = %d; want 1 and 0", st.CloseTimeouts, st.Sockets)
	}
}

func TestAbnormalClose(t *testing.T) {
	tests := []struct {
		name   string
		before func(c *client) // what the client does before dropping the TCP connection
	}{
		{name: "idle", before: func(*client) {}},
		{name: "mid frame", before: func(c *client) { c.write(maskedFrame(ws.OpText, true, pattern(100))[:50]) }},
		{name: "mid message", before: func(c *client) { c.writeFrame(ws.OpBinary, false, []byte("part")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{}, h)
			c := open(t, srv)
			h.waitOpened(t, 1)
			tt.before(c)
			c.nc.Close()
			d := h.waitClosed(t, 1)
			if d.Code != ws.StatusAbnormalClosure || d.ByPeer {
				t.Errorf("OnClose got %+v, want 1006 not by peer", d)
			}
			if st := srv.Stats(); st.Open != 0 || st.Sockets != 0 {
				t.Errorf("Open = %d, Sockets = %d after OnClose; want 0", st.Open, st.Sockets)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	h.waitOpened(t, 1)
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	if reason := c.expectClose(ws.StatusGoingAway); reason != conn.DisconnectShutdown.Reason {
		t.Errorf("close reason %q, want %q", reason, conn.DisconnectShutdown.Reason)
	}
	c.expectEOF()
	c.writeFrame(ws.OpClose, true, closeBody(ws.StatusGoingAway, ""))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Shutdown did not return after the client answered")
	}
	if d := h.waitClosed(t, 1); d != conn.DisconnectShutdown {
		t.Errorf("OnClose got %+v, want %+v", d, conn.DisconnectShutdown)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	if err := srv.Listen("tcp", "127.0.0.1:0"); !errors.Is(err, conn.ErrClosed) {
		t.Errorf("Listen after Shutdown: %v, want ErrClosed", err)
	}
	if st := srv.Stats(); st.Sockets != 0 || st.Open != 0 {
		t.Errorf("Sockets = %d, Open = %d after Shutdown", st.Sockets, st.Open)
	}
}

// TestShutdownContextEnds: a client that never answers the close frame is
// cut when the context ends.
func TestShutdownContextEnds(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h) // CloseTimeout 5 s: longer than ctx
	c := open(t, srv)
	h.waitOpened(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	c.expectClose(ws.StatusGoingAway)
	c.expectEOF()
	if d := h.waitClosed(t, 1); d.Code != ws.StatusGoingAway {
		t.Errorf("OnClose got %+v, want 1001", d)
	}
	if st := srv.Stats(); st.Sockets != 0 {
		t.Errorf("Sockets = %d after Shutdown returned", st.Sockets)
	}
}

// TestShutdownDuringHandshake: a socket that has not finished its request
// is closed, and counted as refused.
func TestShutdownDuringHandshake(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := dial(t, srv, 0)
	c.write([]byte("GET / HTTP/1.1\r\n"))
	waitFor(t, "the partial request to be read", ioTimeout, func() bool { return srv.Stats().BytesIn > 0 })
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.expectEOF()
	if got := srv.Stats().Refused[conn.RefusedShuttingDown]; got != 1 {
		t.Errorf("Refused[%q] = %d, want 1", conn.RefusedShuttingDown, got)
	}
	if len(h.closed()) != 0 {
		t.Errorf("OnClose ran for a connection that never opened")
	}
}
