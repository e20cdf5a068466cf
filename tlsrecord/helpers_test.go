package tlsrecord

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

var (
	certOnce sync.Once
	certPair tls.Certificate
	certPool *x509.CertPool
	certErr  error
)

// testCert is a self-signed certificate for "localhost", and a pool that
// trusts it; the same for every test.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	certOnce.Do(func() { certPair, certPool, certErr = makeCert() })
	if certErr != nil {
		t.Fatal(certErr)
	}
	return certPair, certPool
}

func makeCert() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// wholeRecords is the net.Conn under the server's tls.Conn in these
// tests, as conn's rawConn in the gateway: it hands crypto/tls one record
// at a time, so the handshake reads nothing past the client's Finished,
// and keeps a copy of everything written.
type wholeRecords struct {
	net.Conn
	in      []byte // read from the socket, not yet given to crypto/tls
	recLeft int    // bytes of the record being given still to give
	mu      sync.Mutex
	sent    bytes.Buffer
}

func (w *wholeRecords) Read(p []byte) (int, error) {
	for w.recLeft == 0 && len(w.in) < HeaderLen || w.recLeft > 0 && len(w.in) == 0 {
		buf := make([]byte, 4096)
		n, err := w.Conn.Read(buf)
		w.in = append(w.in, buf[:n]...)
		if err != nil && n == 0 {
			return 0, err
		}
	}
	if w.recLeft == 0 {
		w.recLeft = HeaderLen + int(binary.BigEndian.Uint16(w.in[3:5]))
	}
	n := copy(p, w.in[:min(len(w.in), w.recLeft)])
	w.in = w.in[n:]
	w.recLeft -= n
	return n, nil
}

func (w *wholeRecords) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.sent.Write(p)
	w.mu.Unlock()
	return w.Conn.Write(p)
}

// serverConfig is cfg with a GetConfigForClient that gives each
// connection's handshake its own Secrets.
func serverConfig(cfg *tls.Config, secrets map[net.Conn]*Secrets, mu *sync.Mutex) *tls.Config {
	cfg = cfg.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := cfg.Clone()
		c.GetConfigForClient = nil
		s := new(Secrets)
		c.KeyLogWriter = s
		mu.Lock()
		secrets[hello.Conn] = s
		mu.Unlock()
		return c, nil
	}
	return cfg
}

// pair is a crypto/tls client and a server that did its handshake with
// crypto/tls and then went on with a Layer.
type pair struct {
	client *tls.Conn
	server *Conn
	layer  *Layer
	state  tls.ConnectionState
	sent   int // records CountSent found
}

// dialPair connects a crypto/tls client (clientCfg, with RootCAs and
// ServerName filled in) to a server using serverCfg.
func dialPair(t testing.TB, serverCfg, clientCfg *tls.Config) *pair {
	t.Helper()
	cert, pool := testCert(t)
	if serverCfg == nil {
		serverCfg = &tls.Config{}
	}
	serverCfg = serverCfg.Clone()
	serverCfg.Certificates = []tls.Certificate{cert}
	var mu sync.Mutex
	secrets := map[net.Conn]*Secrets{}
	serverCfg = serverConfig(serverCfg, secrets, &mu)

	a, b := tcpPair(t)
	type result struct {
		p   *pair
		err error
	}
	done := make(chan result, 1)
	go func() {
		w := &wholeRecords{Conn: b}
		tc := tls.Server(w, serverCfg)
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		st := tc.ConnectionState()
		mu.Lock()
		s := secrets[w]
		mu.Unlock()
		l, err := NewServer(st.CipherSuite, s)
		if err != nil {
			done <- result{err: err}
			return
		}
		w.mu.Lock()
		flight := w.sent.Bytes()
		w.mu.Unlock()
		if err := l.CountSent(flight); err != nil {
			done <- result{err: err}
			return
		}
		done <- result{p: &pair{server: NewConn(b, l, w.in), layer: l, state: st, sent: int(l.out.seq)}}
	}()
	if clientCfg == nil {
		clientCfg = &tls.Config{}
	}
	clientCfg = clientCfg.Clone()
	clientCfg.RootCAs, clientCfg.ServerName = pool, "localhost"
	client := tls.Client(a, clientCfg)
	if err := client.Handshake(); err != nil {
		t.Fatal("client handshake:", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal("server:", r.err)
	}
	r.p.client = client
	t.Cleanup(func() { client.Close(); r.p.server.Close() })
	return r.p
}

func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	return a, b
}

// peers returns two Layers that talk to each other with suite id's keys:
// server as NewServer makes it, client with the directions swapped.
func peers(t testing.TB, id uint16) (server, client *Layer) {
	t.Helper()
	su := suiteByID(id)
	cs, ss := make([]byte, su.hashLen), make([]byte, su.hashLen)
	rand.Read(cs)
	rand.Read(ss)
	var s Secrets
	s.clientLen = copy(s.client[:], cs)
	s.serverLen = copy(s.server[:], ss)
	server, err := NewServer(id, &s)
	if err != nil {
		t.Fatal(err)
	}
	client = &Layer{suite: su, rekeyAt: rekeyAfter}
	client.in.set(su, ss)
	client.out.set(su, cs)
	return server, client
}
