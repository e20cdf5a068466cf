package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/routes"
)

// Gateway is one gatecast node.
type Gateway struct {
	cfg Config
	log *slog.Logger
	ws  *conn.Server
	reg *prometheus.Registry

	admin   *http.Server
	adminLn net.Listener
	ready   atomic.Bool

	stopOnce sync.Once
	stopErr  error
}

// New validates cfg and builds the gateway; nothing listens until Start.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	table, err := routes.New(cfg.Routes)
	if err != nil {
		return nil, err
	}
	cc, err := cfg.WebSocket.connConfig()
	if err != nil {
		return nil, err
	}
	srv, err := conn.NewServer(cc, &dispatcher{table: table})
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	g := &Gateway{cfg: cfg, log: log, ws: srv, reg: prometheus.NewRegistry()}
	g.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newWSCollector(srv.Stats),
	)
	return g, nil
}

// Start opens the client and admin listeners.
func (g *Gateway) Start() error {
	if err := g.ws.Listen("tcp", g.cfg.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", g.cfg.Listen, err)
	}
	if g.cfg.AdminListen != "off" {
		ln, err := net.Listen("tcp", g.cfg.AdminListen)
		if err != nil {
			g.ws.Shutdown(context.Background())
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
	g.log.Info("gatecast listening", "websocket", "ws://"+g.ws.Addr().String()+g.ws.Config().Path, "admin", admin)
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

// Stats returns the WebSocket server's counters.
func (g *Gateway) Stats() conn.Stats { return g.ws.Stats() }

// Shutdown stops accepting, closes every WebSocket connection with 1001 and
// waits for the close handshakes until ctx ends or ShutdownTimeout passes,
// then stops the admin listener. Safe to call twice.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.stopOnce.Do(func() {
		g.ready.Store(false)
		ctx, cancel := context.WithTimeout(ctx, g.cfg.ShutdownTimeout)
		defer cancel()
		open := g.ws.Stats().Open
		err := g.ws.Shutdown(ctx)
		g.log.Info("websocket connections closed", "open_at_start", open, "err", err)
		if g.admin != nil {
			actx, acancel := context.WithTimeout(context.Background(), time.Second)
			g.admin.Shutdown(actx)
			acancel()
		}
		g.stopErr = err
	})
	return g.stopErr
}

func (g *Gateway) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !g.ready.Load() {
			http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
