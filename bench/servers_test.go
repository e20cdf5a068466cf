package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/bench/baseline"
	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/routes"
)

// benchServer is a server kind the benchmarks measure in this process.
type benchServer struct {
	name string
	// path is the URL path clients connect to; zero means "/".
	path string
	// start serves on a loopback port and returns its host:port, and a
	// stop that closes the server and waits until its goroutines are gone.
	start func(tb testing.TB) (addr string, stop func())
}

// servers lists the server kinds every benchmark runs against: gatecast
// and the goroutine-per-connection baseline, measured in the same run.
var servers = []benchServer{
	{name: "gatecast", start: startGatecast},
	{name: "baseline", start: startBaseline},
}

func startGatecast(tb testing.TB) (string, func()) {
	tb.Helper()
	g, err := gateway.New(gateway.Config{
		Listen:      "127.0.0.1:0",
		AdminListen: "off",
		Admission:   noConnectRate,
		AccessLog:   accesslog.Config{Output: "off"},           // the figures are for the gateway, not its logging
		WebSocket:   gateway.WebSocketConfig{MaxConns: 100000}, // above what one process can hold
		NATS:        gateway.NATSConfig{Listen: "off"},
		Routes: routes.Config{WebSocket: map[string]routes.Route{
			routes.KeyDefault: {Integration: routes.IntegrationEcho},
		}},
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := g.Start(); err != nil {
		tb.Fatal(err)
	}
	return g.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			tb.Errorf("gatecast Shutdown: %v", err)
		}
	}
}

func startBaseline(tb testing.TB) (string, func()) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := new(baseline.Server)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	return ln.Addr().String(), func() {
		s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("baseline Serve: %v", err)
		}
	}
}

// noConnectRate turns off the gateway's default connect rate (500 new
// connections a second), which every benchmark that opens thousands of
// connections at once would run into.
var noConnectRate = admission.Config{ConnectRate: admission.Rate{PerSecond: -1}}

// url returns the WebSocket URL of a server of this kind at addr.
func (s benchServer) url(addr string) string {
	p := s.path
	if p == "" {
		p = "/"
	}
	return "ws://" + addr + p
}
