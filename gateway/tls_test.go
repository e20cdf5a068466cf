package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatecast/gatecast/certs"
	"github.com/gatecast/gatecast/routes"
)

// TestTLSListener: with tls set, WebSocket (wss://) and HTTP routes
// (https://, HTTP/1.1 and HTTP/2) share the TLS port.
func TestTLSListener(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := certs.SelfSigned(certs.DefaultHosts, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair := certs.Pair{CertFile: filepath.Join(dir, "c.pem"), KeyFile: filepath.Join(dir, "c.key")}
	os.WriteFile(pair.CertFile, certPEM, 0o644)
	os.WriteFile(pair.KeyFile, keyPEM, 0o600)
	cfg := echoConfig()
	cfg.TLS = &certs.Config{Certificates: []certs.Pair{pair}}
	g, nc, bc := httpGateway(t, cfg, map[string]routes.HTTPRoute{"GET /hello": {Subject: "t.hello"}})
	handleHTTP(t, bc, nc, "t.hello", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello " + r.Proto)) })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	clientTLS := &tls.Config{RootCAs: pool}

	d := websocket.Dialer{TLSClientConfig: clientTLS, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial("wss://"+g.Addr().String()+"/", nil)
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("over tls"))
	if _, got, err := c.ReadMessage(); err != nil || string(got) != "over tls" {
		t.Fatalf("wss echo: %q, %v", got, err)
	}

	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: clientTLS.Clone(), ForceAttemptHTTP2: h2}
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + g.Addr().String() + "/hello")
		if err != nil {
			t.Fatalf("https (h2 %v): %v", h2, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		want := "hello HTTP/1.1"
		if h2 {
			want = "hello HTTP/2.0"
		}
		if string(body) != want {
			t.Errorf("https (h2 %v): %q, want %q (the protocol as the backend saw it)", h2, body, want)
		}
	}
	// Both requests left the loops; every TLS 1.3 connection stayed on
	// gatecast's record layer, without errors.
	metrics := get(t, "http://"+g.AdminAddr().String()+"/metrics")
	for _, want := range []string{
		`gatecast_http_handoffs_total{result="ok"} 2`,
		"gatecast_tls_crypto_tls_fallbacks_total 0",
		"gatecast_tls_record_errors_total 0",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
