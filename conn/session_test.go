package conn_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// TestMaxConnsExact races many upgrades against a small cap: the server
// never admits one over it, refuses the rest with 503 and Retry-After, and
// admits again once connections go.
func TestMaxConnsExact(t *testing.T) {
	const max = 5
	h := &testHandler{}
	srv := startServer(t, conn.Config{MaxConns: max, Loops: 2}, h)

	var over atomic.Bool
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if srv.Stats().Admitted > max {
				over.Store(true)
			}
		}
	}()

	const n = 40
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted []net.Conn
		refused  int
		other    []string
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.DialTimeout("tcp", srv.Addr().String(), ioTimeout)
			if err != nil {
				mu.Lock()
				other = append(other, err.Error())
				mu.Unlock()
				return
			}
			nc.SetDeadline(time.Now().Add(ioTimeout))
			nc.Write([]byte(upgradeRequest("/")))
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				other = append(other, err.Error())
				nc.Close()
			case resp.StatusCode == http.StatusSwitchingProtocols:
				accepted = append(accepted, nc)
			case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
				refused++
				nc.Close()
			default:
				other = append(other, resp.Status)
				nc.Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-watched
	if len(other) > 0 {
		t.Fatalf("unexpected outcomes: %v", other)
	}
	if len(accepted) != max || refused != n-max || over.Load() {
		t.Fatalf("accepted %d, refused %d, ever over the cap: %v; want %d, %d, false", len(accepted), refused, over.Load(), max, n-max)
	}
	if got := srv.Stats().Refused[conn.RefusedMaxConns]; got != n-max {
		t.Errorf("Refused[max_conns] = %d, want %d", got, n-max)
	}
	for _, nc := range accepted {
		nc.Close()
	}
	waitFor(t, "the slots to free", ioTimeout, func() bool { return srv.Stats().Admitted == 0 })
	open(t, srv)
}

func TestSessionTimers(t *testing.T) {
	tests := []struct {
		name   string
		cfg    conn.Config
		talk   bool // the client sends a message every 50 ms
		reason string
	}{
		{name: "idle", cfg: conn.Config{IdleTimeout: 300 * time.Millisecond, MaxLifetime: -1}, reason: "idle timeout"},
		{name: "lifetime", cfg: conn.Config{IdleTimeout: -1, MaxLifetime: 500 * time.Millisecond}, talk: true, reason: "maximum connection duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, tt.cfg, h)
			c := open(t, srv)
			start := time.Now()
			done := make(chan struct{})
			if tt.talk {
				go func() {
					tick := time.NewTicker(50 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-done:
							return
						case <-tick.C:
							c.nc.Write(maskedFrame(ws.OpText, true, []byte("ping")))
						}
					}
				}()
			}
			var reason string
			for {
				f := c.mustReadFrame()
				if f.Header.OpCode == ws.OpClose {
					code, r := ws.ParseCloseFrameData(f.Payload)
					if code != ws.StatusGoingAway {
						t.Fatalf("close code %d, want 1001", code)
					}
					reason = r
					break
				}
			}
			close(done)
			c.writeFrame(ws.OpClose, true, closeBody(ws.StatusGoingAway, ""))
			if !strings.Contains(reason, tt.reason) {
				t.Fatalf("close reason %q, want it to mention %q", reason, tt.reason)
			}
			if time.Since(start) < 300*time.Millisecond {
				t.Fatalf("closed after %v, before its timer", time.Since(start))
			}
			if d := h.waitClosed(t, 1); d.Code != ws.StatusGoingAway {
				t.Errorf("OnClose %+v", d)
			}
		})
	}
}

// TestIdleTimeoutResetByTraffic: a client that keeps talking outlives
// several idle timeouts.
func TestIdleTimeoutResetByTraffic(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{IdleTimeout: 400 * time.Millisecond, MaxLifetime: -1}, h)
	c := open(t, srv)
	end := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(end) {
		c.writeFrame(ws.OpText, true, []byte("still here"))
		c.expectFrame(ws.OpText, []byte("still here"))
		time.Sleep(100 * time.Millisecond) // pacing the client, not waiting for the server
	}
	if st := srv.Stats(); st.IdleTimeouts != 0 || st.Open != 1 {
		t.Fatalf("idle timeouts %d, open %d: a talking client was closed", st.IdleTimeouts, st.Open)
	}
}

// TestCloseReplyReadAfterSoftFailure: after refusing a message it cannot
// take (too big, not UTF-8) the server keeps parsing, so the client's close
// reply ends the connection at once instead of at CloseTimeout.
func TestCloseReplyReadAfterSoftFailure(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		code  ws.StatusCode
	}{
		{"bad utf-8", maskedFrame(ws.OpText, true, []byte{0xff, 0xfe}), ws.StatusInvalidFramePayloadData},
		// The oversized frame's payload is skipped as it arrives, then the
		// close reply is read.
		{"frame too big", maskedFrame(ws.OpBinary, true, make([]byte, 100<<10)), ws.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{CloseTimeout: time.Minute}, h)
			c := open(t, srv)
			c.write(tt.frame)
			c.expectClose(tt.code)
			c.writeFrame(ws.OpClose, true, closeBody(tt.code, ""))
			c.expectEOF()
			if d := h.waitClosed(t, 1); d.Code != tt.code {
				t.Errorf("OnClose %+v, want %d", d, tt.code)
			}
			if st := srv.Stats(); st.CloseTimeouts != 0 {
				t.Errorf("CloseTimeouts = %d: the close reply was not read", st.CloseTimeouts)
			}
		})
	}
}
