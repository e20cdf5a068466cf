package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the tls section of the configuration.
type Config struct {
	// Certificates are the certificate chains and keys to serve, PEM
	// files. The first one answers clients that send no server name (or
	// one no certificate covers); the others are chosen by SNI from their
	// DNS names (wildcards included). At least one.
	Certificates []Pair `yaml:"certificates"`
	// ReloadInterval is how often the files are checked for changes.
	// Zero means 30 s; negative: never (call Reload, e.g. on SIGHUP).
	ReloadInterval time.Duration `yaml:"reload_interval"`
}

// Pair is one certificate chain and its private key.
type Pair struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Sentinel errors.
var (
	// ErrNoCertificates is returned by New for a Config without any.
	ErrNoCertificates = errors.New("certs: no certificates configured; set tls.certificates to [{cert_file, key_file}], or run `gatecast cert` for a development pair")
)

// Store serves the certificates of a Config. See the package
// documentation.
type Store struct {
	cfg Config
	log *slog.Logger

	set atomic.Pointer[certSet]

	mu       sync.Mutex // serialises Reload
	stamps   []stamp    // the files as last loaded; guarded by mu
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	started  atomic.Bool
	reloads  atomic.Uint64
	failures atomic.Uint64
}

// certSet is one generation of loaded certificates.
type certSet struct {
	certs  []*tls.Certificate
	byName map[string]*tls.Certificate // lower-case DNS name or "*.suffix"
}

// stamp is what tells whether a file changed.
type stamp struct {
	mod  time.Time
	size int64
}

// New loads every certificate; an error names the file and the problem.
func New(cfg Config, log *slog.Logger) (*Store, error) {
	if len(cfg.Certificates) == 0 {
		return nil, ErrNoCertificates
	}
	if cfg.ReloadInterval == 0 {
		cfg.ReloadInterval = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{cfg: cfg, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	set, stamps, err := load(cfg.Certificates)
	if err != nil {
		return nil, err
	}
	s.set.Store(set)
	s.stamps = stamps
	return s, nil
}

func load(pairs []Pair) (*certSet, []stamp, error) {
	set := &certSet{byName: make(map[string]*tls.Certificate)}
	var stamps []stamp
	var errs []error
	for i, p := range pairs {
		cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("tls.certificates[%d] (%s, %s): %w", i, p.CertFile, p.KeyFile, err))
			continue
		}
		leaf := cert.Leaf
		if leaf == nil {
			if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				errs = append(errs, fmt.Errorf("tls.certificates[%d] (%s): %w", i, p.CertFile, err))
				continue
			}
			cert.Leaf = leaf
		}
		set.certs = append(set.certs, &cert)
		for _, name := range leaf.DNSNames {
			name = strings.ToLower(name)
			if _, taken := set.byName[name]; !taken {
				set.byName[name] = &cert
			}
		}
		for _, f := range []string{p.CertFile, p.KeyFile} {
			st, err := os.Stat(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			stamps = append(stamps, stamp{st.ModTime(), st.Size()})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return set, stamps, nil
}

// GetCertificate picks the certificate for a client: the one whose DNS
// names cover its server name (exact, then wildcard), else the first.
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := s.set.Load()
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if c, ok := set.byName[name]; ok {
		return c, nil
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		if c, ok := set.byName["*"+name[i:]]; ok {
			return c, nil
		}
	}
	return set.certs[0], nil
}

// TLSConfig is a server configuration with modern defaults: TLS 1.2 and
// 1.3 (Go's cipher suites and curves), certificates from the Store, and
// ALPN offering HTTP/2 then HTTP/1.1.
func (s *Store) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// Reload loads the files again if any of them changed since the last
// load. On an error the certificates in use stay, and the error is
// returned (and logged by the watcher). It reports whether it swapped.
func (s *Store) Reload() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.changed() {
		return false, nil
	}
	set, stamps, err := load(s.cfg.Certificates)
	if err != nil {
		s.failures.Add(1)
		return false, err
	}
	s.set.Store(set)
	s.stamps = stamps
	s.reloads.Add(1)
	return true, nil
}

// changed reports whether a file's time or size differs. s.mu is held.
func (s *Store) changed() bool {
	i := 0
	for _, p := range s.cfg.Certificates {
		for _, f := range []string{p.CertFile, p.KeyFile} {
			st, err := os.Stat(f)
			if err != nil || i >= len(s.stamps) || !st.ModTime().Equal(s.stamps[i].mod) || st.Size() != s.stamps[i].size {
				return true
			}
			i++
		}
	}
	return false
}

// Start runs the watcher goroutine, which calls Reload every
// ReloadInterval until Close. It does nothing with a negative interval.
func (s *Store) Start() {
	if s.cfg.ReloadInterval < 0 || s.started.Swap(true) {
		return
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.cfg.ReloadInterval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				switch ok, err := s.Reload(); {
				case err != nil:
					s.log.Error("TLS certificates not reloaded; the previous ones stay in use", "err", err)
				case ok:
					s.log.Info("TLS certificates reloaded")
				}
			}
		}
	}()
}

// Close stops the watcher and waits for it. Safe to call more than once,
// and without Start.
func (s *Store) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	if s.started.Load() {
		<-s.done
	}
}

// Stats are the Store's counters.
type Stats struct {
	Reloads, Failures uint64
	// NotAfter is the earliest expiry among the certificates in use.
	NotAfter time.Time
}

// Stats returns the reload counters and the earliest expiry.
func (s *Store) Stats() Stats {
	st := Stats{Reloads: s.reloads.Load(), Failures: s.failures.Load()}
	for _, c := range s.set.Load().certs {
		if st.NotAfter.IsZero() || c.Leaf.NotAfter.Before(st.NotAfter) {
			st.NotAfter = c.Leaf.NotAfter
		}
	}
	return st
}
