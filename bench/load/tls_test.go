package load_test

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

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
