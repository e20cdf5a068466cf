package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"

	"github.com/gatecast/gatecast/netpoll"

	"github.com/gatecast/gatecast/bench/baseline"
)

// runBaseline serves the baseline echo server until ctx ends.
func runBaseline(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gatecast-bench baseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8081", "address to serve WebSockets on")
	admin := fs.String("admin-listen", "", "address to serve /metrics on (go_goroutines); empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return fmt.Errorf("raising the file descriptor limit: %w", err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	s := new(baseline.Server)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	var adminSrv *http.Server
	if *admin != "" {
		aln, err := net.Listen("tcp", *admin)
		if err != nil {
			s.Close()
			return err
		}
		adminSrv = &http.Server{Handler: metricsHandler(s)}
		go adminSrv.Serve(aln)
	}
	fmt.Fprintf(os.Stderr, "baseline: serving ws://%s/\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	if adminSrv != nil {
		adminSrv.Close()
	}
	s.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// metricsHandler serves, in the Prometheus text format, the standard
// go_goroutines gauge that gatecast's admin listener also serves, so the
// orchestrators read both servers alike, and the count of connections.
func metricsHandler(s *baseline.Server) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
		fmt.Fprintf(w, "# HELP baseline_connections Open WebSocket connections.\n# TYPE baseline_connections gauge\nbaseline_connections %d\n", s.Conns())
	})
	return mux
}
