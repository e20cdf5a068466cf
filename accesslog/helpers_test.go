package accesslog

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer that tests read while the writer goroutine
// may still write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns what was written, split into lines without their ends.
func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\n") {
		panic("output does not end with a line end: " + s)
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// gateWriter holds every Write until the test opens the gate, and tells
// the test when the writer goroutine is inside Write, so a test knows
// exactly which entries are still queued.
type gateWriter struct {
	entered chan struct{} // gets a value when a Write starts, if empty
	gate    chan struct{} // closed by the test to let writes through
	syncBuffer
}

func newGateWriter() *gateWriter {
	return &gateWriter{entered: make(chan struct{}, 1), gate: make(chan struct{})}
}

func (w *gateWriter) Write(p []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.gate
	return w.syncBuffer.Write(p)
}

// waitFor yields until cond holds, failing the test after a generous
// deadline. It never sleeps: the conditions it waits for are other
// goroutines' next steps.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// isClosed reports whether Close has started refusing entries.
func (l *Logger) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

// mustCompile compiles a format for tests.
func mustCompile(t testing.TB, src string) *format {
	t.Helper()
	cfg, err := Config{Format: src}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	f, err := compile(cfg.Format)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return f
}

// render formats one entry with f.
func render(f *format, e *Entry) string {
	var sc scratch
	return string(f.appendEntry(nil, e, &sc))
}

// t0 is 14 Nov 2023 22:13:20.123 UTC.
var t0 = time.Unix(1_700_000_000, 123_000_000)

// fullEntry has every field set to a plain value.
func fullEntry() Entry {
	return Entry{
		RequestID: "req-1", ConnectionID: "conn-1", EventType: "REQUEST",
		SourceIP: "192.0.2.7", UserAgent: "curl/8.5.0", Method: "GET", Path: "/chat",
		Protocol: "HTTP/1.1", RouteKey: "GET /chat", Status: 200, RequestTime: t0,
		ResponseLength: 1234, ResponseLatency: 1500 * time.Microsecond,
		IntegrationLatency: 312 * time.Microsecond, IntegrationStatus: 201,
		Error: "boom", Claims: map[string]any{"sub": "ann", "exp": 1.7e9, "roles": []any{"a", "b"}},
		Node: "node-a",
	}
}
