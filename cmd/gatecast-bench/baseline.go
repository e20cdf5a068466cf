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

// runBaseline serves the baseline server until ctx ends: echo on every
// path, the broadcast hub on /broadcast, publishing with POST /publish.
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
// go_goroutines gauge and go_memstats_mallocs_total counter that gatecast's
// admin listener also serves, so the orchestrators read both servers
// alike, the count of connections and the broadcast hub's counters.
func metricsHandler(s *baseline.Server) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		var hub baseline.HubStats
		if h := s.Hub(); h != nil {
			hub = h.Stats()
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
		fmt.Fprintf(w, "# HELP go_memstats_mallocs_total Total number of heap objects allocated.\n# TYPE go_memstats_mallocs_total counter\ngo_memstats_mallocs_total %d\n", ms.Mallocs)
		fmt.Fprintf(w, "# HELP baseline_connections Open WebSocket connections.\n# TYPE baseline_connections gauge\nbaseline_connections %d\n", s.Conns())
		fmt.Fprintf(w, "# HELP baseline_broadcast_members Members of the broadcast hub.\n# TYPE baseline_broadcast_members gauge\nbaseline_broadcast_members %d\n", hub.Members)
		fmt.Fprintf(w, "# HELP baseline_broadcast_queued_total Messages queued for hub members.\n# TYPE baseline_broadcast_queued_total counter\nbaseline_broadcast_queued_total %d\n", hub.Queued)
		fmt.Fprintf(w, "# HELP baseline_broadcast_dropped_total Hub members dropped for a full send queue.\n# TYPE baseline_broadcast_dropped_total counter\nbaseline_broadcast_dropped_total %d\n", hub.Dropped)
	})
	return mux
}
