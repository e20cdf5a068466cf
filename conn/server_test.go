package conn_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

func TestNewServerConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     conn.Config
		wantErr string // a substring of the error, "" for none
	}{
		{name: "zero value"},
		{name: "negative max sockets", cfg: conn.Config{MaxSockets: -1}, wantErr: "max sockets"},
		{name: "one socket", cfg: conn.Config{MaxSockets: 1}},
		{name: "path without slash", cfg: conn.Config{Path: "ws"}, wantErr: "path"},
		{name: "head too small", cfg: conn.Config{MaxHeadBytes: 255}, wantErr: "max head bytes"},
		{name: "head at minimum", cfg: conn.Config{MaxHeadBytes: 256}},
		{name: "head too large", cfg: conn.Config{MaxHeadBytes: 1<<20 + 1}, wantErr: "max head bytes"},
		{name: "negative head", cfg: conn.Config{MaxHeadBytes: -1}, wantErr: "max head bytes"},
		{name: "frame too small", cfg: conn.Config{MaxFrameBytes: 124}, wantErr: "max frame bytes"},
		{name: "frame at minimum", cfg: conn.Config{MaxFrameBytes: 125}},
		{name: "message below frame", cfg: conn.Config{MaxFrameBytes: 64 << 10, MaxMessageBytes: 32 << 10}, wantErr: "max message bytes"},
		{name: "frame above default message", cfg: conn.Config{MaxFrameBytes: 256 << 10}, wantErr: "max message bytes"},
		{name: "message too large", cfg: conn.Config{MaxMessageBytes: 64<<20 + 1}, wantErr: "64 MiB"},
		{name: "message at maximum", cfg: conn.Config{MaxMessageBytes: 64 << 20}},
		{name: "write queue too small", cfg: conn.Config{WriteQueueBytes: 4095}, wantErr: "write queue bytes"},
		{name: "negative handshake timeout", cfg: conn.Config{HandshakeTimeout: -time.Second}, wantErr: "handshake timeout"},
		{name: "negative grace", cfg: conn.Config{SlowConsumerGrace: -1}, wantErr: "slow consumer grace"},
		{name: "negative close timeout", cfg: conn.Config{CloseTimeout: -1}, wantErr: "close timeout"},
		{name: "several errors", cfg: conn.Config{Path: "x", WriteQueueBytes: 1}, wantErr: "write queue bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := conn.NewServer(tt.cfg, &testHandler{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewServer: %v", err)
				}
				srv.Shutdown(context.Background())
				return
			}
			if err == nil {
				srv.Shutdown(context.Background())
				t.Fatalf("NewServer accepted %+v", tt.cfg)
			}
			if srv != nil {
				t.Errorf("NewServer returned a server with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	srv := startServer(t, conn.Config{}, &testHandler{})
	got := srv.Config()
	// MaxSockets defaults to a share of the open-file limit.
	if got.MaxSockets < 1 {
		t.Errorf("default MaxSockets = %d, want at least 1", got.MaxSockets)
	}
	got.MaxSockets = 0
	want := conn.Config{
		Path:              "/",
		MaxConns:          10000,
		IdleTimeout:       10 * time.Minute,
		MaxLifetime:       2 * time.Hour,
		MaxHeadBytes:      10 << 10,
		HandshakeTimeout:  10 * time.Second,
		MaxFrameBytes:     32 << 10,
		MaxMessageBytes:   128 << 10,
		WriteQueueBytes:   1 << 20,
		SlowConsumer:      conn.SlowConsumerDrop,
		SlowConsumerGrace: 5 * time.Second,
		CloseTimeout:      5 * time.Second,
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("Config() = %+v\nwant        %+v", got, want)
	}
	if srv.Addr() == nil {
		t.Error("Addr() is nil after Listen")
	}
}

func TestAddrBeforeListen(t *testing.T) {
	srv, err := conn.NewServer(conn.Config{}, &testHandler{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	if a := srv.Addr(); a != nil {
		t.Errorf("Addr() before Listen = %v, want nil", a)
	}
}

func TestStats(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	if st := srv.Stats(); st.Open != 0 || st.Sockets != 0 || st.BytesIn != 0 {
		t.Fatalf("fresh server stats %+v", st)
	}
	c := dial(t, srv, 0)
	req := []byte(upgradeRequest("/"))
	c.write(req)
	_, head := c.readHead()
	msg := maskedFrame(ws.OpText, true, []byte("hello"))
	c.write(msg)
	c.expectFrame(ws.OpText, []byte("hello"))

	st := srv.Stats()
	check := func(name string, got, want uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	check("Open", uint64(st.Open), 1)
	check("Sockets", uint64(st.Sockets), 1)
	check("FramesIn", st.FramesIn, 1)
	check("FramesOut", st.FramesOut, 1)
	check("MessagesIn", st.MessagesIn, 1)
	check("BytesIn", st.BytesIn, uint64(len(req)+len(msg)))
	check("BytesOut", st.BytesOut, uint64(len(head)+2+5))
	check("Listener.Accepted", st.Listener.Accepted, 1)

	c.writeFrame(ws.OpPing, true, []byte("p"))
	c.expectFrame(ws.OpPong, []byte("p"))
	c.writeFrame(ws.OpClose, true, closeBody(ws.StatusNormalClosure, ""))
	c.expectClose(ws.StatusNormalClosure)
	c.expectEOF()
	h.waitClosed(t, 1)

	st = srv.Stats()
	check("Open after close", uint64(st.Open), 0)
	check("Sockets after close", uint64(st.Sockets), 0)
	check("FramesIn after close", st.FramesIn, 3)
	check("FramesOut after close", st.FramesOut, 3)
	check("MessagesIn after close", st.MessagesIn, 1)
	for reason, n := range st.Refused {
		check("Refused["+reason+"]", n, 0)
	}
}

// TestMaxSockets: connections beyond MaxSockets are refused at once,
// whatever state the held ones are in, and admitted again once one closes.
func TestMaxSockets(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{MaxSockets: 2}, h)
	a := open(t, srv)    // open
	b := dial(t, srv, 0) // still in its handshake
	waitFor(t, "both sockets to be held", ioTimeout, func() bool { return srv.Stats().Sockets == 2 })
	// The socket over the limit is reset: connect or the first read fails.
	if over, err := net.DialTimeout("tcp", srv.Addr().String(), ioTimeout); err == nil {
		defer over.Close()
		over.SetReadDeadline(time.Now().Add(ioTimeout))
		if n, err := over.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Fatalf("the socket over the limit read %d bytes, %v; want it closed", n, err)
		}
	}
	st := srv.Stats()
	if got := st.Refused[conn.RefusedMaxSockets]; got != 1 {
		t.Errorf("Refused[%q] = %d, want 1", conn.RefusedMaxSockets, got)
	}
	if st.Sockets != 2 {
		t.Errorf("Sockets = %d, want 2", st.Sockets)
	}
	// The held connections still work.
	a.writeFrame(ws.OpText, true, []byte("fine"))
	a.expectFrame(ws.OpText, []byte("fine"))
	b.write([]byte(upgradeRequest("/")))
	if resp, _ := b.readHead(); resp.StatusCode != 101 {
		t.Fatalf("held handshake: status %d", resp.StatusCode)
	}
	// One goes, and there is room again.
	a.nc.Close()
	waitFor(t, "a socket to be freed", ioTimeout, func() bool { return srv.Stats().Sockets == 1 })
	c := open(t, srv)
	c.writeFrame(ws.OpText, true, []byte("admitted"))
	c.expectFrame(ws.OpText, []byte("admitted"))
}

// TestConnIdentity checks ID, RemoteAddr and the per-connection value.
func TestConnIdentity(t *testing.T) {
	h := &testHandler{}
	h.onOpen = func(c *conn.Conn) { c.SetValue(fmt.Sprintf("conn-%d", c.ID())) }
	h.onMessage = func(c *conn.Conn, _ ws.OpCode, _ []byte) bool {
		c.WriteMessage(ws.OpText, []byte(c.Value().(string)+" "+c.RemoteAddr().String()))
		return true
	}
	srv := startServer(t, conn.Config{}, h)
	seen := map[uint64]bool{}
	for i := range 3 {
		c := open(t, srv)
		sc := h.waitOpened(t, i+1)
		if sc.ID() == 0 || seen[sc.ID()] {
			t.Errorf("connection %d has ID %d, seen before: %v", i, sc.ID(), seen[sc.ID()])
		}
		seen[sc.ID()] = true
		local := netip.MustParseAddrPort(c.nc.LocalAddr().String())
		c.writeFrame(ws.OpText, true, []byte("who am I?"))
		c.expectFrame(ws.OpText, []byte(fmt.Sprintf("conn-%d %s", sc.ID(), local)))
	}
}

func TestConnSend(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	sc := h.waitOpened(t, 1)

	p := []byte("pushed")
	if !sc.Send(ws.OpText, p) {
		t.Fatal("Send reported the server shut down")
	}
	copy(p, "XXXXXX") // Send must have copied the payload
	c.expectFrame(ws.OpText, []byte("pushed"))

	// Concurrent senders: every message arrives, and each sender's
	// messages arrive in the order it sent them.
	const senders, each = 4, 50
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				if !sc.Send(ws.OpBinary, []byte(fmt.Sprintf("%d:%d", s, i))) {
					t.Errorf("Send %d:%d refused", s, i)
				}
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		f := c.mustReadFrame()
		var s, i int
		if _, err := fmt.Sscanf(string(f.Payload), "%d:%d", &s, &i); err != nil || s < 0 || s >= senders {
			t.Fatalf("unexpected message %q", f.Payload)
		}
		if i != next[s] {
			t.Fatalf("sender %d: got message %d, want %d", s, i, next[s])
		}
		next[s]++
	}
	wg.Wait()

	// Sending to a closed connection is dropped quietly.
	c.nc.Close()
	h.waitClosed(t, 1)
	if !sc.Send(ws.OpText, []byte("to nobody")) {
		t.Error("Send on a closed connection of a running server reported false")
	}
	done := make(chan bool, 1)
	sc.Do(func() { done <- sc.Open() })
	if <-done {
		t.Error("Open() is true after OnClose")
	}
}

func TestConnDo(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	sc := h.waitOpened(t, 1)

	type result struct {
		open   bool
		queued int
		err    error
	}
	res := make(chan result, 1)
	if !sc.Do(func() {
		err := sc.WriteMessage(ws.OpText, []byte("from Do"))
		res <- result{open: sc.Open(), queued: sc.QueuedBytes(), err: err}
	}) {
		t.Fatal("Do reported the server shut down")
	}
	select {
	case r := <-res:
		if !r.open || r.queued != 0 || r.err != nil {
			t.Errorf("in Do: Open %v, QueuedBytes %d, WriteMessage %v; want true, 0, nil", r.open, r.queued, r.err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Do did not run")
	}
	c.expectFrame(ws.OpText, []byte("from Do"))
}

// TestConnAfterShutdown: Send and Do report false once the loops stopped.
func TestConnAfterShutdown(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	sc := h.waitOpened(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	srv.Shutdown(ctx) // the client does not answer: cut at ctx end
	c.expectClose(ws.StatusGoingAway)
	if sc.Send(ws.OpText, []byte("late")) {
		t.Error("Send after Shutdown reported true")
	}
	if sc.Do(func() { t.Error("Do ran after Shutdown") }) {
		t.Error("Do after Shutdown reported true")
	}
}

// TestWriteFrame encodes a message once with AppendFrame and writes the
// same bytes to several connections.
func TestWriteFrame(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	var clients []*client
	for range 3 {
		clients = append(clients, open(t, srv))
	}
	h.waitOpened(t, 3)
	for _, size := range []int{0, 125, 126, 65535, 65536} {
		payload := pattern(size)
		frame := conn.AppendFrame([]byte("prefix kept"), ws.OpBinary, payload)
		if !bytes.HasPrefix(frame, []byte("prefix kept")) {
			t.Fatal("AppendFrame did not append")
		}
		frame = frame[len("prefix kept"):]
		for _, sc := range h.openedConns() {
			errc := make(chan error, 1)
			sc.Do(func() { errc <- sc.WriteFrame(frame) })
			if err := <-errc; err != nil {
				t.Fatalf("WriteFrame: %v", err)
			}
		}
		for _, c := range clients {
			c.expectFrame(ws.OpBinary, payload)
		}
	}
	if st := srv.Stats(); st.FramesOut != 15 {
		t.Errorf("FramesOut = %d, want 15", st.FramesOut)
	}
}

// TestManyConnections runs connections on several loops at once.
func TestManyConnections(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{Loops: 3}, h)
	const n = 30
	t.Run("clients", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				c := open(t, srv)
				for j := range 10 {
					p := []byte(fmt.Sprintf("client %d message %d", i, j))
					c.writeFrame(ws.OpText, true, p)
					c.expectFrame(ws.OpText, p)
				}
				c.writeFrame(ws.OpClose, true, closeBody(ws.StatusNormalClosure, ""))
				c.expectClose(ws.StatusNormalClosure)
				c.expectEOF()
			})
		}
	})
	waitFor(t, "all connections to close", ioTimeout, func() bool { return len(h.closed()) == n })
	if st := srv.Stats(); st.MessagesIn != n*10 || st.Sockets != 0 || st.Open != 0 {
		t.Errorf("MessagesIn = %d, Sockets = %d, Open = %d; want %d, 0, 0", st.MessagesIn, st.Sockets, st.Open, n*10)
	}
}

// TestListenTwice: a second Listen must either be refused or add a
// listener that Shutdown closes like the first; it must not leave the
// first one open behind the server's back.
func TestListenTwice(t *testing.T) {
	h := &testHandler{}
	srv, err := conn.NewServer(conn.Config{}, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	first := srv.Addr().String()
	if err := srv.Listen("tcp", "127.0.0.1:0"); err != nil {
		srv.Shutdown(context.Background())
		return // refusing a second listener is fine
	}
	second := srv.Addr().String()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for _, addr := range []string{first, second} {
		if c, err := net.DialTimeout("tcp", addr, ioTimeout); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Shutdown", addr)
		}
	}
}
