package load

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/gatecast/gatecast/netpoll"
)

// fdReserve is the descriptors a client keeps for everything but its
// connections: stdio, the runtime's poller, a dial in flight.
const fdReserve = 64

// RunClient opens cfg.Conns connections, writes an "open" event to events,
// runs cfg.Mode over the open ones, closes them and writes a "result"
// event. Failed connections are reported in the events, not as an error;
// the error is for a client that could not run at all.
//
// control is the parent's channel to the client (its standard input): in
// idle mode the hold ends when control reaches EOF; with cfg.WaitStart the
// echo loop starts on the first line read from it, and EOF before that line
// aborts; in fan-out mode EOF ends the receiving. A nil control sends nothing and never closes. The goroutine reading control may outlive RunClient while a read
// on control is blocked; in a client process that exits right after, this
// does not matter.
func RunClient(ctx context.Context, cfg ClientConfig, control io.Reader, events io.Writer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if limit, err := netpoll.RaiseFDLimit(); err == nil && uint64(cfg.Conns+fdReserve) > limit {
		return fmt.Errorf("load: %d connections need more than the %d file descriptors one process may hold; spread them over more processes", cfg.Conns, limit)
	}
	start, eof := watchControl(control)
	switch cfg.Mode {
	case NATSEcho:
		return runNATSEcho(ctx, cfg, start, eof, events)
	case Handshake:
		return runHandshakes(ctx, cfg, start, eof, events)
	}

	conns, err := openAll(ctx, cfg)
	if cfg.Mode == FanOut && cfg.Join != "" {
		var joinErr error
		conns, joinErr = joinAll(conns, cfg.Join)
		if err == nil {
			err = joinErr
		}
	}
	ev := Event{Event: eventOpen, Mode: cfg.Mode, Conns: cfg.Conns, Open: len(conns), Failed: cfg.Conns - len(conns)}
	if err != nil {
		ev.FirstError = err.Error()
	}
	if err := writeEvent(events, ev); err != nil {
		closeAll(conns)
		return err
	}

	ev.Event = eventResult
	switch cfg.Mode {
	case Idle:
		var lostErr error
		ev.Lost, lostErr = hold(ctx, conns, cfg, eof)
		if lostErr != nil {
			ev.FirstError = lostErr.Error()
		}
	case Echo:
		if cfg.WaitStart {
			if err := awaitStart(ctx, start, eof); err != nil {
				closeAll(conns)
				return err
			}
		}
		echo(ctx, conns, cfg, &ev)
	case FanOut:
		if err := fanOut(ctx, conns, cfg, eof, events, &ev); err != nil {
			return err
		}
	}
	return writeEvent(events, ev)
}

// joinAll sends the join message on every connection and returns those on
// which it went out.
func joinAll(conns []*conn, join string) (joined []*conn, firstErr error) {
	for _, c := range conns {
		if err := c.sendJoin(join); err != nil {
			c.nc.Close()
			if firstErr == nil {
				firstErr = fmt.Errorf("load: sending the join message: %w", err)
			}
			continue
		}
		joined = append(joined, c)
	}
	return joined, firstErr
}

// awaitStart waits for the start line. A parent that writes the line and
// closes control at once has closed both start and eof by the time select
// looks, and select picks either: the line counts.
func awaitStart(ctx context.Context, start, eof <-chan struct{}) error {
	select {
	case <-start:
		return nil
	case <-eof:
		select {
		case <-start:
			return nil
		default:
			return fmt.Errorf("load: control input closed before the start line")
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// watchControl reads control in the background: start closes at the first
// line, eof when control ends. A nil control never does either.
func watchControl(control io.Reader) (start, eof <-chan struct{}) {
	s, e := make(chan struct{}), make(chan struct{})
	if control == nil {
		return s, e
	}
	go func() {
		defer close(e)
		sc := bufio.NewScanner(control)
		if !sc.Scan() {
			return
		}
		close(s)
		for sc.Scan() {
		}
	}()
	return s, e
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		closeConn(c.nc)
	}
}
