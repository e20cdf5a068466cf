package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// killWait bounds how long Kill waits for a killed process to be reaped.
const killWait = 5 * time.Second

// Worker is a client running in a child process, seen from the parent: it
// reads the child's events and owns the child's life. Call Kill (it is
// idempotent) when done or on any error path, so no child outlives a
// measurement.
type Worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan Event    // closed after the child has exited
	done   chan struct{} // closed after the child has exited
	err    error         // how the child exited; set before done closes

	// The latest fan-out progress event, and a signal that one came.
	minSeq, received atomic.Uint64
	progressed       chan struct{}
}

// StartWorker starts cmd, which must run RunClient with its standard input
// as control and its standard output as events (the client subcommand of
// gatecast-bench, or a test binary re-executed in client mode). The
// child's standard error goes to cmd.Stderr, or to ours if that is nil. On
// Linux the child is killed if this process dies.
func StartWorker(cmd *exec.Cmd) (*Worker, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &Worker{cmd: cmd, stdin: stdin, events: make(chan Event, 8), done: make(chan struct{}), progressed: make(chan struct{}, 1)}
	go w.read(stdout)
	return w, nil
}

// read passes the child's event lines on until its output ends, then reaps
// it. Lines that are not events go to standard error, to be seen.
func (w *Worker) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20) // a result line carries a histogram
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Event == "" {
			fmt.Fprintf(os.Stderr, "worker %d: %s\n", w.Pid(), sc.Bytes())
			continue
		}
		if ev.Event == eventProgress {
			// Only the latest counts: keep it instead of queueing.
			w.minSeq.Store(ev.MinSeq)
			w.received.Store(ev.Received)
			select {
			case w.progressed <- struct{}{}:
			default:
			}
			continue
		}
		select {
		case w.events <- ev:
		default:
			fmt.Fprintf(os.Stderr, "worker %d: event dropped, nobody reads: %s\n", w.Pid(), sc.Bytes())
		}
	}
	io.Copy(io.Discard, stdout) // after a too-long line, keep the child from blocking
	w.err = w.cmd.Wait()
	close(w.events)
	close(w.done)
}

// Pid returns the child's process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// next returns the child's next event of the given kind.
func (w *Worker) next(ctx context.Context, kind string) (Event, error) {
	select {
	case ev, ok := <-w.events:
		if !ok {
			return Event{}, fmt.Errorf("load: worker %d exited before its %s event: %v", w.Pid(), kind, w.err)
		}
		if ev.Event != kind {
			return ev, fmt.Errorf("load: worker %d sent a %s event, want %s", w.Pid(), ev.Event, kind)
		}
		return ev, nil
	case <-ctx.Done():
		return Event{}, fmt.Errorf("load: waiting for worker %d's %s event: %w", w.Pid(), kind, ctx.Err())
	}
}

// Opened waits for the child's "open" event. Check its Open and Failed:
// the event arrives also when some connections failed.
func (w *Worker) Opened(ctx context.Context) (Event, error) { return w.next(ctx, eventOpen) }

// Progress returns the fan-out progress the child last reported: the
// lowest last sequence number over its open connections, and the messages
// they received.
func (w *Worker) Progress() (minSeq, received uint64) {
	return w.minSeq.Load(), w.received.Load()
}

// Progressed signals (without queueing) that a progress event came.
func (w *Worker) Progressed() <-chan struct{} { return w.progressed }

// Start tells a child started with WaitStart to begin its echo loop.
func (w *Worker) Start() error {
	_, err := io.WriteString(w.stdin, "start\n")
	return err
}

// Finish closes the child's control input (which ends an idle hold), waits
// for its "result" event and for it to exit. On ctx's end it kills the
// child instead.
func (w *Worker) Finish(ctx context.Context) (Event, error) {
	w.stdin.Close()
	ev, err := w.next(ctx, eventResult)
	if err != nil {
		w.Kill()
		return ev, err
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		w.Kill()
		return ev, fmt.Errorf("load: waiting for worker %d to exit: %w", w.Pid(), ctx.Err())
	}
	if w.err != nil {
		return ev, fmt.Errorf("load: worker %d: %w", w.Pid(), w.err)
	}
	return ev, nil
}

// Kill kills the child if it still runs and waits (bounded) until it is
// reaped. It is safe to call more than once, and after Finish.
func (w *Worker) Kill() { KillChild(w.cmd, w.stdin, w.done) }

// KillChild kills a started child process unless done (closed once it
// has been reaped) says it ended, closing its control input first, and
// waits a bounded time for done.
func KillChild(cmd *exec.Cmd, stdin io.Closer, done <-chan struct{}) {
	select {
	case <-done:
		return
	default:
	}
	stdin.Close()
	cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(killWait):
	}
}

// KillAll kills every worker; a deferred KillAll keeps an error path from
// leaving children behind.
func KillAll(ws []*Worker) {
	for _, w := range ws {
		if w != nil {
			w.Kill()
		}
	}
}
