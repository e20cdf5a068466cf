package load_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatecast/gatecast/bench/baseline"
	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/certs"
)

// tlsListener listens on loopback with a fresh self-signed certificate,
// whose PEM file it returns for the clients to trust.
func tlsListener(t *testing.T) (net.Listener, string) {
	t.Helper()
	return tlsListenerOver(t, nil)
}

// tlsListenerOver is tlsListener with TLS over what wrap makes of each
// accepted socket (nil: the socket).
func tlsListenerOver(t *testing.T, wrap func(net.Conn) net.Conn) (net.Listener, string) {
	t.Helper()
	certPEM, keyPEM, err := certs.SelfSigned(certs.DefaultHosts, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrapListener{ln, wrap}
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}}), caFile
}

type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// splitWriter writes the first 3 bytes of every write, pauses, then the
// rest, so that a TLS record arrives in two parts, some sweeps apart.
type splitWriter struct{ net.Conn }

func (w splitWriter) Write(p []byte) (int, error) {
	if len(p) <= 3 {
		return w.Conn.Write(p)
	}
	n, err := w.Conn.Write(p[:3])
	if err != nil {
		return n, err
	}
	time.Sleep(25 * time.Millisecond)
	m, err := w.Conn.Write(p[3:])
	return n + m, err
}

// startTLSBaseline serves the baseline over TLS.
func startTLSBaseline(t *testing.T) (*baseline.Server, load.ClientConfig) {
	t.Helper()
	ln, caFile := tlsListener(t)
	s := new(baseline.Server)
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return s, load.ClientConfig{URL: "wss://" + ln.Addr().String() + "/", TLSCAFile: caFile}
}

func TestTLSIdlePrimedHold(t *testing.T) {
	s, cfg := startTLSBaseline(t)
	cfg.Conns, cfg.Source, cfg.Prime, cfg.Sweep = 20, "127.0.0.4", 16<<10, 10*time.Millisecond
	control, release := io.Pipe()
	events, done := runClient(t, cfg, control)

	if open := events.next(t); open.Open != 20 || open.Failed != 0 {
		t.Fatalf("open event = %+v, want 20 open (each primed with 16 KiB)", open)
	}
	checkFor(t, 5*time.Second, "server never saw 20 connections", func() bool { return s.Conns() == 20 })
	time.Sleep(50 * time.Millisecond) // not a wait: five sweeps must leave the connections alone
	if n := s.Conns(); n != 20 {
		t.Fatalf("server holds %d connections during the hold, want 20", n)
	}
	release.Close()
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Lost != 0 {
		t.Fatalf("result = %+v, want none lost", res)
	}
	checkFor(t, 5*time.Second, "connections not closed after release", func() bool { return s.Conns() == 0 })
}

func TestTLSIdleAnswersPings(t *testing.T) {
	// The server pings twice and closes, every TLS record arriving in two
	// parts some sweeps apart: the client must keep the partial records
	// and answer both pings and the close.
	ponged := make(chan string, 2)
	closeAnswered := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetPongHandler(func(data string) error { ponged <- data; return nil })
		read := make(chan error, 1)
		go func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					read <- err
					return
				}
			}
		}()
		c.WriteControl(websocket.PingMessage, []byte("one"), time.Now().Add(time.Second))
		time.Sleep(30 * time.Millisecond)
		c.WriteControl(websocket.PingMessage, []byte("two"), time.Now().Add(time.Second))
		time.Sleep(100 * time.Millisecond)
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(time.Second))
		closeAnswered <- <-read
	})
	ln, caFile := tlsListenerOver(t, func(c net.Conn) net.Conn { return splitWriter{c} })
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	cfg := load.ClientConfig{URL: "ws://" + ln.Addr().String() + "/", TLS: true, TLSCAFile: caFile, Conns: 1, Sweep: 10 * time.Millisecond}
	control, release := io.Pipe()
	events, done := runClient(t, cfg, control)
	if open := events.next(t); open.Open != 1 {
		t.Fatalf("open event = %+v, want 1 open", open)
	}
	for _, want := range []string{"one", "two"} {
		select {
		case got := <-ponged:
			if got != want {
				t.Errorf("pong carries %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the idle TLS client never answered ping %q", want)
		}
	}
	select {
	case err := <-closeAnswered:
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("the client answered the close with %v, want its code echoed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the idle TLS client never answered the close")
	}
	release.Close()
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Lost != 1 {
		t.Errorf("result = %+v, want the connection counted as lost", res)
	}
}

func TestTLSEcho(t *testing.T) {
	_, cfg := startTLSBaseline(t)
	cfg.Conns, cfg.Mode, cfg.Source, cfg.Size, cfg.Rounds, cfg.Duration = 4, load.Echo, "127.0.0.5", 20000, 40, 20*time.Second
	events, done := runClient(t, cfg, nil)
	if open := events.next(t); open.Open != 4 {
		t.Fatalf("open event = %+v, want 4 open", open)
	}
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Roundtrips != 40 || res.Errors != 0 {
		t.Fatalf("result = %+v (first error %q), want 40 round trips and no errors", res, res.FirstError)
	}
}

func TestHandshakeLoops(t *testing.T) {
	_, tlsCfg := startTLSBaseline(t)
	_, plainURL := startBaseline(t)
	tests := []struct {
		name string
		cfg  load.ClientConfig
	}{
		{name: "plain", cfg: load.ClientConfig{URL: plainURL}},
		{name: "tls", cfg: tlsCfg},
		{name: "tls insecure", cfg: load.ClientConfig{URL: tlsCfg.URL, TLSInsecure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Conns, cfg.Mode, cfg.Source, cfg.Rounds, cfg.Duration = 3, load.Handshake, "127.0.0.6", 30, 20*time.Second
			events, done := runClient(t, cfg, nil)
			if open := events.next(t); open.Open != 3 || open.Failed != 0 {
				t.Fatalf("open event = %+v, want 3 loops ready", open)
			}
			res := events.next(t)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if res.Roundtrips != 30 || res.Errors != 0 || res.Latency.Count() != 30 {
				t.Fatalf("result = %+v (first error %q), want 30 connections opened and closed", res, res.FirstError)
			}
		})
	}
}

func TestHandshakeUntrustedCertificateFails(t *testing.T) {
	_, cfg := startTLSBaseline(t)
	cfg.TLSCAFile = "" // the system roots do not hold the self-signed certificate
	cfg.Conns, cfg.Mode, cfg.Rounds = 1, load.Handshake, 1
	events, done := runClient(t, cfg, nil)
	if open := events.next(t); open.Failed != 1 || open.FirstError == "" {
		t.Fatalf("open event = %+v, want the loop failed with a certificate error", open)
	}
	if err := <-done; err == nil {
		t.Fatal("RunClient succeeded with no loop able to connect")
	}
}
