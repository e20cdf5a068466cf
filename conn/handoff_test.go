package conn_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// startHandoff runs a server whose plain HTTP requests go to an
// http.Server answering "path=<path> body=<body>".
func startHandoff(t *testing.T, cfg conn.Config) (*conn.Server, *conn.HandoffListener) {
	t.Helper()
	hl := conn.NewHandoffListener(16)
	cfg.HTTP = hl.Hand
	srv := startServer(t, cfg, &testHandler{})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "path=%s body=%s", r.URL.Path, body)
	})}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(hl) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	})
	return srv, hl
}

func TestHandoffSharesThePort(t *testing.T) {
	srv, _ := startHandoff(t, conn.Config{})
	url := "http://" + srv.Addr().String()

	// Keep-alive: two requests over one handed-off connection, the first
	// with a body that arrived with the head.
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: ioTimeout}
	for i, want := range []string{"path=/a body=hello", "path=/b body="} {
		var resp *http.Response
		var err error
		if i == 0 {
			resp, err = hc.Post(url+"/a", "text/plain", strings.NewReader("hello"))
		} else {
			resp, err = hc.Get(url + "/b")
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != want {
			t.Errorf("request %d: got %q, want %q", i, got, want)
		}
	}
	if st := srv.Stats(); st.HandedOff != 1 || st.HTTPSockets != 1 {
		t.Errorf("after two keep-alive requests: HandedOff %d, HTTPSockets %d; want 1 and 1", st.HandedOff, st.HTTPSockets)
	}

	// The WebSocket endpoint on the same port still upgrades and echoes.
	c := open(t, srv)
	c.writeFrame(ws.OpText, true, []byte("ws"))
	c.expectFrame(ws.OpText, []byte("ws"))

	tr.CloseIdleConnections()
	waitFor(t, "the handed-off socket to be released", ioTimeout, func() bool { return srv.Stats().HTTPSockets == 0 })
}

func TestHandoffCountsAgainstMaxSockets(t *testing.T) {
	srv, _ := startHandoff(t, conn.Config{MaxSockets: 1})
	c := dial(t, srv, 0)
	c.write([]byte("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"))
	if resp, _ := c.readHead(); resp.StatusCode != http.StatusOK {
		t.Fatalf("first request: status %d", resp.StatusCode)
	}
	// The handed-off socket holds the only place: the next one is reset.
	if nc, err := net.DialTimeout("tcp", srv.Addr().String(), ioTimeout); err == nil {
		nc.SetReadDeadline(time.Now().Add(ioTimeout))
		_, err = nc.Read(make([]byte, 1))
		nc.Close()
		if err == nil {
			t.Fatal("second socket was served while a handed-off one held MaxSockets")
		}
	}
	waitFor(t, "a max_sockets refusal", ioTimeout, func() bool { return srv.Stats().Refused[conn.RefusedMaxSockets] == 1 })
}

func TestHandoffListenerClosed(t *testing.T) {
	srv, hl := startHandoff(t, conn.Config{})
	hl.Close()
	c := dial(t, srv, 0)
	c.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.expectEOF()
	waitFor(t, "the dropped hand-off to be counted and released", ioTimeout, func() bool {
		return hl.Dropped() == 1 && srv.Stats().HTTPSockets == 0
	})
}

func TestIsUpgradeDecidesByUpgradeHeader(t *testing.T) {
	srv, _ := startHandoff(t, conn.Config{})
	// An upgrade request on a path that is not the WebSocket path is still
	// a failed upgrade (404), not an HTTP request.
	c := dial(t, srv, 0)
	c.write([]byte(upgradeRequest("/elsewhere")))
	if resp, _ := c.readHead(); resp.StatusCode != http.StatusNotFound {
		t.Errorf("upgrade on another path: status %d, want 404", resp.StatusCode)
	}
	// The header is matched without regard to case.
	c = dial(t, srv, 0)
	c.write([]byte(buildRequest("GET / HTTP/1.1", replaced(baseHeaders(), "upgrade: WebSocket")...)))
	if resp, _ := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("upgrade: WebSocket: status %d, want 101", resp.StatusCode)
	}
	// A list naming websocket is an upgrade attempt, which gobwas/ws
	// refuses; it must not reach the HTTP side.
	c = dial(t, srv, 0)
	c.write([]byte(buildRequest("GET / HTTP/1.1", replaced(baseHeaders(), "Upgrade: h2c, websocket")...)))
	if resp, _ := c.readHead(); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("Upgrade: h2c, websocket: status %d, want 400 from the upgrader", resp.StatusCode)
	}
}
