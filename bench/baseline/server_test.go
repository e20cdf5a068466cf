package baseline

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// start serves a Server on a loopback port and closes it when the test ends.
func start(t *testing.T) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := new(Server)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	return s, "ws://" + ln.Addr().String()
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

// checkFor polls cond until it holds or the deadline passes.
func checkFor(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", wait, what)
		}
	}
}

func TestEchoKeepsOpcodeAndBytes(t *testing.T) {
	tests := []struct {
		name string
		op   int
		msg  []byte
	}{
		{
			name: "text",
			op:   websocket.TextMessage,
			msg:  []byte("hello"),
		},
		{
			name: "binary",
			op:   websocket.BinaryMessage,
			msg:  []byte{0, 1, 2, 0xff},
		},
		{
			name: "empty binary",
			op:   websocket.BinaryMessage,
			msg:  []byte{},
		},
		{
			name: "larger than the read buffer",
			op:   websocket.BinaryMessage,
			msg:  bytes.Repeat([]byte("x"), 100<<10),
		},
	}
	_, url := start(t)
	c := dial(t, url+"/any/path")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.WriteMessage(tt.op, tt.msg); err != nil {
				t.Fatal(err)
			}
			op, got, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if op != tt.op || !bytes.Equal(got, tt.msg) {
				t.Errorf("echo = (%d, %d bytes), want (%d, %d bytes)", op, len(got), tt.op, len(tt.msg))
			}
		})
	}
}

func TestReadLimitClosesConnection(t *testing.T) {
	_, url := start(t)
	c := dial(t, url)
	if err := c.WriteMessage(websocket.BinaryMessage, make([]byte, maxMessageSize+1)); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("read after an oversized message: %v, want close 1009", err)
	}
}

func TestConnsCountsOpenConnections(t *testing.T) {
	s, url := start(t)
	a, b := dial(t, url), dial(t, url)
	checkFor(t, 5*time.Second, "Conns() never reached 2", func() bool { return s.Conns() == 2 })
	a.Close()
	checkFor(t, 5*time.Second, "Conns() never fell to 1", func() bool { return s.Conns() == 1 })
	b.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	checkFor(t, 5*time.Second, "Conns() never fell to 0", func() bool { return s.Conns() == 0 })
}

func TestCloseEndsConnectionsAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, url := start(t)
	conns := []*websocket.Conn{dial(t, url), dial(t, url), dial(t, url)}
	checkFor(t, 5*time.Second, "connections not registered", func() bool { return s.Conns() == len(conns) })

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := s.Conns(); n != 0 {
		t.Errorf("Conns() after Close = %d, want 0", n)
	}
	for i, c := range conns {
		if _, _, err := c.ReadMessage(); err == nil {
			t.Errorf("conn %d: read after Close succeeded", i)
		}
	}
	// Close waited for the pumps; what may remain is net/http winding down.
	checkFor(t, 5*time.Second, "goroutines left after Close", func() bool { return runtime.NumGoroutine() <= before+1 })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Close = %v, want http.ErrServerClosed", err)
	}
}
