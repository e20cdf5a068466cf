package accesslog

import (
	"io"
	"testing"
)

// BenchmarkLog is the request path's cost of Log, 0 allocations in every
// case:
//
//   - path=queued: the entry goes into the buffer (the writer is parked
//     and the benchmark empties the buffer with the timer stopped);
//   - path=full: the buffer is full and the entry is dropped;
//   - path=live: a real writer formats DefaultFormat to io.Discard behind
//     the callers; dropped/op shows how often they outran it, so its
//     ns/op mixes the two paths above.
func BenchmarkLog(b *testing.B) {
	b.Run("path=queued/goroutines=1", func(b *testing.B) {
		const chunk = 4096
		w := newGateWriter()
		l, err := NewWriter(Config{Buffer: chunk}, w)
		if err != nil {
			b.Fatal(err)
		}
		e := fullEntry()
		l.Log(&e)
		<-w.entered // parked on the first entry
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i += chunk {
			n := min(chunk, b.N-i)
			for range n {
				l.Log(&e)
			}
			b.StopTimer()
			for range n {
				<-l.entries
			}
			b.StartTimer()
		}
		b.StopTimer()
		if s := l.Stats(); s.Dropped != 0 {
			b.Fatalf("%d dropped: the benchmark measured the wrong path", s.Dropped)
		}
		close(w.gate)
		l.Close()
	})
	b.Run("path=full/goroutines=1", func(b *testing.B) {
		w := newGateWriter()
		l, err := NewWriter(Config{Buffer: 1}, w)
		if err != nil {
			b.Fatal(err)
		}
		e := fullEntry()
		l.Log(&e)
		<-w.entered
		l.Log(&e) // fills the buffer
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			l.Log(&e)
		}
		b.StopTimer()
		if s := l.Stats(); s.Dropped != uint64(b.N) {
			b.Fatalf("%d of %d dropped: the benchmark measured the wrong path", s.Dropped, b.N)
		}
		close(w.gate)
		l.Close()
	})
	for _, bc := range []struct {
		name     string
		parallel bool
	}{
		{"path=live/goroutines=1", false},
		{"path=live/goroutines=GOMAXPROCS", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := NewWriter(Config{}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			e := fullEntry()
			b.ReportAllocs()
			b.ResetTimer()
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					e := e
					for pb.Next() {
						l.Log(&e)
					}
				})
			} else {
				for b.Loop() {
					l.Log(&e)
				}
			}
			b.StopTimer()
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			s := l.Stats()
			if total := s.Logged + s.Dropped; total != uint64(b.N) {
				b.Fatalf("stats %+v for %d entries", s, b.N)
			}
			b.ReportMetric(float64(s.Dropped)/float64(b.N), "dropped/op")
		})
	}
}

// BenchmarkFormat is the writer goroutine's cost per entry.
func BenchmarkFormat(b *testing.B) {
	for _, bc := range []struct {
		name   string
		format string
		claims map[string]any
	}{
		{"format=default", "", nil},
		{"format=clf", CLFFormat, nil},
		{"format=claims/scalar", `{"id":"$context.requestId","sub":"$context.authorizer.claims.sub","exp":$context.authorizer.claims.exp}`,
			map[string]any{"sub": "ann", "exp": 1.7e9}},
		{"format=claims/array", `{"id":"$context.requestId","roles":$context.authorizer.claims.roles}`,
			map[string]any{"roles": []any{"admin", "chat"}}},
		{"format=escaping", "", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := mustCompile(b, bc.format)
			e := fullEntry()
			e.Claims = bc.claims
			if bc.name == "format=escaping" {
				e.Path = "/search?q=\"x\"\n\x00é"
				e.Error = "backend said: \"no\"\r\n\ttry later"
			}
			var sc scratch
			buf := f.appendEntry(nil, &e, &sc)
			b.SetBytes(int64(len(buf) + 1))
			b.ReportAllocs()
			for b.Loop() {
				buf = append(f.appendEntry(buf[:0], &e, &sc), '\n')
			}
		})
	}
}
