package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Config says where NATS is. The zero value starts an embedded server
// listening on 127.0.0.1:4222.
type Config struct {
	// URL, if set, is an existing NATS server or cluster to join (a comma
	// separated list of nats:// URLs); no embedded server starts.
	URL string
	// Listen is the client address of the embedded server, for backends in
	// other processes. Zero means "127.0.0.1:4222"; a port of 0 picks a free
	// one; "off" accepts only the gateway's own in-process connection.
	Listen string
	// JetStream enables JetStream in the embedded server (off by default).
	JetStream bool
	// StoreDir is JetStream's directory; zero means a temporary one.
	StoreDir string

	// Credentials is a NATS credentials file (for URL).
	Credentials string
	// CAFile, CertFile and KeyFile configure TLS to URL.
	CAFile, CertFile, KeyFile string

	// Name is the client name shown in NATS monitoring.
	Name string
	// Log receives connection state changes; nil discards them.
	Log *slog.Logger
	// OnState, if set, is called with true on (re)connect and false on
	// disconnect, from a NATS goroutine.
	OnState func(connected bool)
}

// Embedded is an in-process nats-server.
type Embedded struct {
	srv *server.Server
}

// ClientURL is where backends in other processes connect, or "" when the
// embedded server does not listen.
func (e *Embedded) ClientURL() string {
	if e == nil || e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

// Shutdown stops the embedded server. Safe on nil.
func (e *Embedded) Shutdown() {
	if e == nil {
		return
	}
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// StartEmbedded starts an in-process nats-server.
func StartEmbedded(cfg Config) (*Embedded, error) {
	opts := &server.Options{
		ServerName: "gatecast-embedded",
		NoLog:      true,
		NoSigs:     true,
		JetStream:  cfg.JetStream,
		StoreDir:   cfg.StoreDir,
		// Slow backends must not stall the gateway's connection.
		MaxPending: 64 << 20,
		// An HTTP request body may be 10 MiB (Amazon's limit, the
		// default of http max_body_bytes); NATS' default is 1 MiB.
		MaxPayload: 16 << 20,
	}
	switch cfg.Listen {
	case "off":
		opts.DontListen = true
	default:
		listen := cfg.Listen
		if listen == "" {
			listen = "127.0.0.1:4222"
		}
		host, portStr, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("nats listen %q: %w", listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, fmt.Errorf("nats listen %q: bad port", listen)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, port
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats: not ready after 10s (is the port in use? set --nats-listen)")
	}
	return &Embedded{srv: ns}, nil
}

// Connect connects to NATS as cfg says, starting the embedded server when
// cfg.URL is empty. The connection reconnects forever with back-off and
// does not buffer publishes while disconnected (they fail at once, so
// memory stays flat during an outage).
func Connect(cfg Config) (*nats.Conn, *Embedded, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.Name
	if name == "" {
		name = "gatecast"
	}
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.ReconnectBufSize(-1),
		nats.PingInterval(20 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return // our own Close
			}
			log.Warn("nats disconnected; reconnecting", "err", err)
			if cfg.OnState != nil {
				cfg.OnState(false)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
			if cfg.OnState != nil {
				cfg.OnState(true)
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats error", "subject", subject, "err", err)
		}),
	}
	var emb *Embedded
	url := cfg.URL
	if url == "" {
		var err error
		if emb, err = StartEmbedded(cfg); err != nil {
			return nil, nil, err
		}
		opts = append(opts, nats.InProcessServer(emb.srv))
	} else {
		opts = append(opts, nats.RetryOnFailedConnect(true))
		if cfg.Credentials != "" {
			opts = append(opts, nats.UserCredentials(cfg.Credentials))
		}
		if cfg.CAFile != "" {
			opts = append(opts, nats.RootCAs(cfg.CAFile))
		}
		if cfg.CertFile != "" || cfg.KeyFile != "" {
			opts = append(opts, nats.ClientCert(cfg.CertFile, cfg.KeyFile))
		}
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		emb.Shutdown()
		return nil, nil, fmt.Errorf("nats connect: %w", err)
	}
	if cfg.OnState != nil {
		cfg.OnState(nc.IsConnected())
	}
	return nc, emb, nil
}
