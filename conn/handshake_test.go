package conn_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

func TestSampleAccept(t *testing.T) {
	if got := acceptFor(sampleKey); got != sampleAccept {
		t.Fatalf("accept for the RFC sample key = %q, want %q", got, sampleAccept)
	}
}

func TestHandshake(t *testing.T) {
	goodOrigin := func(origin []byte) bool { return string(origin) == "https://good.example" }
	// padTo returns a good upgrade request padded with an extra header to
	// exactly n bytes.
	padTo := func(n int) string {
		base := len(upgradeRequest("/", "X-Pad: "))
		return upgradeRequest("/", "X-Pad: "+strings.Repeat("p", n-base))
	}
	tests := []struct {
		name        string
		cfg         conn.Config
		req         string
		wantStatus  int
		wantHeaders map[string]string
		wantRefused string // the Stats.Refused reason counted, "" for none
	}{
		{
			name:        "good upgrade",
			req:         upgradeRequest("/"),
			wantStatus:  http.StatusSwitchingProtocols,
			wantHeaders: map[string]string{"Sec-WebSocket-Accept": sampleAccept, "Upgrade": "websocket", "Connection": "Upgrade"},
		},
		{
			name:        "version 8",
			req:         buildRequest("GET / HTTP/1.1", replaced(baseHeaders(), "Sec-WebSocket-Version: 8")...),
			wantStatus:  http.StatusUpgradeRequired,
			wantHeaders: map[string]string{"Sec-WebSocket-Version": "13"},
			wantRefused: conn.RefusedVersion,
		},
		{
			name:        "missing key",
			req:         buildRequest("GET / HTTP/1.1", without(baseHeaders(), "Sec-WebSocket-Key")...),
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "short key",
			req:         buildRequest("GET / HTTP/1.1", replaced(baseHeaders(), "Sec-WebSocket-Key: c2hvcnQ=")...),
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "missing version",
			req:         buildRequest("GET / HTTP/1.1", without(baseHeaders(), "Sec-WebSocket-Version")...),
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "missing host",
			req:         buildRequest("GET / HTTP/1.1", without(baseHeaders(), "Host")...),
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "missing upgrade",
			req:         buildRequest("GET / HTTP/1.1", without(baseHeaders(), "Upgrade")...),
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "malformed header line",
			req:         buildRequest("GET / HTTP/1.1", append(baseHeaders(), "no colon here")...),
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			// gobwas/ws answers a method other than GET with 405, which
			// tells the client more than a bare 400.
			name:        "not GET",
			req:         buildRequest("POST / HTTP/1.1", baseHeaders()...),
			wantStatus:  http.StatusMethodNotAllowed,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "HTTP/1.0",
			req:         buildRequest("GET / HTTP/1.0", baseHeaders()...),
			wantStatus:  http.StatusHTTPVersionNotSupported,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			// The request line cannot be parsed at all; the client must
			// still get a 400, not a bare close.
			name:        "garbage request line",
			req:         "garbage\r\n\r\n",
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "garbage bytes",
			req:         "\x00\x01\x02\xff\xfe\r\n\r\n",
			wantStatus:  http.StatusBadRequest,
			wantRefused: conn.RefusedBadRequest,
		},
		{
			name:        "wrong path",
			cfg:         conn.Config{Path: "/ws"},
			req:         upgradeRequest("/other"),
			wantStatus:  http.StatusNotFound,
			wantRefused: conn.RefusedPath,
		},
		{
			name:        "path prefix is not the path",
			cfg:         conn.Config{Path: "/ws"},
			req:         upgradeRequest("/ws/x"),
			wantStatus:  http.StatusNotFound,
			wantRefused: conn.RefusedPath,
		},
		{
			name:       "path with query",
			cfg:        conn.Config{Path: "/ws"},
			req:        upgradeRequest("/ws?token=abc"),
			wantStatus: http.StatusSwitchingProtocols,
		},
		{
			name:        "origin not allowed",
			cfg:         conn.Config{CheckOrigin: goodOrigin},
			req:         upgradeRequest("/", "Origin: https://evil.example"),
			wantStatus:  http.StatusForbidden,
			wantRefused: conn.RefusedOrigin,
		},
		{
			name:       "origin allowed",
			cfg:        conn.Config{CheckOrigin: goodOrigin},
			req:        upgradeRequest("/", "Origin: https://good.example"),
			wantStatus: http.StatusSwitchingProtocols,
		},
		{
			name:        "head over MaxHeadBytes",
			cfg:         conn.Config{MaxHeadBytes: 512},
			req:         padTo(513),
			wantStatus:  http.StatusRequestHeaderFieldsTooLarge,
			wantRefused: conn.RefusedHeadTooLarge,
		},
		{
			name:        "head far over MaxHeadBytes",
			cfg:         conn.Config{MaxHeadBytes: 512},
			req:         padTo(20 << 10),
			wantStatus:  http.StatusRequestHeaderFieldsTooLarge,
			wantRefused: conn.RefusedHeadTooLarge,
		},
		{
			name:       "head exactly MaxHeadBytes",
			cfg:        conn.Config{MaxHeadBytes: 512},
			req:        padTo(512),
			wantStatus: http.StatusSwitchingProtocols,
		},
		{
			// gobwas reads header lines through a 4 KiB buffer; a longer
			// line inside MaxHeadBytes must still work.
			name:       "header line longer than 4 KiB",
			cfg:        conn.Config{MaxHeadBytes: 8 << 10},
			req:        padTo(7 << 10),
			wantStatus: http.StatusSwitchingProtocols,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, tt.cfg, h)
			c := dial(t, srv, 0)
			c.write([]byte(tt.req))
			resp, raw := c.readHead()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; response:\n%s", resp.StatusCode, tt.wantStatus, raw)
			}
			for k, v := range tt.wantHeaders {
				if got := resp.Header.Get(k); !strings.EqualFold(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tt.wantStatus == http.StatusSwitchingProtocols {
				h.waitOpened(t, 1)
				// The connection works.
				c.writeFrame(ws.OpText, true, []byte("hi"))
				c.expectFrame(ws.OpText, []byte("hi"))
				return
			}
			// A refusal: the body (if any) and then the server's FIN.
			c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := io.ReadAll(c.br); err != nil {
				t.Fatalf("reading to EOF after a refusal: %v", err)
			}
			st := srv.Stats()
			if got := st.Refused[tt.wantRefused]; got != 1 {
				t.Errorf("Stats.Refused[%q] = %d, want 1 (all: %v)", tt.wantRefused, got, st.Refused)
			}
			if len(h.openedConns()) != 0 {
				t.Errorf("OnOpen ran for a refused handshake")
			}
			// The refused socket goes away once the client closes too.
			c.nc.Close()
			waitFor(t, "refused socket to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
		})
	}
}

func TestHandshakeSubprotocol(t *testing.T) {
	tests := []struct {
		name    string
		offer   string // Sec-WebSocket-Protocol header value, "" for none
		want    string
		wantHdr bool
	}{
		{name: "first acceptable of several", offer: "chat.v1, chat.v2, chat.v3", want: "chat.v2", wantHdr: true},
		{name: "only offer acceptable", offer: "chat.v3", want: "chat.v3", wantHdr: true},
		{name: "none acceptable", offer: "chat.v1", want: ""},
		{name: "none offered", offer: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []string // SelectProtocol runs on the loop, one request at a time
			h := &testHandler{}
			srv := startServer(t, conn.Config{SelectProtocol: func(p []byte) bool {
				seen = append(seen, string(p))
				return string(p) == "chat.v2" || string(p) == "chat.v3"
			}}, h)
			var extra []string
			if tt.offer != "" {
				extra = append(extra, "Sec-WebSocket-Protocol: "+tt.offer)
			}
			c := dial(t, srv, 0)
			c.write([]byte(upgradeRequest("/", extra...)))
			resp, raw := c.readHead()
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d, want 101:\n%s", resp.StatusCode, raw)
			}
			got, ok := resp.Header["Sec-Websocket-Protocol"]
			if ok != tt.wantHdr || (ok && (len(got) != 1 || got[0] != tt.want)) {
				t.Errorf("Sec-WebSocket-Protocol header = %q (present %v), want %q (present %v)", got, ok, tt.want, tt.wantHdr)
			}
			h.waitOpened(t, 1)
			if p := h.openedProtocols()[0]; p != tt.want {
				t.Errorf("Conn.Protocol() = %q, want %q", p, tt.want)
			}
			if tt.offer == "" && len(seen) != 0 {
				t.Errorf("SelectProtocol called with %q although nothing was offered", seen)
			}
		})
	}
}

// TestHandshakeByteAtATime sends the request one byte per write and waits
// for the server to have read each byte before sending the next, so the
// head really arrives in pieces, including its final CRLFCRLF.
func TestHandshakeByteAtATime(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := dial(t, srv, 0)
	req := []byte(upgradeRequest("/"))
	for i := range req {
		c.write(req[i : i+1])
		waitFor(t, "server to read the byte", ioTimeout, func() bool { return srv.Stats().BytesIn == uint64(i+1) })
	}
	resp, _ := c.readHead()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != sampleAccept {
		t.Fatalf("status %d accept %q, want 101 %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"), sampleAccept)
	}
	c.writeFrame(ws.OpText, true, []byte("after"))
	c.expectFrame(ws.OpText, []byte("after"))
}

// TestHandshakeTimeout is the slow loris: a client that sends part of its
// request and stops is cut off.
func TestHandshakeTimeout(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{HandshakeTimeout: 200 * time.Millisecond}, h)
	c := dial(t, srv, 0)
	c.write([]byte("GET / HTTP/1.1\r\nHost: example.com\r\n"))
	c.expectEOF()
	// The socket is closed before it is counted out.
	waitFor(t, "the socket to be counted out", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
	if got := srv.Stats().Refused[conn.RefusedHandshakeTimeout]; got != 1 {
		t.Errorf("Stats.Refused[%q] = %d, want 1", conn.RefusedHandshakeTimeout, got)
	}
	if len(h.openedConns()) != 0 || len(h.closed()) != 0 {
		t.Errorf("handler saw a connection that never upgraded")
	}
}

// TestHandshakeTimeoutSparesUpgraded checks that the handshake deadline
// stops applying once the upgrade is done.
func TestHandshakeTimeoutSparesUpgraded(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{HandshakeTimeout: 100 * time.Millisecond}, h)
	// On a loaded machine the upgrade itself may not make the deadline;
	// then try again.
	var c *client
	missed := 0
	for c == nil {
		if missed == 5 {
			t.Fatal("no upgrade made it within HandshakeTimeout in 5 tries")
		}
		try := dial(t, srv, 0)
		try.write([]byte(upgradeRequest("/")))
		try.nc.SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := try.br.Peek(1); err != nil {
			missed++ // closed by the timeout before the request was read
			continue
		}
		if resp, raw := try.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d:\n%s", resp.StatusCode, raw)
		}
		c = try
	}
	// A slow loris next to it is cut: its deadline has certainly passed
	// for the first connection too by then.
	loris := dial(t, srv, 0)
	loris.write([]byte("GET / HTTP/1.1\r\n"))
	loris.expectEOF()
	c.writeFrame(ws.OpText, true, []byte("still here"))
	c.expectFrame(ws.OpText, []byte("still here"))
	if got := srv.Stats().Refused[conn.RefusedHandshakeTimeout]; got != uint64(missed+1) {
		t.Errorf("Stats.Refused[%q] = %d, want %d", conn.RefusedHandshakeTimeout, got, missed+1)
	}
}

// TestHandshakePipelinedFrames sends frames in the same write as the
// request: they must be processed, not lost with the head buffer.
func TestHandshakePipelinedFrames(t *testing.T) {
	type msg struct {
		op ws.OpCode
		p  []byte
	}
	tests := []struct {
		name     string
		msgs     []msg
		holdBack int // bytes of the last frame sent only after the 101
	}{
		{name: "one whole frame", msgs: []msg{{ws.OpText, []byte("early")}}},
		{name: "two frames", msgs: []msg{{ws.OpText, []byte("one")}, {ws.OpBinary, []byte("two")}}},
		{name: "partial frame completed later", msgs: []msg{{ws.OpText, pattern(300)}}, holdBack: 100},
		{name: "partial header completed later", msgs: []msg{{ws.OpBinary, pattern(300)}}, holdBack: 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{}, h)
			c := dial(t, srv, 0)
			buf := []byte(upgradeRequest("/"))
			for _, m := range tt.msgs {
				buf = append(buf, maskedFrame(m.op, true, m.p)...)
			}
			split := len(buf) - tt.holdBack
			c.write(buf[:split])
			resp, _ := c.readHead()
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			if tt.holdBack > 0 {
				waitFor(t, "server to read the first part", ioTimeout, func() bool { return srv.Stats().BytesIn == uint64(split) })
				c.write(buf[split:])
			}
			for _, m := range tt.msgs {
				c.expectFrame(m.op, m.p)
			}
		})
	}
}
