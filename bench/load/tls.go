package load

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// tlsConfig returns the client TLS configuration of c: c.TLSCAFile's
// certificates (or the system roots) trusted unless c.TLSInsecure, ALPN
// http/1.1 only (the server would pick h2 and hand the connection to its
// HTTP side), no session cache, so every dial is a full handshake, and
// full-size records if c.TLSFullRecords.
func (c ClientConfig) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{NextProtos: []string{"http/1.1"}, InsecureSkipVerify: c.TLSInsecure, DynamicRecordSizingDisabled: c.TLSFullRecords}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("load: --tls-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("load: --tls-ca %s holds no PEM certificate", c.TLSCAFile)
		}
	}
	return cfg, nil
}

// tlsClient wraps a dialed socket in TLS, as the ws.Dialer's TLSClient
// hook. The handshake runs on the first write, the upgrade request, under
// the dialer's deadline.
func tlsClient(nc net.Conn, host string, cfg *tls.Config) net.Conn {
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	return tls.Client(&sockConn{Conn: nc}, cfg)
}

// sockConn is the socket under a client's tls.Conn. It reads as the socket
// does, except while nonblocking is set (by the idle sweep): then a read
// never parks, and with nothing arrived it answers errNothingYet, a
// temporary net.Error, which crypto/tls passes up without breaking the
// connection (a partial record stays in its buffer). A deadline per
// connection per sweep would cost a timer each.
type sockConn struct {
	net.Conn
	// nonblocking is set and read only by the goroutine that reads the
	// tls.Conn.
	nonblocking bool
}

func (s *sockConn) Read(p []byte) (int, error) {
	if !s.nonblocking {
		return s.Conn.Read(p)
	}
	n, err := readNow(s.Conn, p)
	if n == 0 && err == nil {
		return 0, errNothingYet
	}
	return n, err
}

// errNothingYet is what a nonblocking sockConn read answers with no bytes
// arrived.
var errNothingYet net.Error = nothingYet{}

type nothingYet struct{}

func (nothingYet) Error() string   { return "load: nothing arrived yet" }
func (nothingYet) Timeout() bool   { return true }
func (nothingYet) Temporary() bool { return true }

// sweepTLS is sweep for a TLS connection: it decrypts every complete
// record that has arrived without waiting and answers the control frames
// in them.
func (c *conn) sweepTLS(buf []byte) error {
	c.sock.nonblocking = true
	defer func() { c.sock.nonblocking = false }()
	for {
		n, err := c.nc.Read(buf)
		c.pending = append(c.pending, buf[:n]...)
		if errors.Is(err, errNothingYet) {
			break
		}
		if err != nil {
			return err
		}
	}
	return c.handleFrames()
}
