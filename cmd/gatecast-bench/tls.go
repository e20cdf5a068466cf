package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gatecast/gatecast/certs"
)

// targetGatecastTLS is gatecast serving wss:// with a self-signed
// certificate: with --tls, the idle, echo and handshakes commands compare
// it with plain gatecast in the same run.
const targetGatecastTLS = "gatecast-tls"

// benchCert is the self-signed certificate (ECDSA P-256, for localhost,
// 127.0.0.1 and ::1, as `gatecast cert` writes) that the TLS target serves
// and its clients trust, in a temporary directory.
type benchCert struct {
	dir, certFile, keyFile string
}

func newBenchCert() (*benchCert, error) {
	certPEM, keyPEM, err := certs.SelfSigned(certs.DefaultHosts, 24*time.Hour, time.Now())
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatecast-bench-tls-*")
	if err != nil {
		return nil, err
	}
	b := &benchCert{dir: dir, certFile: filepath.Join(dir, "gatecast-dev.pem"), keyFile: filepath.Join(dir, "gatecast-dev.key")}
	if err := errors.Join(os.WriteFile(b.certFile, certPEM, 0o644), os.WriteFile(b.keyFile, keyPEM, 0o600)); err != nil {
		b.remove()
		return nil, err
	}
	return b, nil
}

// remove deletes the files; a nil benchCert has none.
func (b *benchCert) remove() {
	if b != nil {
		os.RemoveAll(b.dir)
	}
}

// configSection is the gateway configuration's tls section serving b.
func (b *benchCert) configSection() string {
	return fmt.Sprintf("tls:\n  certificates:\n    - cert_file: %q\n      key_file: %q\n", b.certFile, b.keyFile)
}

// registerTLS adds --tls to a command that can compare gatecast plain
// and with TLS.
func (t *targetFlags) registerTLS(fs *flag.FlagSet) {
	fs.BoolVar(&t.tls, "tls", false, "measure gatecast plain (ws://) and with TLS (wss://, a self-signed certificate) in the same run, instead of --target")
}

// targetsOrTLS returns the targets to measure: t.targets(), or with --tls
// gatecast plain and gatecast with TLS, for which it makes the certificate
// (t.cert; remove it when done). With --tls, --target may only say
// gatecast.
func (t *targetFlags) targetsOrTLS(fs *flag.FlagSet) ([]string, error) {
	if !t.tls {
		return t.targets()
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "target" })
	if set && t.target != targetGatecast {
		return nil, fmt.Errorf("--tls compares gatecast plain and with TLS: leave out --target %s", t.target)
	}
	t.target = targetGatecast
	if _, err := t.targets(); err != nil {
		return nil, err
	}
	cert, err := newBenchCert()
	if err != nil {
		return nil, fmt.Errorf("making the TLS certificate: %w", err)
	}
	t.cert = cert
	return []string{targetGatecast, targetGatecastTLS}, nil
}

// saveCPUProfile writes a CPU profile of the server over d (after a
// pause of wait) to dir/TARGET-cpu.pb.gz, for go tool pprof -top.
func saveCPUProfile(ctx context.Context, srv *serverProc, dir string, wait, d time.Duration) error {
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return ctx.Err()
	}
	return saveProfile(ctx, srv, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(d.Seconds()))), filepath.Join(dir, srv.name+"-cpu.pb.gz"), d+30*time.Second)
}

// saveHeapProfile writes the server's heap profile (after a GC) to
// dir/TARGET-conns=N.pb.gz, for go tool pprof -sample_index=inuse_space.
func saveHeapProfile(ctx context.Context, srv *serverProc, dir string, conns int) error {
	return saveProfile(ctx, srv, "/debug/pprof/heap?gc=1", filepath.Join(dir, fmt.Sprintf("%s-conns=%d.pb.gz", srv.name, conns)), 30*time.Second)
}

// saveProfile fetches path from the server's admin listener into file.
func saveProfile(ctx context.Context, srv *serverProc, path, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+srv.admin+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s%s says %s", srv.admin, path, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		logf("%s: profile in %s", srv.name, file)
	}
	return err
}
