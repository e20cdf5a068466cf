package load_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatecast/gatecast/bench/load"
)

// stormSink decodes the event lines RunStorm and RunPacedEcho write.
type stormSink chan load.StormEvent

func (s stormSink) Write(p []byte) (int, error) {
	var ev load.StormEvent
	if err := json.Unmarshal(p, &ev); err != nil {
		return 0, err
	}
	s <- ev
	return len(p), nil
}

func (s stormSink) next(t *testing.T, kind string) load.StormEvent {
	t.Helper()
	select {
	case ev := <-s:
		if ev.Event != kind {
			t.Fatalf("got a %q event, want %q: %+v", ev.Event, kind, ev)
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s event from the client", kind)
		return load.StormEvent{}
	}
}

// startAnswerer serves connections that each get one answer, chosen by
// answer from the connection's sequence number, after the request head.
func startAnswerer(t *testing.T, answer func(n int64) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var seq atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				io.WriteString(c, answer(seq.Add(1)-1))
				io.Copy(io.Discard, c) // until the client closes
			}()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

const (
	answer101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
	answer429 = "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nslow"
	answerBad = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n" // no Retry-After
)

func TestStormCountsEveryAttempt(t *testing.T) {
	url := startAnswerer(t, func(n int64) string {
		return [...]string{answer101, answer429, answerBad}[n%3]
	})
	cfg := load.StormConfig{URL: url, Rate: 300, Duration: 100 * time.Millisecond, Sources: []string{"127.0.0.2", "127.0.0.3"}}
	events := make(stormSink, 4)
	done := make(chan error, 1)
	go func() { done <- load.RunStorm(context.Background(), cfg, strings.NewReader("go\n"), events) }()

	events.next(t, "ready")
	res := events.next(t, "result")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 30 || res.NotStarted != 0 {
		t.Fatalf("attempts %d, not started %d; want 30, 0", res.Attempts, res.NotStarted)
	}
	if len(res.Errors) != 0 || res.Statuses[101] != 10 || res.Statuses[429] != 20 || res.NoRetryAfter != 10 {
		t.Errorf("statuses %v, errors %v, no Retry-After %d; want 10 101s, 20 429s of which 10 without Retry-After, no errors (%s)",
			res.Statuses, res.Errors, res.NoRetryAfter, res.FirstError)
	}
	var attempts, admitted uint64
	for _, s := range res.Seconds {
		attempts += s.Attempts
		admitted += s.Admitted
	}
	if attempts != 30 || admitted != 10 || res.Latency.Count() != 30 {
		t.Errorf("per second %d attempts, %d admitted, latency count %d; want 30, 10, 30", attempts, admitted, res.Latency.Count())
	}
	if res.FirstSentNS == 0 || res.LastSentNS < res.FirstSentNS || res.LastAnswerNS < res.FirstAnswerNS {
		t.Errorf("send span %d..%d, answer span %d..%d", res.FirstSentNS, res.LastSentNS, res.FirstAnswerNS, res.LastAnswerNS)
	}
}

func TestStormCountsFailedDials(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close() // nobody listens: every dial is refused

	cfg := load.StormConfig{URL: url, Rate: 200, Duration: 50 * time.Millisecond}
	events := make(stormSink, 4)
	if err := load.RunStorm(context.Background(), cfg, strings.NewReader("go\n"), events); err != nil {
		t.Fatal(err)
	}
	events.next(t, "ready")
	res := events.next(t, "result")
	if res.Attempts != 10 || res.Errors["dial"] != 10 || len(res.Statuses) != 0 || res.FirstError == "" {
		t.Errorf("attempts %d, errors %v, statuses %v, first error %q; want 10 failed dials", res.Attempts, res.Errors, res.Statuses, res.FirstError)
	}
}

func TestStormWithoutStartLineAborts(t *testing.T) {
	url := startAnswerer(t, func(int64) string { return answer101 })
	events := make(stormSink, 4)
	err := load.RunStorm(context.Background(), load.StormConfig{URL: url, Rate: 10}, strings.NewReader(""), events)
	if err == nil {
		t.Fatal("RunStorm ran without a start line")
	}
}

func TestStormConfigRejectsNonsense(t *testing.T) {
	for _, cfg := range []load.StormConfig{
		{Rate: 10},
		{URL: "ws://127.0.0.1:1/"},
		{URL: "ws://127.0.0.1:1/", Rate: -1},
		{URL: "http://127.0.0.1:1/", Rate: 10},
		{URL: "ws://127.0.0.1:1/", Rate: 10, Sources: []string{"nowhere"}},
	} {
		if err := load.RunStorm(context.Background(), cfg, strings.NewReader("go\n"), io.Discard); err == nil {
			t.Errorf("RunStorm(%+v) ran", cfg)
		}
	}
}

func TestPacedEchoHasAPhasePerLine(t *testing.T) {
	_, url := startBaseline(t)
	cfg := load.PacedEchoConfig{URL: url, Source: "127.0.0.2", Conns: 4, Rate: 400, Size: 100}
	events := make(stormSink, 4)
	control, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- load.RunPacedEcho(context.Background(), cfg, control, events) }()

	open := events.next(t, "open")
	if open.Open != 4 || open.Failed != 0 {
		t.Fatalf("open %d, failed %d: %s", open.Open, open.Failed, open.FirstError)
	}
	io.WriteString(w, "go\ngo\ngo\n") // start, then two more phases
	w.Close()
	res := events.next(t, "result")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 3 {
		t.Fatalf("%d phases, want 3", len(res.Phases))
	}
	for i, p := range res.Phases {
		if p.Errors != 0 || p.Latency == nil || p.Latency.Count() != p.Roundtrips {
			t.Errorf("phase %d: %d round trips, latencies %v, %d errors (%s)", i, p.Roundtrips, p.Latency, p.Errors, p.FirstError)
		}
	}
}
