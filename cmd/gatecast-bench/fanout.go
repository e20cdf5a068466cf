package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/bench/baseline"
	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/bench/procstat"
	"github.com/gatecast/gatecast/netpoll"
	"github.com/gatecast/gatecast/protocol"
)

// The topic every gatecast member joins, through the client-subscribe
// route of fanOutConfig.
const (
	fanOutTopic = "bench"
	fanOutJoin  = `{"action":"join","topic":"` + fanOutTopic + `"}`
)

// fanOutConfig is the gatecast configuration of the fan-out measurement:
// members join the topic themselves with fanOutJoin.
const fanOutConfig = noConnectRate + `routes:
  websocket:
    join:
      integration: subscribe
      topic_from: $request.body.topic
`

// fanOutFlags configure the fan-out orchestrator.
type fanOutFlags struct {
	targetFlags
	members     int
	size        int
	messages    int
	rate        float64
	window      int
	procsPer    int
	openTimeout time.Duration
	stall       time.Duration
}

// fanOutRun is one target's fan-out measurement.
type fanOutRun struct {
	Target     string  `json:"target"`
	Members    int     `json:"members"`
	Size       int     `json:"size"`
	Rate       float64 `json:"rate_per_s"` // 0: flat out
	Published  int     `json:"published"`
	Deliveries uint64  `json:"deliveries"`
	Missed     uint64  `json:"missed"`
	LostConns  int     `json:"members_lost"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"deliveries_per_s"`
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
	P999US     float64 `json:"p999_us"`
	MaxUS      float64 `json:"max_us"`
	ServerCPU  float64 `json:"server_cpu_s"`
	// PerCPUSecond is deliveries per server CPU-second: the fairer figure
	// where clients and server share the cores.
	PerCPUSecond      float64  `json:"deliveries_per_server_cpu_s"`
	AllocsPerDelivery float64  `json:"allocs_per_delivery"` // -1: the server does not say
	ServerDropped     float64  `json:"server_dropped"`      // what the server says it dropped
	Problems          []string `json:"problems,omitempty"`
}

func runFanOut(ctx context.Context, args []string) error {
	var f fanOutFlags
	fs := flag.NewFlagSet("gatecast-bench fanout", flag.ContinueOnError)
	f.register(fs)
	fs.IntVar(&f.members, "members", 10000, "members of the topic, each a WebSocket connection")
	fs.IntVar(&f.size, "size", 64, fmt.Sprintf("message size in bytes, at least %d (the stamp)", load.StampSize))
	fs.IntVar(&f.messages, "messages", 200, "messages to publish")
	fs.Float64Var(&f.rate, "rate", 0, "messages per second; 0: as fast as the members take them (within --window)")
	fs.IntVar(&f.window, "window", 16, "most messages published and not yet received by every member")
	fs.IntVar(&f.procsPer, "procs-per-5000", 1, "client processes per 5000 members")
	fs.DurationVar(&f.openTimeout, "open-timeout", 60*time.Second, "time for the members to connect")
	fs.DurationVar(&f.stall, "stall", 5*time.Second, "give up when the members receive nothing new for this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets, err := f.targets()
	if err != nil {
		return err
	}
	switch {
	case f.members < 1 || f.messages < 1 || f.window < 1 || f.procsPer < 1:
		return errors.New("--members, --messages, --window and --procs-per-5000 must be positive")
	case f.size < load.StampSize:
		return fmt.Errorf("--size must be at least %d", load.StampSize)
	case f.rate < 0:
		return errors.New("--rate must not be negative")
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return err
	}

	runs, err := measureTargets(ctx, targets, &f, measureFanOut)
	if err != nil {
		return err
	}
	printFanOut(os.Stdout, runs)
	return problemsError(runs, "loss-free", func(r fanOutRun) (string, []string) { return r.Target, r.Problems })
}

// fanOutSide is how the orchestrator publishes to, and counts the members
// of, one kind of server.
type fanOutSide struct {
	join    string
	publish func(msg []byte) error
	members func(ctx context.Context) (int, error)
	dropped string // metric of what the server dropped
	close   func()
}

// measureFanOut starts the target, connects every member, publishes and
// merges what the members received.
func measureFanOut(ctx context.Context, name string, f *fanOutFlags, fleet *load.Fleet) (fanOutRun, error) {
	run := fanOutRun{Target: name, Members: f.members, Size: f.size, Rate: f.rate}
	tf := f.targetFlags
	var spec serverSpec
	if name == targetGatecast {
		natsAddr, err := freeAddr()
		if err != nil {
			return run, err
		}
		spec = serverSpec{config: fanOutConfig, natsListen: natsAddr}
	} else {
		tf.path = baseline.BroadcastPath
	}
	srv, err := startServerSpec(ctx, name, &tf, spec)
	if err != nil {
		return run, err
	}
	defer srv.stop()
	defer fleet.Kill()

	var side *fanOutSide
	if name == targetGatecast {
		side, err = gatecastSide(srv, spec.natsListen)
	} else {
		side = baselineSide(srv)
	}
	if err != nil {
		return run, err
	}
	defer side.close()

	openCtx, cancel := context.WithTimeout(ctx, f.openTimeout+10*time.Second)
	cfg := load.ClientConfig{URL: srv.url, Mode: load.FanOut, Join: side.join, OpenTimeout: f.openTimeout, Hold: time.Hour}
	ws, err := fleet.Open(openCtx, cfg, load.SharesOf(f.members, 5000/f.procsPer))
	if err == nil {
		err = waitFor(openCtx, "every member to join", func() (bool, error) {
			n, err := side.members(openCtx)
			return n >= f.members, err
		})
	}
	cancel()
	if err != nil {
		return run, err
	}
	logf("%s: %d members in %d processes; publishing %d messages of %d bytes", name, f.members, len(ws), f.messages, f.size)

	pub := &load.Publisher{Workers: ws, Messages: f.messages, Size: f.size, Window: f.window, Stall: f.stall, Publish: side.publish}
	if f.rate > 0 {
		pub.Interval = time.Duration(float64(time.Second) / f.rate)
	}
	cpu0, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return run, err
	}
	mallocs0, okMallocs0 := srv.metric(ctx, "go_memstats_mallocs_total")
	dropped0, _ := srv.metric(ctx, side.dropped)
	published, err := pub.Run(ctx)
	if err != nil {
		return run, err
	}
	cpu1, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return run, err
	}
	mallocs1, okMallocs1 := srv.metric(ctx, "go_memstats_mallocs_total")
	dropped1, _ := srv.metric(ctx, side.dropped)

	finishCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	evs, err := load.Finish(finishCtx, ws)
	if err != nil {
		return run, err
	}
	res := load.MergeFanOut(published, evs)
	run.Published, run.Deliveries, run.Missed, run.LostConns = res.Published, res.Received, res.Missed, res.Lost
	run.Seconds, run.PerSecond = res.Seconds, res.PerSecond
	run.P50US, run.P99US, run.P999US = us(res.Latency.Percentile(0.5)), us(res.Latency.Percentile(0.99)), us(res.Latency.Percentile(0.999))
	run.MaxUS = us(res.Latency.Max())
	run.ServerCPU = (cpu1 - cpu0).Seconds()
	run.PerCPUSecond = ratio(float64(res.Received), run.ServerCPU)
	run.AllocsPerDelivery = -1
	if okMallocs0 && okMallocs1 && res.Received > 0 {
		// The two scrapes allocate too; over thousands of deliveries
		// that is noise.
		run.AllocsPerDelivery = (mallocs1 - mallocs0) / float64(res.Received)
	}
	run.ServerDropped = dropped1 - dropped0
	if res.Members != f.members {
		run.Problems = append(run.Problems, fmt.Sprintf("%d members were open, want %d", res.Members, f.members))
	}
	if published.Stalled != "" {
		run.Problems = append(run.Problems, published.Stalled)
	}
	run.Problems = append(run.Problems, res.Problems()...)
	if run.ServerDropped > 0 {
		run.Problems = append(run.Problems, fmt.Sprintf("the server says it dropped %.0f (%s)", run.ServerDropped, side.dropped))
	}
	logf("%s: %d deliveries in %.2fs, %.0f/s, p99 %.0fµs, %d missed", name, res.Received, res.Seconds, res.PerSecond, run.P99US, res.Missed)
	return run, nil
}

// gatecastSide publishes to the topic over the gateway's embedded NATS, as
// a backend does, and counts members by asking the nodes over NATS.
func gatecastSide(srv *serverProc, natsAddr string) (*fanOutSide, error) {
	nc, err := nats.Connect("nats://"+natsAddr, nats.Name("gatecast-bench publisher"))
	if err != nil {
		return nil, fmt.Errorf("connecting to gatecast's NATS at %s: %w", natsAddr, err)
	}
	subj := protocol.Subjects{Prefix: protocol.DefaultPrefix}
	topic := subj.Topic(fanOutTopic)
	return &fanOutSide{
		join:    fanOutJoin,
		publish: func(msg []byte) error { return nc.Publish(topic, msg) },
		members: func(ctx context.Context) (int, error) {
			// Every node with members answers; this one is the only one.
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			m, err := nc.RequestWithContext(ctx, subj.TopicCount(), []byte(fanOutTopic))
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) {
				return 0, nil // no members yet
			}
			if err != nil {
				return 0, err
			}
			var c struct {
				Members int `json:"members"`
			}
			if err := json.Unmarshal(m.Data, &c); err != nil {
				return 0, fmt.Errorf("topic count %q: %w", m.Data, err)
			}
			return c.Members, nil
		},
		dropped: "gatecast_websocket_messages_dropped_total",
		close:   nc.Close,
	}, nil
}

// baselineSide publishes with POST /publish and counts the hub's members
// from /metrics.
func baselineSide(srv *serverProc) *fanOutSide {
	client := &http.Client{Timeout: 10 * time.Second}
	url := "http://" + srv.addr + baseline.PublishPath
	return &fanOutSide{
		publish: func(msg []byte) error {
			resp, err := client.Post(url, "text/plain", bytes.NewReader(msg))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return fmt.Errorf("POST %s: %s", baseline.PublishPath, resp.Status)
			}
			return nil
		},
		members: func(ctx context.Context) (int, error) {
			n, _ := srv.metric(ctx, "baseline_broadcast_members")
			return int(n), nil
		},
		dropped: "baseline_broadcast_dropped_total",
		close:   client.CloseIdleConnections,
	}
}

// waitFor polls cond until it holds, fails or ctx ends.
func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
