package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/routes"
)

// httpEnv set in the environment makes the test binary an HTTP load client
// ("client") or the streaming benchmark's backend ("backend") instead of
// running tests. It is not clientEnv because those clients take only the
// WebSocket and NATS modes; init runs before TestMain, so the child never
// gets to the test flags.
const httpEnv = "GATECAST_BENCH_HTTP"

func init() {
	kind := os.Getenv(httpEnv)
	if kind == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch kind {
	case "client":
		var cfg load.ClientConfig
		if cfg, err = load.ParseHTTPClientArgs("http client", os.Args[1:], os.Stderr); err == nil {
			err = load.RunHTTPClient(ctx, cfg, os.Stdin, os.Stdout)
		}
	case "backend":
		var cfg load.TokenBackendConfig
		if cfg, err = load.ParseTokenBackendArgs("token backend", os.Args[1:], os.Stderr); err == nil {
			err = load.RunTokenBackend(ctx, cfg, os.Stdin, os.Stdout)
		}
	default:
		err = fmt.Errorf("%s=%q: want client or backend", httpEnv, kind)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childCommand returns the command that runs this test binary as an HTTP
// client or backend (see httpEnv) with args.
func childCommand(tb testing.TB, kind string, args []string) *exec.Cmd {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), httpEnv+"="+kind)
	return cmd
}

// newHTTPFleet returns a fleet of HTTP clients that are this test binary,
// killed when the benchmark ends.
func newHTTPFleet(tb testing.TB) *load.Fleet {
	tb.Helper()
	f := &load.Fleet{Command: func(cfg load.ClientConfig) *exec.Cmd {
		return childCommand(tb, "client", cfg.Args())
	}}
	tb.Cleanup(f.Kill)
	return f
}

// Constants of the HTTP proxy benchmark.
const (
	itemsSubject = "bench.items"
	// httpConns is the keep-alive connections of the closed loop, each
	// with one request in flight.
	httpConns = 64
	// httpProcs is the client processes they are spread over.
	httpProcs = 2
)

// noRateLimits turns off the gateway's default connect rate and HTTP
// request rate (10,000 requests a second), which a throughput benchmark
// would measure instead of the gateway.
var noRateLimits = admission.Config{
	ConnectRate: admission.Rate{PerSecond: -1},
	RequestRate: admission.Rate{PerSecond: -1},
}

// httpServer is a server kind of the HTTP benchmarks: a proxy in this
// process with the items backend (load.ItemsHandler) behind it.
type httpServer struct {
	name  string
	start func(tb testing.TB) (addr string, stop func())
}

// httpServers are gatecast with an HTTP route per request kind, served by
// the backend SDK over the gateway's NATS, and the baseline: Go's
// httputil.ReverseProxy in front of a net/http server with the same
// handler.
var httpServers = []httpServer{
	{name: "gatecast", start: startGatecastHTTP},
	{name: "reverseproxy", start: startReverseProxyHTTP},
}

// httpRequests are the request kinds: a small GET answered with a small
// JSON object, and a 4 KiB POST answered with its length.
var httpRequests = []struct {
	name string
	mode load.Mode
	path string
	size int
}{
	{name: "get", mode: load.HTTPGet, path: "/items/42"},
	{name: "post4k", mode: load.HTTPPost, path: "/items", size: 4096},
}

func startGatecastHTTP(tb testing.TB) (string, func()) {
	tb.Helper()
	g := startGatecastWith(tb, map[string]routes.HTTPRoute{
		"GET /items/{id}": {Subject: itemsSubject},
		"POST /items":     {Subject: itemsSubject},
	})
	nc, err := nats.Connect(g.NATSURL(), nats.Name("gatecast-bench items backend"))
	if err != nil {
		stopGatecast(tb, g)
		tb.Fatal(err)
	}
	bc, err := backend.New(nc, backend.Config{})
	if err == nil {
		_, err = bc.HandleHTTP(itemsSubject, load.ItemsHandler())
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		nc.Close()
		stopGatecast(tb, g)
		tb.Fatal(err)
	}
	return g.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := bc.Drain(ctx); err != nil {
			tb.Errorf("backend Drain: %v", err)
		}
		nc.Close()
		stopGatecast(tb, g)
	}
}

// startGatecastWith starts a gateway with these HTTP routes, its NATS on a
// loopback port, no rate limits and no access log.
func startGatecastWith(tb testing.TB, httpRoutes map[string]routes.HTTPRoute) *gateway.Gateway {
	tb.Helper()
	g, err := gateway.New(gateway.Config{
		Listen:      "127.0.0.1:0",
		AdminListen: "off",
		Admission:   noRateLimits,
		NATS:        gateway.NATSConfig{Listen: "127.0.0.1:0"},
		AccessLog:   accesslog.Config{Output: "off"},
		Routes:      routes.Config{HTTP: httpRoutes},
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := g.Start(); err != nil {
		tb.Fatal(err)
	}
	return g
}

func stopGatecast(tb testing.TB, g *gateway.Gateway) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		tb.Errorf("gatecast Shutdown: %v", err)
	}
}

func startReverseProxyHTTP(tb testing.TB) (string, func()) {
	tb.Helper()
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	stopBackend := serveHTTP(tb, bln, load.ItemsHandler())
	addr, stopProxy := startReverseProxy(tb, bln.Addr().String(), 0)
	return addr, func() {
		stopProxy()
		stopBackend()
	}
}

// startReverseProxy serves an httputil.ReverseProxy to the HTTP server at
// target on a loopback port, configured as a Go service in front of a
// backend would be: X-Forwarded headers set, and enough idle connections
// kept to the backend for every client's request to find one.
func startReverseProxy(tb testing.TB, target string, flush time.Duration) (string, func()) {
	tb.Helper()
	u := &url.URL{Scheme: "http", Host: target}
	tr := &http.Transport{
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport:     tr,
		FlushInterval: flush,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	stop := serveHTTP(tb, ln, rp)
	return ln.Addr().String(), func() {
		stop()
		tr.CloseIdleConnections()
	}
}

// serveHTTP serves h on ln until the returned stop, which closes the
// server and its connections.
func serveHTTP(tb testing.TB, ln net.Listener, h http.Handler) (stop func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("http Serve: %v", err)
		}
	}
}

// BenchmarkHTTPProxy measures requests through gatecast's HTTP routes to a
// backend against Go's httputil.ReverseProxy in front of the same handler,
// in the same run. 64 keep-alive connections, in two client processes, run
// a closed loop (send a request, read the whole answer, send the next):
// req=get is GET /items/42 answered with a 120-byte JSON object, req=post4k
// a POST of 4 KiB answered with its length. The backend runs in this
// process on both: behind gatecast it is the backend SDK on its own NATS
// connection, behind the reverse proxy a net/http server.
//
// One op is one request (b.N of them spread over the connections), so
// ns/op is 1/throughput, and B/op and allocs/op are this process's per
// request: proxy and backend (gatecast: also its embedded NATS server).
// Reported: req/s, p50-µs, p99-µs and server-cpu-ns/req (this process).
// It fails if any answer was not a 2xx with the expected body, if a
// connection failed, or if the server closed a keep-alive connection.
func BenchmarkHTTPProxy(b *testing.B) {
	for _, srv := range httpServers {
		func() {
			addr, stop := srv.start(b)
			defer stop()
			for _, req := range httpRequests {
				b.Run(fmt.Sprintf("server=%s/req=%s", srv.name, req.name), func(b *testing.B) {
					cfg := load.ClientConfig{URL: "http://" + addr + req.path, Mode: req.mode, Size: req.size, Conns: httpConns, Rounds: b.N}
					m := measureHTTP(b, b, cfg)
					b.ReportMetric(m.perSecond, "req/s")
					b.ReportMetric(us(m.hist.Percentile(0.5)), "p50-µs")
					b.ReportMetric(us(m.hist.Percentile(0.99)), "p99-µs")
					b.ReportMetric(m.serverCPU, "server-cpu-ns/req")
				})
			}
		}()
	}
}

// TestHTTPProxy runs every server and request kind small and checks every
// answer.
func TestHTTPProxy(t *testing.T) {
	for _, srv := range httpServers {
		t.Run("server="+srv.name, func(t *testing.T) {
			addr, stop := srv.start(t)
			defer stop()
			for _, req := range httpRequests {
				t.Run("req="+req.name, func(t *testing.T) {
					cfg := load.ClientConfig{URL: "http://" + addr + req.path, Mode: req.mode, Size: req.size, Conns: 8, Rounds: 400}
					m := measureHTTP(t, nil, cfg)
					if m.hist.Count() != 400 || m.perSecond <= 0 {
						t.Errorf("%d requests at %.0f/s, want 400", m.hist.Count(), m.perSecond)
					}
				})
			}
		})
	}
}

// httpMeasure is what one closed-loop run measured.
type httpMeasure struct {
	hist      *load.Histogram
	perSecond float64
	serverCPU float64 // ns of this process's CPU per request
}

// measureHTTP runs the closed loop of cfg (cfg.Rounds > 0) over httpProcs
// client processes and checks that every request got the answer it should
// have, on the keep-alive connection it went out on. With b set, only the
// loops are timed and allocations are reported.
func measureHTTP(tb testing.TB, b *testing.B, cfg load.ClientConfig) httpMeasure {
	tb.Helper()
	cfg.Duration, cfg.WaitStart = echoBound, true
	fleet := newHTTPFleet(tb)
	ctx, cancel := context.WithTimeout(context.Background(), echoBound+time.Minute)
	defer cancel()
	// No more processes than requests (a client given no rounds would loop
	// until its time bound) or connections.
	procs := min(httpProcs, cfg.Rounds, cfg.Conns)
	ws, err := fleet.Open(ctx, cfg, load.Shares(cfg.Conns, procs))
	if err != nil {
		tb.Fatal(err)
	}

	cpu0, _ := cpuTimes(tb, nil)
	evs := runWorkers(ctx, tb, b, ws, cfg.Size)
	cpu1, _ := cpuTimes(tb, nil)

	m := httpMeasure{hist: new(load.Histogram)}
	var ok uint64
	for _, ev := range evs {
		if ev.Errors > 0 {
			tb.Fatalf("%d requests or connections failed: %s", ev.Errors, ev.FirstError)
		}
		if ev.Lost > 0 {
			tb.Fatalf("the server closed %d keep-alive connections", ev.Lost)
		}
		ok += ev.Roundtrips
		if ev.Seconds > 0 {
			m.perSecond += float64(ev.Roundtrips) / ev.Seconds
		}
		m.hist.Merge(ev.Latency)
	}
	if ok != uint64(cfg.Rounds) || m.hist.Count() != ok {
		tb.Fatalf("%d requests answered with %d latencies, want %d (did the %v bound cut the loop?)", ok, m.hist.Count(), cfg.Rounds, echoBound)
	}
	m.serverCPU = float64(cpu1-cpu0) / float64(ok)
	return m
}
