package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatecast/gatecast/certs"
)

// writePair writes a self-signed pair for hosts and returns its files.
func writePair(t *testing.T, dir, name string, hosts ...string) certs.Pair {
	t.Helper()
	certPEM, keyPEM, err := certs.SelfSigned(hosts, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := certs.Pair{CertFile: filepath.Join(dir, name+".pem"), KeyFile: filepath.Join(dir, name+".key")}
	if err := os.WriteFile(p.CertFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.KeyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func served(t *testing.T, s *certs.Store, serverName string) *x509.Certificate {
	t.Helper()
	c, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: serverName})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf
}

func TestSNI(t *testing.T) {
	dir := t.TempDir()
	s, err := certs.New(certs.Config{Certificates: []certs.Pair{
		writePair(t, dir, "default", "localhost", "127.0.0.1"),
		writePair(t, dir, "api", "api.example.com"),
		writePair(t, dir, "wild", "*.apps.example.com"),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"":                          "localhost",
		"localhost":                 "localhost",
		"API.example.com.":          "api.example.com",
		"one.apps.example.com":      "*.apps.example.com",
		"deep.one.apps.example.com": "localhost", // a wildcard covers one label
		"unknown.org":               "localhost",
	} {
		if got := served(t, s, name).DNSNames[0]; got != want {
			t.Errorf("server name %q: got the certificate for %q, want %q", name, got, want)
		}
	}
}

// TestTLSHandshake: a client that trusts the self-signed certificate
// completes a handshake with the Store's configuration and negotiates h2.
func TestTLSHandshake(t *testing.T) {
	dir := t.TempDir()
	p := writePair(t, dir, "dev", certs.DefaultHosts...)
	s, err := certs.New(certs.Config{Certificates: []certs.Pair{p}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", s.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(p.CertFile)
	pool.AppendCertsFromPEM(pem)
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("handshake with a client trusting the development certificate: %v", err)
	}
	defer c.Close()
	if st := c.ConnectionState(); st.NegotiatedProtocol != "h2" || st.Version < tls.VersionTLS12 {
		t.Errorf("negotiated %q over %x, want h2 over TLS 1.2+", st.NegotiatedProtocol, st.Version)
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	p := writePair(t, dir, "site", "old.example.com")
	s, err := certs.New(certs.Config{Certificates: []certs.Pair{p}, ReloadInterval: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if swapped, err := s.Reload(); swapped || err != nil {
		t.Fatalf("Reload with unchanged files = %v, %v; want false, nil", swapped, err)
	}

	// A broken file keeps the old certificate in use.
	if err := os.WriteFile(p.KeyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if swapped, err := s.Reload(); swapped || err == nil {
		t.Fatalf("Reload with a broken key = %v, %v; want false and an error", swapped, err)
	}
	if got := served(t, s, "").DNSNames[0]; got != "old.example.com" {
		t.Fatalf("after a failed reload the store serves %q", got)
	}

	// A renewed pair takes over. (Its files may have the old sizes; a
	// later time makes the change visible on coarse file systems too.)
	writePair(t, dir, "site", "new.example.com")
	later := time.Now().Add(time.Hour)
	os.Chtimes(p.CertFile, later, later)
	os.Chtimes(p.KeyFile, later, later)
	if swapped, err := s.Reload(); !swapped || err != nil {
		t.Fatalf("Reload with a new pair = %v, %v; want true, nil", swapped, err)
	}
	if got := served(t, s, "").DNSNames[0]; got != "new.example.com" {
		t.Errorf("after reload the store serves %q, want new.example.com", got)
	}
	if st := s.Stats(); st.Reloads != 1 || st.Failures != 1 || st.NotAfter.IsZero() {
		t.Errorf("stats %+v: want 1 reload, 1 failure and an expiry", st)
	}
}

func TestWatcherStartClose(t *testing.T) {
	dir := t.TempDir()
	s, err := certs.New(certs.Config{Certificates: []certs.Pair{writePair(t, dir, "a", "a.test")}, ReloadInterval: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	s.Start() // a second Start starts nothing
	s.Close()
	s.Close()
	never, _ := certs.New(certs.Config{Certificates: []certs.Pair{writePair(t, dir, "b", "b.test")}}, nil)
	never.Close() // without Start: returns at once
}

func TestNewErrors(t *testing.T) {
	if _, err := certs.New(certs.Config{}, nil); !errors.Is(err, certs.ErrNoCertificates) {
		t.Errorf("no certificates: %v", err)
	}
	_, err := certs.New(certs.Config{Certificates: []certs.Pair{{CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}}}, nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing files: %v, want an error naming them", err)
	}
	if _, _, err := certs.SelfSigned(nil, time.Hour, time.Now()); err == nil {
		t.Error("SelfSigned without hosts succeeded")
	}
}
