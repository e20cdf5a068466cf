package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/admission/jwtauth"
	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/demo"
	"github.com/gatecast/gatecast/httpapi"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatecast/gatecast/broker"
	"github.com/gatecast/gatecast/certs"
	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/routes"
)

// Gateway is one gatecast node.
type Gateway struct {
	cfg      Config
	log      *slog.Logger
	ws       *conn.Server
	hub      *broker.Hub
	adm      *admission.Pipeline
	verifier *jwtauth.Verifier // nil without auth.jwt
	nc       *nats.Conn
	embedded *broker.Embedded
	reg      *prometheus.Registry
	token    string

	api     *httpapi.Handler // nil with http.enabled false
	apiSrv  *http.Server
	handoff *conn.HandoffListener
	access  *accesslog.Logger
	certs   *certs.Store // nil without tls

	admin   *http.Server
	adminLn net.Listener
	ready   atomic.Bool

	stopOnce sync.Once
	stopErr  error
}

// New validates cfg, connects to NATS (starting the embedded server unless
// cfg.NATS.URL is set) and builds the gateway; clients are accepted from
// Start on.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	table, err := routes.New(cfg.Routes)
	if err != nil {
		return nil, err
	}
	var auth *broker.Auth
	var verifier *jwtauth.Verifier
	if cfg.Auth.JWT != nil {
		if verifier, err = jwtauth.New(*cfg.Auth.JWT); err != nil {
			return nil, fmt.Errorf("auth.jwt: %w", err)
		}
		auth = &broker.Auth{Verifier: verifier, Source: cfg.Auth.WebSocket.Source, Scopes: cfg.Auth.WebSocket.Scopes}
		if src := cfg.Auth.WebSocket.Source; src.Kind == jwtauth.SourceProtocol {
			// The server answers with the marker, never the token.
			marker := src.Name
			if marker == "" {
				marker = jwtauth.DefaultProtocolMarker
			}
			cfg.WebSocket.Subprotocols = append(cfg.WebSocket.Subprotocols, marker)
		}
	}
	var fw *waf.Firewall
	if cfg.WAF != nil {
		if fw, err = waf.New(*cfg.WAF); err != nil {
			return nil, fmt.Errorf("waf: %w", err)
		}
	}
	if cfg.Auth.AdminScope == "" {
		cfg.Auth.AdminScope = "gatecast:admin"
	}
	cc, err := cfg.WebSocket.connConfig()
	if err != nil {
		return nil, err
	}
	if cfg.HTTP.DemoPage && !cfg.HTTP.enabled() {
		return nil, errors.New("http.demo_page needs HTTP on the client listener: remove http.enabled: false")
	}
	var store *certs.Store
	if cfg.TLS != nil {
		if store, err = certs.New(*cfg.TLS, log); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		cc.TLS = store.TLSConfig()
	}
	adm, err := admission.New(cfg.Admission)
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, log: log, reg: prometheus.NewRegistry(), adm: adm, verifier: verifier, certs: store}
	g.token = cfg.Admin.Token
	if g.token == "" {
		g.token = os.Getenv("GATECAST_ADMIN_TOKEN")
	}
	if g.token == "" {
		var b [16]byte
		rand.Read(b[:])
		g.token = hex.EncodeToString(b[:])
		log.Info("no admin token configured; generated one for the management API", "admin_token", g.token)
	}

	g.nc, g.embedded, err = broker.Connect(broker.Config{
		URL:         cfg.NATS.URL,
		Listen:      cfg.NATS.Listen,
		JetStream:   cfg.NATS.JetStream,
		Credentials: cfg.NATS.Credentials,
		CAFile:      cfg.NATS.CAFile,
		CertFile:    cfg.NATS.CertFile,
		KeyFile:     cfg.NATS.KeyFile,
		Name:        "gatecast",
		Log:         log,
	})
	if err != nil {
		return nil, err
	}
	if g.access, err = accesslog.New(cfg.AccessLog); err != nil {
		g.closeNATS()
		return nil, fmt.Errorf("access_log: %w", err)
	}
	g.hub, err = broker.NewHub(g.nc, table, broker.HubConfig{AccessLog: g.access, Node: cfg.NodeID, MaxPending: cfg.NATS.MaxPending, Admission: adm,
		Origins: admission.NewOriginPolicy(cfg.WebSocket.AllowedOrigins), Auth: auth, WAF: fw, Log: log})
	if err != nil {
		g.closeNATS()
		return nil, err
	}
	if cfg.HTTP.enabled() {
		src := cfg.Auth.HTTP.Source
		if src == (jwtauth.Source{}) {
			src, _ = jwtauth.ParseSource("header")
		}
		g.api, err = httpapi.New(g.nc, table, httpapi.Config{Node: g.hub.Node(), MaxInFlight: cfg.HTTP.MaxInFlight,
			KeepAlive: cfg.HTTP.SSEKeepAlive, CORS: cfg.HTTP.CORS, Admission: adm, Verifier: verifier, TokenSource: src,
			WAF: fw, AccessLog: g.access, Log: log})
		if err != nil {
			g.closeNATS()
			return nil, err
		}
		g.handoff = conn.NewHandoffListener(4096)
		cc.HTTP = g.handoff.Hand
		maxHead := cc.MaxHeadBytes
		if maxHead == 0 {
			maxHead = 10 << 10
		}
		var h http.Handler = g.api
		if cfg.HTTP.DemoPage {
			// Upgrades to the page's path never get here: the event loop
			// keeps them, so the page and its WebSocket share "/".
			h = demo.Handler(cc.Path, g.api)
		}
		g.apiSrv = &http.Server{Handler: h, MaxHeaderBytes: maxHead,
			ReadTimeout: cfg.HTTP.ReadTimeout, IdleTimeout: cfg.HTTP.IdleTimeout,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		if g.apiSrv.ReadTimeout == 0 {
			g.apiSrv.ReadTimeout = 30 * time.Second
		}
		if cc.TLS != nil {
			// TLS clients that negotiate h2 by ALPN get HTTP/2.
			g.apiSrv.Protocols = new(http.Protocols)
			g.apiSrv.Protocols.SetHTTP1(true)
			g.apiSrv.Protocols.SetHTTP2(true)
		}
		if g.apiSrv.IdleTimeout == 0 {
			g.apiSrv.IdleTimeout = 60 * time.Second
		}
	}
	g.ws, err = conn.NewServer(cc, g.hub)
	if err != nil {
		g.closeNATS()
		return nil, fmt.Errorf("websocket: %w", err)
	}
	if g.api != nil {
		if err := g.api.Start(); err != nil {
			g.ws.Shutdown(context.Background())
			g.closeNATS()
			return nil, err
		}
	}
	if err := g.hub.Start(g.ws); err != nil {
		g.ws.Shutdown(context.Background())
		g.closeNATS()
		return nil, err
	}
	g.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newWSCollector(g.ws.Stats),
		newBrokerCollector(g.hub.Stats),
		newAdmissionCollector(adm),
		newAccessLogCollector(g.access.Stats),
	)
	if g.api != nil {
		g.reg.MustRegister(newHTTPCollector(g.api.Stats))
	}
	return g, nil
}

// Start opens the client and admin listeners.
func (g *Gateway) Start() error {
	if err := g.ws.Listen("tcp", g.cfg.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", g.cfg.Listen, err)
	}
	if g.certs != nil {
		g.certs.Start()
	}
	if g.apiSrv != nil {
		g.handoff.SetAddr(g.ws.Addr)
		go func() {
			if err := g.apiSrv.Serve(g.handoff); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.log.Error("HTTP routes stopped", "err", err)
			}
		}()
	}
	if g.cfg.AdminListen != "off" {
		ln, err := net.Listen("tcp", g.cfg.AdminListen)
		if err != nil {
			return fmt.Errorf("admin listen %s: %w", g.cfg.AdminListen, err)
		}
		g.adminLn = ln
		g.admin = &http.Server{Handler: g.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := g.admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				g.log.Error("admin listener stopped", "err", err)
			}
		}()
	}
	g.ready.Store(true)
	admin := "off"
	if a := g.AdminAddr(); a != nil {
		admin = a.String()
	}
	natsURL := g.cfg.NATS.URL
	if natsURL == "" {
		natsURL = g.embedded.ClientURL()
		if natsURL == "" {
			natsURL = "in-process only"
		}
	}
	wsScheme, httpScheme := "ws", "http"
	if g.certs != nil {
		wsScheme, httpScheme = "wss", "https"
	}
	httpURL := "off"
	if g.api != nil {
		httpURL = httpScheme + "://" + g.ws.Addr().String() + "/"
	}
	g.log.Info("gatecast listening", "websocket", wsScheme+"://"+g.ws.Addr().String()+g.ws.Config().Path, "http", httpURL,
		"admin", admin, "nats", natsURL, "node", g.hub.Node())
	if g.cfg.HTTP.DemoPage {
		g.log.Info("demo page on (http.demo_page); keep it off in production", "url", httpURL)
	}
	return nil
}

// Addr is the client listener's address.
func (g *Gateway) Addr() net.Addr { return g.ws.Addr() }

// AdminAddr is the admin listener's address, or nil if it is off.
func (g *Gateway) AdminAddr() net.Addr {
	if g.adminLn == nil {
		return nil
	}
	return g.adminLn.Addr()
}

// NATSURL is where backends connect: the embedded server's client URL, or
// the configured URL.
func (g *Gateway) NATSURL() string {
	if g.cfg.NATS.URL != "" {
		return g.cfg.NATS.URL
	}
	return g.embedded.ClientURL()
}

// AdminToken is the bearer token the management API requires.
func (g *Gateway) AdminToken() string { return g.token }

// Node is this node's id.
func (g *Gateway) Node() string { return g.hub.Node() }

// Stats returns the WebSocket server's counters.
func (g *Gateway) Stats() conn.Stats { return g.ws.Stats() }

// BrokerStats returns the broker's counters.
func (g *Gateway) BrokerStats() broker.Stats { return g.hub.Stats() }

// Shutdown stops accepting, closes every WebSocket connection with 1001 and
// waits for the close handshakes until ctx ends or ShutdownTimeout passes;
// then it sends the last $disconnect events, closes NATS and the admin
// listener. Safe to call twice.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.stopOnce.Do(func() {
		g.ready.Store(false)
		ctx, cancel := context.WithTimeout(ctx, g.cfg.ShutdownTimeout)
		defer cancel()
		open := g.ws.Stats().Open
		httpDone := make(chan error, 1)
		if g.apiSrv != nil {
			// HTTP requests in progress (streams too) finish within the
			// same bound as the close handshakes.
			go func() { httpDone <- g.apiSrv.Shutdown(ctx) }()
		} else {
			httpDone <- nil
		}
		err := g.ws.Shutdown(ctx)
		g.log.Info("websocket connections closed", "open_at_start", open, "err", err)
		if herr := <-httpDone; herr != nil {
			g.apiSrv.Close()
			g.log.Info("HTTP requests cut at shutdown", "err", herr)
		}
		if g.api != nil {
			g.api.Close()
		}
		g.hub.Close()
		g.closeNATS()
		if g.admin != nil {
			actx, acancel := context.WithTimeout(context.Background(), time.Second)
			g.admin.Shutdown(actx)
			acancel()
		}
		g.access.Close()
		if g.certs != nil {
			g.certs.Close()
		}
		g.stopErr = err
	})
	return g.stopErr
}

func (g *Gateway) closeNATS() {
	if g.nc != nil {
		g.nc.Close()
	}
	g.embedded.Shutdown()
	if g.verifier != nil {
		g.verifier.Close()
	}
}

func (g *Gateway) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !g.ready.Load():
			http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
		case !g.nc.IsConnected():
			http.Error(w, "not ready: NATS disconnected, reconnecting", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("ready\n"))
		}
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	g.managementAPI(mux)
	return mux
}
