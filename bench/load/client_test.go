package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatecast/gatecast/bench/baseline"
	"github.com/gatecast/gatecast/bench/load"
)

// eventSink decodes the event lines RunClient writes (one per Write).
type eventSink chan load.Event

func (s eventSink) Write(p []byte) (int, error) {
	var ev load.Event
	if err := json.Unmarshal(p, &ev); err != nil {
		return 0, err
	}
	s <- ev
	return len(p), nil
}

func (s eventSink) next(t *testing.T) load.Event {
	t.Helper()
	select {
	case ev := <-s:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event from the client")
		return load.Event{}
	}
}

// runClient runs RunClient in the background; the returned channel yields
// its error.
func runClient(t *testing.T, cfg load.ClientConfig, control io.Reader) (eventSink, <-chan error) {
	t.Helper()
	events := make(eventSink, 4)
	done := make(chan error, 1)
	go func() { done <- load.RunClient(context.Background(), cfg, control, events) }()
	return events, done
}

func startBaseline(t *testing.T) (*baseline.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := new(baseline.Server)
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return s, "ws://" + ln.Addr().String() + "/"
}

func checkFor(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", wait, what)
		}
	}
}

// startBaselineConfig serves the baseline, over TLS if tls, and returns the
// client configuration that reaches it.
func startBaselineConfig(t *testing.T, tls bool) (*baseline.Server, load.ClientConfig) {
	t.Helper()
	if tls {
		return startTLSBaseline(t)
	}
	s, url := startBaseline(t)
	return s, load.ClientConfig{URL: url}
}

func TestEchoCountsEveryRoundTrip(t *testing.T) {
	tests := []struct {
		name         string
		tls          bool
		source       string
		size, rounds int
	}{
		{name: "plain", source: "127.0.0.2", size: 300, rounds: 402},
		{name: "tls", tls: true, source: "127.0.0.5", size: 20000, rounds: 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := startBaselineConfig(t, tt.tls)
			cfg.Conns, cfg.Mode, cfg.Source, cfg.Size, cfg.Rounds, cfg.Duration = 4, load.Echo, tt.source, tt.size, tt.rounds, 20*time.Second
			events, done := runClient(t, cfg, nil)

			open := events.next(t)
			if open.Event != "open" || open.Open != 4 || open.Failed != 0 {
				t.Fatalf("open event = %+v, want 4 open", open)
			}
			res := events.next(t)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			want := uint64(tt.rounds)
			if res.Event != "result" || res.Roundtrips != want || res.Errors != 0 {
				t.Fatalf("result = %+v (first error %q), want %d round trips and no errors", res, res.FirstError, want)
			}
			if res.Latency == nil || res.Latency.Count() != want {
				t.Fatalf("latency histogram holds %v values, want %d", res.Latency, want)
			}
			if res.Latency.Percentile(0.5) <= 0 || res.Seconds <= 0 {
				t.Errorf("p50 %v, seconds %v: want both positive", res.Latency.Percentile(0.5), res.Seconds)
			}
		})
	}
}

func TestIdleHoldsUntilControlCloses(t *testing.T) {
	tests := []struct {
		name   string
		tls    bool
		conns  int
		source string
		prime  int
	}{
		{name: "plain", conns: 50, source: "127.0.0.3"},
		{name: "tls primed", tls: true, conns: 20, source: "127.0.0.4", prime: 16 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, cfg := startBaselineConfig(t, tt.tls)
			cfg.Conns, cfg.Source, cfg.Prime, cfg.Sweep = tt.conns, tt.source, tt.prime, 10*time.Millisecond
			control, release := io.Pipe()
			events, done := runClient(t, cfg, control)

			if open := events.next(t); open.Open != tt.conns || open.Failed != 0 {
				t.Fatalf("open event = %+v, want %d open", open, tt.conns)
			}
			checkFor(t, 5*time.Second, fmt.Sprintf("server never saw %d connections", tt.conns), func() bool { return s.Conns() == tt.conns })
			time.Sleep(50 * time.Millisecond) // not a wait: five sweeps must leave the connections alone
			if n := s.Conns(); n != tt.conns {
				t.Fatalf("server holds %d connections during the hold, want %d", n, tt.conns)
			}

			release.Close()
			res := events.next(t)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if res.Event != "result" || res.Lost != 0 {
				t.Fatalf("result = %+v, want none lost", res)
			}
			checkFor(t, 5*time.Second, "connections not closed after release", func() bool { return s.Conns() == 0 })
		})
	}
}

func TestIdleAnswersPingsAndReportsServerClose(t *testing.T) {
	tests := []struct {
		name   string
		listen func(t *testing.T) (net.Listener, load.ClientConfig)
		pings  []string
	}{
		{
			name: "plain",
			listen: func(t *testing.T) (net.Listener, load.ClientConfig) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				return ln, load.ClientConfig{URL: "ws://" + ln.Addr().String() + "/"}
			},
			pings: []string{"are you there"},
		},
		{
			// Every TLS record arrives in two parts some sweeps apart: the
			// client must keep the partial records.
			name: "tls split records",
			listen: func(t *testing.T) (net.Listener, load.ClientConfig) {
				ln, caFile := tlsListenerOver(t, func(c net.Conn) net.Conn { return splitWriter{c} })
				return ln, load.ClientConfig{URL: "ws://" + ln.Addr().String() + "/", TLS: true, TLSCAFile: caFile}
			},
			pings: []string{"one", "two"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testIdlePings(t, tt.listen, tt.pings) })
	}
}

// testIdlePings serves one connection on what listen returns: the server
// sends the pings, waits for the pongs, then closes with 1001 and waits
// for the client's close.
func testIdlePings(t *testing.T, listen func(t *testing.T) (net.Listener, load.ClientConfig), pings []string) {
	ponged := make(chan string, len(pings))
	closeAnswered := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		pongs, allPonged := 0, make(chan struct{})
		c.SetPongHandler(func(data string) error {
			ponged <- data
			if pongs++; pongs == len(pings) {
				close(allPonged)
			}
			return nil
		})
		read := make(chan error, 1)
		go func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					read <- err
					return
				}
			}
		}()
		for i, p := range pings {
			if i > 0 {
				time.Sleep(30 * time.Millisecond) // not a wait: the pings go in separate sweeps
			}
			c.WriteControl(websocket.PingMessage, []byte(p), time.Now().Add(time.Second))
		}
		select {
		case <-allPonged:
		case <-time.After(10 * time.Second):
		}
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye"), time.Now().Add(time.Second))
		closeAnswered <- <-read
	})
	ln, cfg := listen(t)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	cfg.Conns, cfg.Sweep = 1, 10*time.Millisecond
	control, release := io.Pipe()
	events, done := runClient(t, cfg, control)
	if open := events.next(t); open.Open != 1 {
		t.Fatalf("open event = %+v, want 1 open", open)
	}
	for _, want := range pings {
		select {
		case got := <-ponged:
			if got != want {
				t.Errorf("pong carries %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the idle client never answered ping %q", want)
		}
	}

	select {
	case err := <-closeAnswered:
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("the client answered the close with %v, want its code echoed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the idle client never answered the close")
	}
	release.Close()
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Lost != 1 || res.FirstError == "" {
		t.Errorf("result = %+v, want the connection counted as lost, with a reason", res)
	}
}

func TestFailedDialsAreReported(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there now

	events, done := runClient(t, load.ClientConfig{URL: url, Conns: 3, Mode: load.Echo}, nil)
	open := events.next(t)
	if open.Open != 0 || open.Failed != 3 || !strings.Contains(open.FirstError, "refused") {
		t.Errorf("open event = %+v, want 3 failed with connection refused", open)
	}
	if res := events.next(t); res.Roundtrips != 0 {
		t.Errorf("result = %+v, want no round trips", res)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConfigArgsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		cfg  load.ClientConfig
	}{
		{
			name: "minimal",
			cfg:  load.ClientConfig{URL: "ws://127.0.0.1:1/", Conns: 1},
		},
		{
			name: "every field",
			cfg: load.ClientConfig{
				URL: "ws://127.0.0.1:1/x", Conns: 7, Mode: load.Echo, Source: "127.0.0.9",
				Size: 1024, Duration: 3 * time.Second, Rounds: 99, WaitStart: true,
				Hold: time.Minute, Sweep: time.Second, DialConcurrency: 8,
				DialTimeout: 2 * time.Second, OpenTimeout: 30 * time.Second,
				Join: `{"action":"join","topic":"a b"}`, Subject: "x.y", RequestersPerConn: 10,
				TLS: true, TLSCAFile: "/tmp/ca.pem", TLSInsecure: true, TLSFullRecords: true,
			},
		},
		{
			name: "primed idle over wss",
			cfg:  load.ClientConfig{URL: "wss://127.0.0.1:1/", Conns: 2, TLS: true, Prime: 16384},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := load.ParseClientArgs("client", tt.cfg.Args(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.cfg) {
				t.Errorf("ParseClientArgs(Args()) = %+v, want %+v", got, tt.cfg)
			}
		})
	}
}

func TestConfigRejectsNonsense(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{
			name: "no url",
			args: []string{"--conns=1"},
		},
		{
			name: "no conns",
			args: []string{"--url=ws://127.0.0.1:1/"},
		},
		{
			name: "unknown mode",
			args: []string{"--url=ws://127.0.0.1:1/", "--conns=1", "--mode=storm"},
		},
		{
			name: "prime outside idle mode",
			args: []string{"--url=ws://127.0.0.1:1/", "--conns=1", "--mode=echo", "--prime=16384"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := load.ParseClientArgs("client", tt.args, io.Discard); err == nil {
				t.Errorf("ParseClientArgs(%q) succeeded, want an error", tt.args)
			}
		})
	}
}
