package load_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/bench/baseline"
	"github.com/gatecast/gatecast/bench/load"
)

func TestStampRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int
		seq  uint64
		at   time.Time
	}{
		{name: "smallest", size: 0, seq: 1, at: time.Unix(0, 1)},
		{name: "64 bytes", size: 64, seq: 42, at: time.Unix(1764000000, 123456789)},
		{name: "largest sequence", size: 1024, seq: 9999999999, at: time.Unix(1<<33, 999999999)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := load.NewMessage(tt.size)
			if len(msg) != max(tt.size, load.StampSize) {
				t.Fatalf("NewMessage(%d) has %d bytes", tt.size, len(msg))
			}
			load.Stamp(msg, tt.seq, tt.at)
			seq, sent, ok := load.ParseStamp(msg)
			if !ok || seq != tt.seq || sent != tt.at.UnixNano() {
				t.Fatalf("ParseStamp(%q) = (%d, %d, %v), want (%d, %d, true)", msg, seq, sent, ok, tt.seq, tt.at.UnixNano())
			}
		})
	}
}

func TestParseStampRejects(t *testing.T) {
	for _, msg := range []string{
		"",
		`{"message":"Forbidden","connectionId":"x","requestId":"y"}`,
		"0000000000000000000x 0000000001 filler",
		"99999999999999999999 0000000001 ", // past int64 nanoseconds
	} {
		if _, _, ok := load.ParseStamp([]byte(msg)); ok {
			t.Errorf("ParseStamp(%q) accepted it", msg)
		}
	}
}

// progressSink decodes events, keeping only the latest progress so that
// the client never blocks on it.
type progressSink struct {
	mu       sync.Mutex
	progress load.Event
	others   chan load.Event
}

func (s *progressSink) Write(p []byte) (int, error) {
	var ev load.Event
	if err := json.Unmarshal(p, &ev); err != nil {
		return 0, err
	}
	if ev.Event == "progress" {
		s.mu.Lock()
		s.progress = ev
		s.mu.Unlock()
		return len(p), nil
	}
	s.others <- ev
	return len(p), nil
}

func (s *progressSink) latest() load.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

func (s *progressSink) next(t *testing.T) load.Event {
	t.Helper()
	return eventSink(s.others).next(t)
}

func TestFanOutCountsWhatArrives(t *testing.T) {
	s, url := startBaseline(t)
	const conns = 5
	control, release := io.Pipe()
	sink := &progressSink{others: make(chan load.Event, 4)}
	cfg := load.ClientConfig{URL: strings.TrimSuffix(url, "/") + baseline.BroadcastPath, Conns: conns, Mode: load.FanOut, Source: "127.0.0.4"}
	done := make(chan error, 1)
	go func() { done <- load.RunClient(context.Background(), cfg, control, sink) }()

	if open := sink.next(t); open.Event != "open" || open.Open != conns {
		t.Fatalf("open event = %+v, want %d open", open, conns)
	}
	checkFor(t, 5*time.Second, "members did not join", func() bool { return s.Hub().Stats().Members == conns })
	// 1, 2, 4, 5 (3 is skipped), 2 again, and one without a stamp.
	msg := load.NewMessage(64)
	s.Publish([]byte(`{"message":"not stamped"}`))
	for _, seq := range []uint64{1, 2, 4, 5, 2} {
		load.Stamp(msg, seq, time.Now())
		s.Publish(msg)
	}
	checkFor(t, 5*time.Second, "progress never reached message 5", func() bool {
		p := sink.latest()
		return p.MinSeq == 5 && p.Received == 5*conns
	})
	release.Close()
	res := sink.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := load.Event{Received: 5 * conns, MinSeq: 5, Skipped: conns, FirstSkipped: 3, Disorder: conns, Unstamped: conns}
	if res.Event != "result" || res.Received != want.Received || res.MinSeq != want.MinSeq || res.Skipped != want.Skipped ||
		res.FirstSkipped != want.FirstSkipped || res.Disorder != want.Disorder || res.Unstamped != want.Unstamped || res.Lost != 0 {
		t.Fatalf("result = %+v, want %+v", res, want)
	}
	if res.Latency.Count() != 5*conns || res.LastUnixNano == 0 {
		t.Errorf("%d latencies, last at %d: want %d and a time", res.Latency.Count(), res.LastUnixNano, 5*conns)
	}
	checkFor(t, 5*time.Second, "connections not closed after release", func() bool { return s.Conns() == 0 })
}

func TestFanOutCountsServerClosedMembers(t *testing.T) {
	s, url := startBaseline(t)
	control, release := io.Pipe()
	sink := &progressSink{others: make(chan load.Event, 4)}
	cfg := load.ClientConfig{URL: strings.TrimSuffix(url, "/") + baseline.BroadcastPath, Conns: 2, Mode: load.FanOut}
	done := make(chan error, 1)
	go func() { done <- load.RunClient(context.Background(), cfg, control, sink) }()
	sink.next(t)
	checkFor(t, 5*time.Second, "members did not join", func() bool { return s.Hub().Stats().Members == 2 })
	s.Close()
	release.Close()
	res := sink.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Lost != 2 || res.FirstError == "" {
		t.Errorf("result = %+v, want both members lost, with a reason", res)
	}
}

func TestNATSEchoCountsEveryRoundTrip(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	backend, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(backend.Close)
	if _, err := backend.Subscribe("echo.here", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		t.Fatal(err)
	}
	backend.Flush()

	cfg := load.ClientConfig{URL: ns.ClientURL(), Conns: 25, Mode: load.NATSEcho, Source: "127.0.0.5", Subject: "echo.here", RequestersPerConn: 10, Rounds: 500, Duration: 20 * time.Second}
	events, done := runClient(t, cfg, nil)
	if open := events.next(t); open.Event != "open" || open.Open != 25 || open.Failed != 0 {
		t.Fatalf("open event = %+v, want 25 open", open)
	}
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Roundtrips != 500 || res.Errors != 0 || res.Latency.Count() != 500 {
		t.Fatalf("result = %+v (first error %q), want 500 round trips and no errors", res, res.FirstError)
	}
}
