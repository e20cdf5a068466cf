package accesslog

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func newTestLogger(t *testing.T, cfg Config, w io.Writer) *Logger {
	t.Helper()
	l, err := NewWriter(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLoggerLines(t *testing.T) {
	e := fullEntry()
	msg := Entry{RequestID: "req-2", ConnectionID: "conn-1", EventType: "MESSAGE", RouteKey: "send", RequestTime: t0, Error: "line\nbreak \"quoted\""}
	tests := []struct {
		name   string
		format string
		check  func(t *testing.T, lines []string)
	}{
		{"default", "", func(t *testing.T, lines []string) {
			var got []map[string]any
			for _, line := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				got = append(got, m)
			}
			if got[0]["status"] != 200.0 || got[0]["responseLatency"] != 1.5 || got[0]["path"] != "/chat" || len(got[0]) != 14 {
				t.Fatalf("request line: %v", got[0])
			}
			if got[1]["status"] != nil || got[1]["path"] != "-" || got[1]["eventType"] != "MESSAGE" || got[1]["error"] != "line\nbreak \"quoted\"" {
				t.Fatalf("message line: %v", got[1])
			}
		}},
		{"custom json", `{"time":$context.requestTimeEpoch, "conn":"$context.connectionId", "sub":$context.authorizer.claims.sub, "route":"$context.routeKey"}`, func(t *testing.T, lines []string) {
			var got []struct {
				Time  *int64
				Conn  string
				Sub   *string
				Route string
			}
			for _, line := range lines {
				var v struct {
					Time  *int64
					Conn  string
					Sub   *string
					Route string
				}
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				got = append(got, v)
			}
			if *got[0].Time != 1700000000123 || got[0].Conn != "conn-1" || *got[0].Sub != "ann" || got[0].Route != "GET /chat" {
				t.Fatalf("request line: %s", lines[0])
			}
			if got[1].Sub != nil || got[1].Route != "send" {
				t.Fatalf("message line: %s", lines[1])
			}
		}},
		{"clf", CLFFormat, func(t *testing.T, lines []string) {
			want := []string{
				`192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] "GET GET /chat HTTP/1.1" 200 1234 req-1`,
				`- - - [14/Nov/2023:22:13:20 +0000] "- send -" - - req-2`,
			}
			for i := range want {
				if lines[i] != want[i] {
					t.Fatalf("line %d:\ngot  %s\nwant %s", i, lines[i], want[i])
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			l := newTestLogger(t, Config{Format: tt.format}, &out)
			l.Log(&e)
			l.Log(&msg)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			lines := out.lines()
			if len(lines) != 2 {
				t.Fatalf("%d lines: %q", len(lines), lines)
			}
			tt.check(t, lines)
			if s := l.Stats(); s != (Stats{Logged: 2}) {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestDropsWhenBlocked(t *testing.T) {
	w := newGateWriter()
	l := newTestLogger(t, Config{Buffer: 4}, w)
	e := fullEntry()
	l.Log(&e)
	<-w.entered // the writer holds the first entry, in Write; the buffer is empty
	for i := 0; i < 4+3; i++ {
		l.Log(&e)
	}
	if s := l.Stats(); s != (Stats{Dropped: 3}) {
		t.Fatalf("with the writer blocked and 4 queued: %+v, want 3 dropped", s)
	}
	close(w.gate)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s != (Stats{Logged: 5, Dropped: 3}) {
		t.Fatalf("after Close: %+v", s)
	}
	if n := len(w.lines()); n != 5 {
		t.Fatalf("%d lines written, want 5", n)
	}
}

func TestCloseDrains(t *testing.T) {
	w := newGateWriter()
	l := newTestLogger(t, Config{Buffer: 100}, w)
	logN := func(from, n int) {
		for i := from; i < from+n; i++ {
			l.Log(&Entry{RequestID: strconv.Itoa(i)})
		}
	}
	logN(0, 1)
	<-w.entered
	logN(1, 50) // queued behind the blocked write
	closed := make(chan error)
	go func() { closed <- l.Close() }()
	waitFor(t, "Close to stop taking entries", l.isClosed)
	logN(51, 1) // after Close: dropped
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the writer could drain", err)
	default:
	}
	close(w.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	lines := w.lines()
	if len(lines) != 51 {
		t.Fatalf("%d lines, want 51", len(lines))
	}
	for i, line := range lines {
		if want := `{"requestId":"` + strconv.Itoa(i) + `",`; !strings.HasPrefix(line, want) {
			t.Fatalf("line %d is %s, want it to start %s", i, line, want)
		}
	}
	if s := l.Stats(); s != (Stats{Logged: 51, Dropped: 1}) {
		t.Fatalf("stats %+v", s)
	}
}

func TestClose(t *testing.T) {
	var out syncBuffer
	l := newTestLogger(t, Config{}, &out)
	l.Log(&Entry{RequestID: "a"})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := l.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Log(&Entry{RequestID: "b"}) // must not panic
	l.Log(nil)
	if s := l.Stats(); s != (Stats{Logged: 1, Dropped: 1}) {
		t.Fatalf("stats %+v", s)
	}
	if n := len(out.lines()); n != 1 {
		t.Fatalf("%d lines", n)
	}
}

func TestNilLogger(t *testing.T) {
	var l *Logger
	l.Log(&Entry{RequestID: "a"})
	if s := l.Stats(); s != (Stats{}) {
		t.Fatalf("stats %+v", s)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentLog(t *testing.T) {
	const goroutines, each = 32, 500
	var out syncBuffer
	l := newTestLogger(t, Config{Buffer: 256}, &out)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := fullEntry()
				e.RequestID = strconv.Itoa(g*each + i)
				l.Log(&e)
				if i%100 == 0 {
					_ = l.Stats()
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	if s.Logged+s.Dropped != goroutines*each || s.Lost != 0 || s.WriteErrors != 0 {
		t.Fatalf("stats %+v do not add up to %d", s, goroutines*each)
	}
	lines := out.lines()
	if uint64(len(lines)) != s.Logged {
		t.Fatalf("%d lines, %d logged", len(lines), s.Logged)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		var v struct{ RequestID string }
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if seen[v.RequestID] {
			t.Fatalf("request %s logged twice", v.RequestID)
		}
		seen[v.RequestID] = true
	}
}

// TestCloseWhileLogging races Close against Log: no entry may be lost
// between the two counters, and no send may reach a closed channel.
func TestCloseWhileLogging(t *testing.T) {
	const goroutines, each = 8, 2000
	l := newTestLogger(t, Config{Buffer: 64}, io.Discard)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range goroutines {
		wg.Go(func() {
			<-start
			e := fullEntry()
			for range each {
				l.Log(&e)
			}
		})
	}
	close(start)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if s := l.Stats(); s.Logged+s.Dropped != goroutines*each {
		t.Fatalf("stats %+v do not add up to %d", s, goroutines*each)
	}
}

// scriptWriter runs the next step of a script on each Write.
type scriptWriter struct {
	mu    sync.Mutex
	calls int
	steps []func(p []byte) (int, error) // the last repeats
}

func (w *scriptWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	step := w.steps[min(w.calls, len(w.steps)-1)]
	w.calls++
	w.mu.Unlock()
	return step(p)
}

var errDiskFull = errors.New("disk full")

func TestWriteErrors(t *testing.T) {
	fail := func([]byte) (int, error) { return 0, errDiskFull }
	t.Run("every write fails", func(t *testing.T) {
		w := &scriptWriter{steps: []func([]byte) (int, error){fail}}
		l := newTestLogger(t, Config{}, w)
		for range 10 {
			l.Log(&Entry{RequestID: "x"})
		}
		err := l.Close()
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("Close: %v, want the write error", err)
		}
		s := l.Stats()
		if s.Logged != 0 || s.Lost != 10 || s.WriteErrors == 0 || s.WriteErrors > 10 {
			t.Fatalf("stats %+v", s)
		}
		if w.calls != int(s.WriteErrors) || w.calls > 10 {
			t.Fatalf("%d writes for 10 entries and %d errors: the writer retried", w.calls, s.WriteErrors)
		}
	})
	t.Run("recovers", func(t *testing.T) {
		gate := newGateWriter()
		ok := func(p []byte) (int, error) { return gate.syncBuffer.Write(p) }
		w := &scriptWriter{steps: []func([]byte) (int, error){gate.Write, fail, ok}}
		l := newTestLogger(t, Config{}, w)
		l.Log(&Entry{RequestID: "1"})
		<-gate.entered
		l.Log(&Entry{RequestID: "2"}) // these two are one batch, which fails
		l.Log(&Entry{RequestID: "3"})
		close(gate.gate)
		waitFor(t, "the failed write", func() bool { return l.Stats().WriteErrors == 1 })
		l.Log(&Entry{RequestID: "4"})
		if err := l.Close(); err != nil {
			t.Fatalf("Close after a good last write: %v", err)
		}
		if s := l.Stats(); s != (Stats{Logged: 2, WriteErrors: 1, Lost: 2}) {
			t.Fatalf("stats %+v", s)
		}
		lines := gate.lines()
		if len(lines) != 2 || !strings.Contains(lines[0], `"1"`) || !strings.Contains(lines[1], `"4"`) {
			t.Fatalf("lines %q", lines)
		}
	})
	t.Run("short write", func(t *testing.T) {
		gate := newGateWriter()
		half := func(p []byte) (int, error) {
			n := strings.IndexByte(string(p), '\n') + 1 + 5 // the first line and part of the second
			gate.syncBuffer.Write(p[:n])
			return n, errDiskFull
		}
		w := &scriptWriter{steps: []func([]byte) (int, error){gate.Write, half}}
		l := newTestLogger(t, Config{}, w)
		l.Log(&Entry{RequestID: "1"})
		<-gate.entered
		for i := 2; i <= 4; i++ {
			l.Log(&Entry{RequestID: strconv.Itoa(i)})
		}
		close(gate.gate)
		if err := l.Close(); !errors.Is(err, errDiskFull) {
			t.Fatalf("Close: %v", err)
		}
		if s := l.Stats(); s != (Stats{Logged: 2, WriteErrors: 1, Lost: 2}) {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("short write without error", func(t *testing.T) {
		w := &scriptWriter{steps: []func([]byte) (int, error){func(p []byte) (int, error) { return len(p) - 1, nil }}}
		l := newTestLogger(t, Config{}, w)
		l.Log(&Entry{RequestID: "1"})
		if err := l.Close(); !errors.Is(err, io.ErrShortWrite) {
			t.Fatalf("Close: %v", err)
		}
		if s := l.Stats(); s != (Stats{WriteErrors: 1, Lost: 1}) {
			t.Fatalf("stats %+v", s)
		}
	})
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		cfg     Config
		wantErr error
	}{
		{name: "stdout", cfg: Config{Output: "stdout"}},
		{name: "default output", cfg: Config{}},
		{name: "stderr", cfg: Config{Output: "stderr"}},
		{name: "off", cfg: Config{Output: "off"}},
		{name: "file", cfg: Config{Output: filepath.Join(dir, "access.log")}},
		{name: "no such directory", cfg: Config{Output: filepath.Join(dir, "nope", "access.log")}, wantErr: ErrInvalidConfig},
		{name: "negative buffer", cfg: Config{Buffer: -1}, wantErr: ErrInvalidConfig},
		{name: "bad format", cfg: Config{Format: "$context.nope"}, wantErr: ErrUnknownVariable},
		{name: "off still checks the format", cfg: Config{Output: "off", Format: "$context.nope"}, wantErr: ErrUnknownVariable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.cfg)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("New: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := NewWriter(Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("NewWriter(nil): %v", err)
	}
}

func TestOutputOff(t *testing.T) {
	l, err := New(Config{Output: "off"})
	if err != nil {
		t.Fatal(err)
	}
	if l.done != nil || l.entries != nil {
		t.Fatal("an off logger has a writer")
	}
	e := fullEntry()
	l.Log(&e)
	if s := l.Stats(); s != (Stats{}) {
		t.Fatalf("stats %+v", s)
	}
	if n := testing.AllocsPerRun(100, func() { l.Log(&e) }); n != 0 {
		t.Fatalf("Log on an off logger allocates %v times", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFileOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	for i, id := range []string{"first", "second"} {
		l, err := New(Config{Output: path, Format: "$context.requestId"})
		if err != nil {
			t.Fatal(err)
		}
		l.Log(&Entry{RequestID: id})
		if err := l.Close(); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "first\nsecond\n" {
		t.Fatalf("file holds %q: not appended", b)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 {
		t.Fatalf("mode %v, want at most 0644", perm)
	}
}

func TestLogDoesNotAllocate(t *testing.T) {
	w := newGateWriter()
	l := newTestLogger(t, Config{Buffer: 1000}, w)
	e := fullEntry()
	l.Log(&e)
	<-w.entered // the writer is parked: only the caller's side is measured
	if n := testing.AllocsPerRun(500, func() { l.Log(&e) }); n != 0 {
		t.Fatalf("Log allocates %v times", n)
	}
	close(w.gate)
}
