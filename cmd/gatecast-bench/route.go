package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/netpoll"
	"github.com/gatecast/gatecast/protocol"
)

// routeConfig is the gatecast configuration of the route measurement: the
// default routes ($default sent to the backend as a request, the reply
// routed back to the sender).
const routeConfig = noConnectRate

// The subjects the backend answers on: the default route's, and the one
// the direct-NATS requesters use.
const (
	routeDefaultSubject = protocol.DefaultPrefix + ".default"
	routeDirectSubject  = "bench.direct"
)

// Paths of the route measurement.
const (
	pathDirect  = "direct-nats"
	pathGateway = "gateway"
)

// routeFlags configure the route orchestrator.
type routeFlags struct {
	gatecastBin       string
	gatecastArg       string
	conns             int
	size              int
	duration          time.Duration
	procs             int
	requestersPerConn int
	backendConns      int
	openTimeout       time.Duration
}

// routeRun is one path's measurement.
type routeRun struct {
	Path string `json:"path"`
	closedLoop
}

func runRoute(ctx context.Context, args []string) error {
	var f routeFlags
	fs := flag.NewFlagSet("gatecast-bench route", flag.ContinueOnError)
	fs.StringVar(&f.gatecastBin, "gatecast-bin", "", "path of a built gatecast binary (go build -o /tmp/gatecast ./cmd/gatecast)")
	fs.StringVar(&f.gatecastArg, "gatecast-args", "", "extra arguments for gatecast serve, split on spaces")
	fs.IntVar(&f.conns, "conns", 1000, "concurrent clients (WebSockets or NATS requesters), each with one request in flight")
	fs.IntVar(&f.size, "size", 64, "message size in bytes")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "length of each path's loop")
	fs.IntVar(&f.procs, "procs", 2, "client processes to spread the clients over")
	fs.IntVar(&f.requestersPerConn, "requesters-per-conn", 100, "direct-nats: requesters sharing one NATS connection")
	fs.IntVar(&f.backendConns, "backend-conns", 2, "NATS connections the backend answers from")
	fs.DurationVar(&f.openTimeout, "open-timeout", 60*time.Second, "time for the clients to connect")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case f.gatecastBin == "":
		return errors.New("route needs --gatecast-bin; build one with: go build -o /tmp/gatecast ./cmd/gatecast")
	case f.conns < 1 || f.procs < 1 || f.size < 0 || f.duration <= 0 || f.requestersPerConn < 1 || f.backendConns < 1:
		return errors.New("--conns, --procs, --duration, --requesters-per-conn and --backend-conns must be positive, --size not negative")
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return err
	}

	natsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	tf := targetFlags{target: targetGatecast, gatecastBin: f.gatecastBin, gatecastArg: f.gatecastArg, path: "/"}
	srv, err := startServerSpec(ctx, targetGatecast, &tf, serverSpec{config: routeConfig, natsListen: natsAddr})
	if err != nil {
		return err
	}
	defer srv.stop()
	natsURL := "nats://" + natsAddr
	stopBackend, err := startBackend(natsURL, f.backendConns)
	if err != nil {
		return err
	}
	defer stopBackend()

	fleet, err := newFleet()
	if err != nil {
		return err
	}
	defer fleet.Kill()
	var runs []routeRun
	for _, path := range []string{pathDirect, pathGateway} {
		cfg := load.ClientConfig{Conns: f.conns, Size: f.size, Duration: f.duration, WaitStart: true, OpenTimeout: f.openTimeout}
		if path == pathDirect {
			cfg.URL, cfg.Mode, cfg.Subject, cfg.RequestersPerConn = natsURL, load.NATSEcho, routeDirectSubject, f.requestersPerConn
		} else {
			cfg.URL, cfg.Mode = srv.url, load.Echo
		}
		r, err := measureRoute(ctx, path, srv, cfg, f.procs, fleet)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		runs = append(runs, r)
	}
	printRoute(os.Stdout, runs)
	return problemsError(runs, "valid", func(r routeRun) (string, []string) { return r.Path, r.Problems })
}

// startBackend answers every request on the default route's subject and
// on the direct subject with its body, from conns NATS connections in one
// queue group.
func startBackend(url string, conns int) (stop func(), err error) {
	var ncs []*nats.Conn
	stop = func() {
		for _, nc := range ncs {
			nc.Close()
		}
	}
	for range conns {
		nc, err := nats.Connect(url, nats.Name("gatecast-bench backend"))
		if err != nil {
			stop()
			return nil, fmt.Errorf("backend: %w", err)
		}
		ncs = append(ncs, nc)
		for _, subject := range []string{routeDefaultSubject, routeDirectSubject} {
			sub, err := nc.QueueSubscribe(subject, "bench", echoReply)
			if err != nil {
				stop()
				return nil, fmt.Errorf("backend: %w", err)
			}
			sub.SetPendingLimits(-1, -1) // never drop a request
		}
		if err := nc.Flush(); err != nil {
			stop()
			return nil, fmt.Errorf("backend: %w", err)
		}
	}
	return stop, nil
}

// echoReply answers a request with its body, saying it is binary when the
// gateway said the client's message was, so that the client gets a binary
// message back.
func echoReply(m *nats.Msg) {
	r := &nats.Msg{Subject: m.Reply, Data: m.Data}
	if mt := m.Header.Get(protocol.HeaderMessageType); mt != "" {
		r.Header = nats.Header{protocol.HeaderMessageType: []string{mt}}
	}
	m.RespondMsg(r)
}

// measureRoute runs one path's closed loops and merges what the clients
// report. ServerCPU is the gatecast process's, with its embedded NATS.
func measureRoute(ctx context.Context, path string, srv *serverProc, cfg load.ClientConfig, procs int, fleet *load.Fleet) (routeRun, error) {
	logf("%s: %d clients, %d-byte messages for %v", path, cfg.Conns, cfg.Size, cfg.Duration)
	loop, err := runClosedLoop(ctx, fleet, srv, cfg, procs)
	run := routeRun{Path: path, closedLoop: loop}
	if err != nil {
		return run, err
	}
	logf("%s: %d round trips, %.0f/s, p99 %.0fµs", path, run.Roundtrips, run.PerSecond, run.P99US)
	return run, nil
}
