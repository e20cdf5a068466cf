package load_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatecast/gatecast/bench/load"
)

// runHTTPClient runs RunHTTPClient in the background; the returned channel
// yields its error.
func runHTTPClient(t *testing.T, cfg load.ClientConfig) (eventSink, <-chan error) {
	t.Helper()
	events := make(eventSink, 4)
	done := make(chan error, 1)
	go func() { done <- load.RunHTTPClient(context.Background(), cfg, nil, events) }()
	return events, done
}

func TestHTTPLoopChecksEveryAnswer(t *testing.T) {
	srv := httptest.NewServer(load.ItemsHandler())
	defer srv.Close()
	for _, tc := range []struct {
		name string
		cfg  load.ClientConfig
	}{
		{"get", load.ClientConfig{URL: srv.URL + "/items/7", Mode: load.HTTPGet}},
		{"post", load.ClientConfig{URL: srv.URL + "/items", Mode: load.HTTPPost, Size: 3000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Conns, cfg.Rounds, cfg.Source, cfg.Duration = 4, 101, "127.0.0.2", 20*time.Second
			events, done := runHTTPClient(t, cfg)
			if open := events.next(t); open.Event != "open" || open.Open != 4 {
				t.Fatalf("open event %+v", open)
			}
			res := events.next(t)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if res.Roundtrips != 101 || res.Latency.Count() != 101 || res.Errors != 0 || res.Lost != 0 {
				t.Errorf("result: %d requests, %d latencies, %d errors (%s), %d reconnects; want 101, 101, 0, 0",
					res.Roundtrips, res.Latency.Count(), res.Errors, res.FirstError, res.Lost)
			}
		})
	}
}

func TestHTTPLoopCountsBadAnswersAndClosedConnections(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 1:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 2:
			w.Write([]byte(`{"not":"it"}`))
		case 3:
			w.Header().Set("Connection", "close")
			w.Write(load.ItemJSON("7"))
		default:
			w.Write(load.ItemJSON("7"))
		}
	}))
	defer srv.Close()
	events, done := runHTTPClient(t, load.ClientConfig{URL: srv.URL + "/items/7", Mode: load.HTTPGet, Conns: 1, Rounds: 8})
	events.next(t)
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Roundtrips != 4 || res.Errors != 4 || res.Lost != 2 {
		t.Errorf("%d ok, %d errors, %d reconnects; want 4, 4, 2", res.Roundtrips, res.Errors, res.Lost)
	}
	if !strings.Contains(res.FirstError, "2 non-2xx") || !strings.Contains(res.FirstError, "503") {
		t.Errorf("FirstError %q does not sum up the bad answers", res.FirstError)
	}
}

func TestSSEReceivesEveryToken(t *testing.T) {
	ts := load.NewTokenStream(200, true, 20*time.Second)
	srv := httptest.NewServer(ts)
	defer srv.Close()
	events, done := runHTTPClient(t, load.ClientConfig{URL: srv.URL + "/stream", Mode: load.SSE, Conns: 3, Source: "127.0.0.3"})
	if open := events.next(t); open.Open != 3 {
		t.Fatalf("open event %+v", open)
	}
	ts.Begin()
	checkFor(t, 10*time.Second, "30 tokens written", func() bool { return ts.Written() >= 30 })
	ts.Stop()
	res := events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Received != ts.Written() || res.Latency.Count() != res.Received || res.Lost != 0 || res.Skipped != 0 || res.Disorder != 0 || res.Unstamped != 0 {
		t.Errorf("received %d of %d tokens (%d latencies); lost %d (%s), skipped %d, disorder %d, other %d",
			res.Received, ts.Written(), res.Latency.Count(), res.Lost, res.FirstError, res.Skipped, res.Disorder, res.Unstamped)
	}
	if ts.Cut() != 0 || ts.Open() != 0 {
		t.Errorf("backend: %d streams cut, %d still open", ts.Cut(), ts.Open())
	}
}

// token returns a stamped token with sequence number seq.
func token(seq uint64) string {
	msg := load.NewMessage(load.StampSize)
	load.Stamp(msg, seq, time.Now())
	return string(msg)
}

func TestSSEParsesEvents(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		cut  bool
		// Received, Skipped, FirstSkipped, Disorder, Unstamped, Lost
		want [6]uint64
	}{
		{
			name: "fields",
			body: ": comment\r\n" +
				"event: token\r\nid: 1\r\ndata: " + token(1) + "\r\n\r\n" +
				"data: " + token(3) + "\n\n" + // 2 skipped
				"data:" + token(3) + "\n\n" + // repeated; no space after the colon
				"data: a\ndata: b\n\n" + // not a token
				": keep-alive\n\n",
			want: [6]uint64{3, 1, 2, 1, 1, 0},
		},
		{
			name: "cut",
			body: "data: " + token(1) + "\n\n" + "data: " + token(2)[:10],
			cut:  true,
			want: [6]uint64{1, 0, 0, 0, 0, 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				w.Write([]byte("data: " + load.StreamOpener + "\n\n" + tc.body))
				if tc.cut {
					w.(http.Flusher).Flush()
					panic(http.ErrAbortHandler)
				}
			}))
			defer srv.Close()
			events, done := runHTTPClient(t, load.ClientConfig{URL: srv.URL + "/stream", Mode: load.SSE, Conns: 1})
			events.next(t)
			res := events.next(t)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got := [6]uint64{res.Received, res.Skipped, res.FirstSkipped, res.Disorder, res.Unstamped, uint64(res.Lost)}
			if got != tc.want {
				t.Errorf("received, skipped, first skipped, disorder, other, lost = %v, want %v (%s)", got, tc.want, res.FirstError)
			}
		})
	}
}

func TestSSEOpenFailsWithoutTheOpener(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: hello\n\n"))
	}))
	defer srv.Close()
	events, done := runHTTPClient(t, load.ClientConfig{URL: srv.URL + "/", Mode: load.SSE, Conns: 2})
	open := events.next(t)
	events.next(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if open.Open != 0 || open.Failed != 2 || !strings.Contains(open.FirstError, "first event") {
		t.Errorf("open event %+v, want 2 failed for want of the opener", open)
	}
}
