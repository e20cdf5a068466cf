package load

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// runNATSEcho is RunClient for NATSEcho: the same closed loop as Echo, each
// requester sending cfg.Size bytes as a NATS request to cfg.Subject and
// waiting for the reply. cfg.RequestersPerConn requesters share a NATS
// connection (nats.go multiplexes their replies over one inbox
// subscription), so 1,000 requesters take 10 connections by default.
func runNATSEcho(ctx context.Context, cfg ClientConfig, start, eof <-chan struct{}, events io.Writer) error {
	opts := []nats.Option{nats.Name("gatecast-bench"), nats.Timeout(cfg.DialTimeout), nats.NoReconnect()}
	if cfg.Source != "" {
		ip := net.ParseIP(cfg.Source)
		if ip == nil {
			return fmt.Errorf("load: --source %q is not an IP address", cfg.Source)
		}
		opts = append(opts, nats.SetCustomDialer(&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: cfg.DialTimeout}))
	}
	shares := SharesOf(cfg.Conns, cfg.RequestersPerConn)
	var ncs []*nats.Conn
	var perConn []int
	ev := Event{Event: eventOpen, Mode: cfg.Mode, Conns: cfg.Conns}
	for _, n := range shares {
		nc, err := nats.Connect(cfg.URL, opts...)
		if err != nil {
			ev.Failed += n
			if ev.FirstError == "" {
				ev.FirstError = err.Error()
			}
			continue
		}
		defer nc.Close()
		ncs = append(ncs, nc)
		perConn = append(perConn, n)
		ev.Open += n
	}
	if err := writeEvent(events, ev); err != nil {
		return err
	}
	if cfg.WaitStart {
		if err := awaitStart(ctx, start, eof); err != nil {
			return err
		}
	}

	ev.Event = eventResult
	natsEchoLoop(ctx, ncs, perConn, cfg, &ev)
	return writeEvent(events, ev)
}

// natsEchoLoop runs perConn[i] requesters on ncs[i] until cfg.Duration
// passes or cfg.Rounds round trips are done, and merges the results into ev.
func natsEchoLoop(ctx context.Context, ncs []*nats.Conn, perConn []int, cfg ClientConfig, ev *Event) {
	end := time.Now().Add(cfg.Duration)
	// A round trip in flight at the end gets the same grace as over WebSockets.
	ctx, cancel := context.WithDeadline(ctx, end.Add(echoGrace))
	defer cancel()

	requesters := 0
	for _, n := range perConn {
		requesters += n
	}
	rounds := make([]int, requesters)
	if cfg.Rounds > 0 {
		rounds = Shares(cfg.Rounds, requesters)
	} else {
		for i := range rounds {
			rounds[i] = -1
		}
	}
	results := make([]echoResult, requesters)
	begin := time.Now()
	var wg sync.WaitGroup
	i := 0
	for ci, nc := range ncs {
		for range perConn[ci] {
			r, want := &results[i], rounds[i]
			wg.Go(func() {
				r.rounds, r.err = natsRequestLoop(ctx, nc, cfg.Subject, cfg.Size, want, end, &r.hist)
			})
			i++
		}
	}
	wg.Wait()
	ev.Seconds = time.Since(begin).Seconds()
	mergeEcho(ev, results)
}

// natsRequestLoop is echoLoop over NATS request/reply.
func natsRequestLoop(ctx context.Context, nc *nats.Conn, subject string, size, rounds int, end time.Time, h *Histogram) (n uint64, err error) {
	payload := make([]byte, size)
	rand.Read(payload)
	for rounds < 0 || n < uint64(rounds) {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		reply, err := nc.RequestWithContext(ctx, subject, payload)
		if err != nil {
			return n, err
		}
		h.Record(time.Since(t0))
		if !bytes.Equal(reply.Data, payload) {
			return n, fmt.Errorf("load: reply of %d bytes differs from the %d-byte request", len(reply.Data), size)
		}
		n++
	}
	return n, nil
}
