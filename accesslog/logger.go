package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one event: an HTTP request, or a WebSocket connect, message or
// disconnect. Every field is optional; a zero field prints as missing ("-",
// or null in a JSON template's value position).
type Entry struct {
	RequestID    string // $context.requestId, $context.extendedRequestId
	ConnectionID string // $context.connectionId
	// EventType is "REQUEST" (an HTTP request), or "CONNECT", "MESSAGE"
	// or "DISCONNECT" (WebSocket).
	EventType string
	SourceIP  string // $context.identity.sourceIp
	UserAgent string // $context.identity.userAgent
	Method    string // $context.httpMethod
	Path      string // $context.path
	Protocol  string // $context.protocol, e.g. "HTTP/1.1"
	RouteKey  string // $context.routeKey
	// Status is the HTTP status, or the WebSocket close code on DISCONNECT.
	Status int
	// RequestTime is when the request or event began.
	RequestTime time.Time
	// ResponseLength is the response body's length in bytes (Apache's
	// %b: 0 prints as missing).
	ResponseLength int64
	// ResponseLatency is the time from RequestTime to the response;
	// IntegrationLatency the part spent waiting for the backend. Both are
	// printed in milliseconds (see the package documentation).
	ResponseLatency    time.Duration
	IntegrationLatency time.Duration
	// IntegrationStatus is the status the backend answered with.
	IntegrationStatus int
	// Error is $context.error.message.
	Error string
	// Claims are the caller's verified token claims, for
	// $context.authorizer.claims.<name>; nil means none. Log copies the
	// Entry but not the map, which the writer reads later: do not modify
	// it after Log (claims from a verified token never change).
	Claims map[string]any
	// Node is the gateway node that handled the event.
	Node string
}

// Stats are a Logger's counters since New. After Close returns, every
// Log call with a non-nil Entry is in exactly one of Logged, Dropped and
// Lost (a Logger with Output "off" counts nothing).
type Stats struct {
	// Logged is how many lines the output accepted.
	Logged uint64
	// Dropped is how many entries Log refused because the buffer was full
	// (the output is slower than the traffic) or the Logger was closed.
	Dropped uint64
	// WriteErrors is how many writes to the output failed.
	WriteErrors uint64
	// Lost is how many lines were formatted but lost in failed writes.
	Lost uint64
}

const (
	// flushSize is the batch size at which the writer writes even though
	// more entries are waiting: large enough to make a write per line rare
	// under load, small enough that a line waits little.
	flushSize = 64 << 10
	// maxBatchCap bounds the batch's memory after a write: a few huge lines
	// must not keep a huge buffer alive.
	maxBatchCap = 1 << 20
)

// Logger writes one line per Entry from its own goroutine. See the package
// documentation for the concurrency contract.
type Logger struct {
	format *format
	out    io.Writer
	file   *os.File // the file New opened, closed by Close; nil otherwise
	off    bool     // Output "off": no channel, no goroutine

	// mu orders Log's sends against Close closing entries: Log sends
	// holding it for reading, Close sets closed and closes entries holding
	// it for writing, so no send can hit a closed channel.
	mu      sync.RWMutex
	closed  bool       // guarded by mu
	entries chan Entry // closed by Close; the writer drains it and exits

	done      chan struct{} // closed when the writer goroutine has returned
	closeOnce sync.Once
	closeErr  error
	lastErr   error // the writer's last write error, or nil if its last write succeeded; read after done

	logged, dropped, writeErrors, lost atomic.Uint64
}

// New returns a Logger writing to cfg.Output and starts its writer
// goroutine (none when Output is "off"). Close it to flush and stop.
func New(cfg Config) (*Logger, error) {
	cfg, f, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	switch cfg.Output {
	case "", "stdout":
		return start(cfg, f, os.Stdout, nil), nil
	case "stderr":
		return start(cfg, f, os.Stderr, nil), nil
	case "off":
		return &Logger{format: f, off: true}, nil
	}
	file, err := os.OpenFile(cfg.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: output: %w", ErrInvalidConfig, err)
	}
	return start(cfg, f, file, file), nil
}

// NewWriter is New writing to w instead of cfg.Output (which it ignores).
// The Logger never closes w. Writes to w come from one goroutine at a
// time, but w must not block forever: Close waits for the last write.
func NewWriter(cfg Config, w io.Writer) (*Logger, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: nil writer", ErrInvalidConfig)
	}
	cfg, f, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return start(cfg, f, w, nil), nil
}

// compile fills cfg's defaults and compiles its format.
func (cfg Config) compile() (Config, *format, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return cfg, nil, err
	}
	f, err := compile(cfg.Format)
	return cfg, f, err
}

func start(cfg Config, f *format, w io.Writer, file *os.File) *Logger {
	l := &Logger{
		format:  f,
		out:     w,
		file:    file,
		entries: make(chan Entry, cfg.Buffer),
		done:    make(chan struct{}),
	}
	go l.run()
	return l
}

// Log queues a copy of e for the writer and returns at once: if the buffer
// is full or the Logger is closed, it drops the entry and counts it. It
// never blocks on the output and does not allocate. Safe for concurrent
// use; a nil Logger or a nil e does nothing.
func (l *Logger) Log(e *Entry) {
	if l == nil || e == nil || l.off {
		return
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.dropped.Add(1)
		return
	}
	select {
	case l.entries <- *e:
	default:
		l.dropped.Add(1)
	}
	l.mu.RUnlock()
}

// Stats returns the counters. Safe for concurrent use; a nil Logger has
// none.
func (l *Logger) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	return Stats{
		Logged:      l.logged.Load(),
		Dropped:     l.dropped.Load(),
		WriteErrors: l.writeErrors.Load(),
		Lost:        l.lost.Load(),
	}
}

// Close stops taking entries (Log drops them from now on), waits for the
// writer to write everything queued before, and closes the file New
// opened. It returns the error of the last write if that failed, and of
// closing the file. Safe to call more than once and concurrently: every
// call waits for the first and returns its result. A nil Logger returns
// nil. Close waits for the output: if a Write never returns (a pipe
// nobody reads), neither does Close.
func (l *Logger) Close() error {
	if l == nil || l.off {
		return nil
	}
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.entries)
		l.mu.Unlock()
		<-l.done
		var errs []error
		if l.lastErr != nil {
			errs = append(errs, fmt.Errorf("accesslog: write: %w", l.lastErr))
		}
		if l.file != nil {
			if err := l.file.Close(); err != nil {
				errs = append(errs, fmt.Errorf("accesslog: close output: %w", err))
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// run is the writer goroutine, owned by the Logger and stopped by Close
// (closing entries). It formats entries into one batch and writes the
// batch when no entry is waiting or it reaches flushSize: one write per
// burst under load, and at once when idle, so tail -f sees lines
// promptly. A failed write is counted and its lines are lost; the writer
// neither retries nor stops, so it only writes as often as entries come.
func (l *Logger) run() {
	defer close(l.done)
	var sc scratch
	batch := make([]byte, 0, 4096)
	lines := 0
	for e := range l.entries {
		batch = append(l.format.appendEntry(batch, &e, &sc), '\n')
		lines++
	fill:
		for len(batch) < flushSize {
			select {
			case e, ok := <-l.entries:
				if !ok {
					break fill
				}
				batch = append(l.format.appendEntry(batch, &e, &sc), '\n')
				lines++
			default:
				break fill
			}
		}
		l.write(batch, lines)
		batch, lines = batch[:0], 0
		if cap(batch) > maxBatchCap {
			batch = make([]byte, 0, 4096)
		}
	}
}

// write writes one batch of lines and counts the outcome. Runs on the
// writer goroutine.
func (l *Logger) write(batch []byte, lines int) {
	n, err := l.out.Write(batch)
	if err == nil && n < len(batch) {
		err = io.ErrShortWrite
	}
	if err == nil {
		l.logged.Add(uint64(lines))
		l.lastErr = nil
		return
	}
	n = min(max(n, 0), len(batch))
	written := bytes.Count(batch[:n], []byte{'\n'})
	l.logged.Add(uint64(written))
	l.lost.Add(uint64(lines - written))
	l.writeErrors.Add(1)
	l.lastErr = err
}
