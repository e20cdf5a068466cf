package conn_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/certs"
	"github.com/gatecast/gatecast/conn"
)

// testTLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1 and a client config that trusts it.
func testTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	certPEM, keyPEM, err := certs.SelfSigned([]string{"127.0.0.1", "localhost"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2", "http/1.1"}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

func dialTLS(t *testing.T, srv *conn.Server, cfg *tls.Config) *client {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: ioTimeout}, "tcp", srv.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
}

// TestTLSWebSocket: wss:// over TLS 1.3 (gatecast's record layer after
// crypto/tls's handshake) and TLS 1.2 (crypto/tls throughout): messages
// of every size, bursts of records, and an idle TLS 1.3 connection that
// keeps no buffer after a 40 KiB message.
func TestTLSWebSocket(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint16
		layer   bool
	}{
		{"tls13", tls.VersionTLS13, true},
		{"tls12", tls.VersionTLS12, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scfg, ccfg := testTLS(t)
			ccfg.NextProtos = []string{"http/1.1"}
			ccfg.MaxVersion = tc.version
			h := &testHandler{}
			srv := startServer(t, conn.Config{TLS: scfg, MaxFrameBytes: 64 << 10}, h)
			c := dialTLS(t, srv, ccfg)
			c.write([]byte(upgradeRequest("/")))
			if resp, _ := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade over TLS: status %d", resp.StatusCode)
			}
			for _, size := range []int{0, 5, 125, 4096, 16 << 10, 40 << 10} {
				msg := bytes.Repeat([]byte("t"), size)
				c.writeFrame(ws.OpBinary, true, msg)
				c.expectFrame(ws.OpBinary, msg)
			}
			// Several frames in one TLS write: every record is processed
			// though the socket reports readable once.
			var burst []byte
			for i := range 20 {
				burst = append(burst, maskedFrame(ws.OpText, true, []byte(fmt.Sprint(i)))...)
			}
			c.write(burst)
			for i := range 20 {
				c.expectFrame(ws.OpText, []byte(fmt.Sprint(i)))
			}
			var layer bool
			buf := -1
			h.mu.Lock()
			sc := h.opened[0]
			h.mu.Unlock()
			done := make(chan struct{})
			sc.Do(func() { layer, buf = conn.TLSHeld(sc); close(done) })
			<-done
			if layer != tc.layer {
				t.Fatalf("record layer in use: %v, want %v", layer, tc.layer)
			}
			if layer && buf != 0 {
				t.Fatalf("an idle TLS 1.3 connection holds a %d-byte record buffer", buf)
			}
			if st := srv.Stats(); st.TLSStayed != 0 || st.TLSErrors != 0 {
				t.Fatalf("TLSStayed %d, TLSErrors %d, want 0", st.TLSStayed, st.TLSErrors)
			}
			c.writeFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
			c.expectClose(ws.StatusNormalClosure)
		})
	}
}

// TestTLSResumption: the session ticket crypto/tls sends at the end of
// the handshake is counted by the record layer (the records after it
// open), and a second connection resumes from it.
func TestTLSResumption(t *testing.T) {
	scfg, ccfg := testTLS(t)
	ccfg.NextProtos = []string{"http/1.1"}
	ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	srv := startServer(t, conn.Config{TLS: scfg}, &testHandler{})
	for i, wantResumed := range []bool{false, true} {
		c := dialTLS(t, srv, ccfg)
		c.write([]byte(upgradeRequest("/")))
		if resp, _ := c.readHead(); resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("connection %d: status %d", i, resp.StatusCode)
		}
		c.writeFrame(ws.OpText, true, []byte("after the ticket"))
		c.expectFrame(ws.OpText, []byte("after the ticket"))
		if got := c.nc.(*tls.Conn).ConnectionState().DidResume; got != wantResumed {
			t.Fatalf("connection %d: resumed %v, want %v", i, got, wantResumed)
		}
		c.nc.Close()
	}
	if st := srv.Stats(); st.TLSStayed != 0 || st.TLSErrors != 0 {
		t.Fatalf("TLSStayed %d, TLSErrors %d, want 0", st.TLSStayed, st.TLSErrors)
	}
}

// TestTLSRecordErrors: a TLS 1.3 client whose records break the protocol
// is told why (an alert) and closed, and counted; one that sends
// close_notify is closed without an error.
func TestTLSRecordErrors(t *testing.T) {
	t.Run("tampered record", func(t *testing.T) {
		scfg, ccfg := testTLS(t)
		srv := startServer(t, conn.Config{TLS: scfg}, &testHandler{})
		raw, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		tamper := &tamperConn{Conn: raw}
		tc := tls.Client(tamper, ccfg)
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		tamper.flip = true
		tc.Write([]byte(upgradeRequest("/")))
		tc.SetReadDeadline(time.Now().Add(ioTimeout))
		_, err = tc.Read(make([]byte, 100))
		if err == nil || !strings.Contains(err.Error(), "bad record MAC") {
			t.Fatalf("client read after a tampered record: %v, want the server's bad_record_mac alert", err)
		}
		waitFor(t, "a TLS error counted", ioTimeout, func() bool { return srv.Stats().TLSErrors == 1 })
		waitFor(t, "the socket released", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
	})
	t.Run("close_notify", func(t *testing.T) {
		scfg, ccfg := testTLS(t)
		srv := startServer(t, conn.Config{TLS: scfg}, &testHandler{})
		c := dialTLS(t, srv, ccfg)
		c.write([]byte(upgradeRequest("/")))
		c.readHead()
		c.nc.Close() // crypto/tls sends close_notify first
		waitFor(t, "the socket released", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
		if n := srv.Stats().TLSErrors; n != 0 {
			t.Fatalf("TLSErrors %d after a close_notify, want 0", n)
		}
	})
}

// notifyWrite signals on wrote after each write.
type notifyWrite struct {
	net.Conn
	wrote chan struct{}
}

func (c *notifyWrite) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	select {
	case c.wrote <- struct{}{}:
	default:
	}
	return n, err
}

// tamperConn flips a bit in the last byte of every write once flip is
// set: the record's tag no longer matches.
type tamperConn struct {
	net.Conn
	flip bool
}

func (c *tamperConn) Write(p []byte) (int, error) {
	if c.flip && len(p) > 0 {
		p = bytes.Clone(p)
		p[len(p)-1] ^= 1
	}
	return c.Conn.Write(p)
}

func TestTLSGarbageClosedAndCounted(t *testing.T) {
	scfg, _ := testTLS(t)
	srv := startServer(t, conn.Config{TLS: scfg}, &testHandler{})
	c := dial(t, srv, 0)
	c.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) // plain HTTP to a TLS port
	c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
	io.Copy(io.Discard, c.nc) // crypto/tls may answer with an alert; then EOF
	waitFor(t, "a tls_handshake refusal", ioTimeout, func() bool { return srv.Stats().Refused[conn.RefusedTLSHandshake] == 1 })
	waitFor(t, "the socket to be released", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
}

// TestTLSHandshakeBacklog: a client that sends far more than a handshake
// while crypto/tls is busy (here: held in GetCertificate) is closed and
// counted instead of being buffered.
func TestTLSHandshakeBacklog(t *testing.T) {
	scfg, ccfg := testTLS(t)
	hold := make(chan struct{})
	cert := scfg.Certificates[0]
	scfg.Certificates = nil
	scfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		<-hold
		return &cert, nil
	}
	defer close(hold)
	srv := startServer(t, conn.Config{TLS: scfg}, &testHandler{})
	raw, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	hello := &notifyWrite{Conn: raw, wrote: make(chan struct{}, 1)}
	go tls.Client(hello, ccfg).Handshake() // sends the ClientHello, then waits
	<-hello.wrote
	junk := make([]byte, 64<<10)
	for range 4 {
		if _, err := raw.Write(junk); err != nil {
			break // closed already
		}
	}
	waitFor(t, "a tls_handshake refusal", ioTimeout, func() bool { return srv.Stats().Refused[conn.RefusedTLSHandshake] == 1 })
	waitFor(t, "the socket released", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
}

func TestTLSHandshakeTimeout(t *testing.T) {
	scfg, _ := testTLS(t)
	srv := startServer(t, conn.Config{TLS: scfg, HandshakeTimeout: 50 * time.Millisecond}, &testHandler{})
	c := dial(t, srv, 0) // never sends a ClientHello
	c.expectEOF()
	waitFor(t, "a handshake timeout", ioTimeout, func() bool { return srv.Stats().Refused[conn.RefusedHandshakeTimeout] == 1 })
}

func TestTLSHTTPHandoff(t *testing.T) {
	scfg, ccfg := testTLS(t)
	hl := conn.NewHandoffListener(16)
	srv := startServer(t, conn.Config{TLS: scfg, HTTP: hl.Hand}, &testHandler{})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Proto, r.URL.Path, body)
	})}
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetHTTP2(true)
	go hs.Serve(hl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		hs.Shutdown(ctx)
	})
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: ccfg.Clone(), ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		hc := &http.Client{Transport: tr, Timeout: ioTimeout}
		want := "HTTP/1.1"
		if h2 {
			want = "HTTP/2.0"
		}
		for i := range 2 { // the second request reuses the connection
			resp, err := hc.Post("https://"+srv.Addr().String()+"/p", "text/plain", bytes.NewReader([]byte(fmt.Sprint(i))))
			if err != nil {
				t.Fatalf("h2=%v request %d: %v", h2, i, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != fmt.Sprintf("%s /p %d", want, i) {
				t.Errorf("h2=%v request %d: got %q", h2, i, got)
			}
		}
		tr.CloseIdleConnections()
	}
	waitFor(t, "handed-off TLS sockets to be released", ioTimeout, func() bool { return srv.Stats().HTTPSockets == 0 })
}
