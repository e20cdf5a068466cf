package admission

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestMeter(t *testing.T) {
	var m Meter
	r := Rate{PerSecond: 10, Burst: 3}
	for i := 0; i < 3; i++ {
		if ok, _ := m.Allow(t0, r); !ok {
			t.Fatalf("token %d of the burst refused", i)
		}
	}
	ok, wait := m.Allow(t0, r)
	if ok || wait != 100*time.Millisecond {
		t.Fatalf("4th at once: ok %v wait %v, want refused, 100ms", ok, wait)
	}
	if ok, _ := m.Allow(t0.Add(99*time.Millisecond), r); ok {
		t.Fatal("allowed before a token came back")
	}
	if ok, _ := m.Allow(t0.Add(100*time.Millisecond), r); !ok {
		t.Fatal("refused after a token came back")
	}
	if m.Full(t0.Add(100*time.Millisecond), r) || !m.Full(t0.Add(time.Second), r) {
		t.Fatal("Full wrong")
	}
	if ok, _ := (&Meter{}).Allow(t0, Rate{}); !ok {
		t.Fatal("the zero Rate limited")
	}
	if n := testing.AllocsPerRun(100, func() { m.Allow(t0, r) }); n != 0 {
		t.Fatalf("Meter.Allow allocates %v times", n)
	}
}

func TestConnectRate(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for i := 0; i < 500; i++ {
		if ref := p.Connect(ip, t0); ref != nil {
			t.Fatalf("connect %d refused: %v", i, ref)
		}
	}
	ref := p.Connect(ip, t0)
	if ref == nil || ref.Status != 429 || ref.RetryAfterHeader() != "1" || ref.Reason != "connect_rate" {
		t.Fatalf("the 501st in one second: %+v", ref)
	}
	if ref := p.Connect(ip, t0.Add(2*time.Millisecond)); ref != nil {
		t.Fatalf("after 2ms (one token at 500/s): %v", ref)
	}
	if got := p.Stats().Refused["connect_rate"]; got != 1 {
		t.Fatalf("counted %d refusals", got)
	}
}

func TestPerIP(t *testing.T) {
	p, err := New(Config{ConnectRate: Rate{PerSecond: -1}, PerIPConns: 2, PerIPConnectRate: Rate{PerSecond: 1, Burst: 3}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for i := 0; i < 2; i++ {
		if ref := p.Connect(a, t0); ref != nil {
			t.Fatalf("a %d: %v", i, ref)
		}
	}
	if ref := p.Connect(a, t0); ref == nil || ref.Reason != "ip_conns" {
		t.Fatalf("a's third connection: %+v", ref)
	}
	if ref := p.Connect(b, t0); ref != nil {
		t.Fatalf("another address is not affected: %v", ref)
	}
	p.Release(a, t0)
	if ref := p.Connect(a, t0); ref != nil {
		t.Fatalf("after a release: %v", ref)
	}
	p.Release(a, t0)
	p.Release(a, t0)
	// The rate: a used its burst of 3; the 4th within the second is refused.
	if ref := p.Connect(a, t0); ref == nil || ref.Reason != "ip_rate" {
		t.Fatalf("a over its rate: %+v", ref)
	}
	// An IP is forgotten once it holds nothing and its bucket is full.
	p.Release(b, t0)
	if got := p.Stats().TrackedIPs; got != 2 {
		t.Fatalf("tracking %d IPs, want 2 (b's bucket is not full yet)", got)
	}
	p.Connect(b, t0.Add(3*time.Second))
	p.Release(b, t0.Add(3*time.Second))
	if got := p.Stats().TrackedIPs; got != 2 {
		t.Fatalf("tracking %d IPs, want 2", got)
	}
	p.Connect(b, t0.Add(10*time.Second))
	p.Release(b, t0.Add(20*time.Second))
	if got := p.Stats().TrackedIPs; got != 1 {
		t.Fatalf("tracking %d IPs, want 1 once b is idle with a full bucket", got)
	}
}

func TestTrackedIPsBounded(t *testing.T) {
	p, _ := New(Config{ConnectRate: Rate{PerSecond: -1}, PerIPConns: 1, MaxTrackedIPs: 2})
	for i, s := range []string{"192.0.2.1", "192.0.2.2"} {
		if ref := p.Connect(netip.MustParseAddr(s), t0); ref != nil {
			t.Fatalf("%d: %v", i, ref)
		}
	}
	if ref := p.Connect(netip.MustParseAddr("192.0.2.3"), t0); ref == nil || ref.Reason != "ip_table" {
		t.Fatalf("a third IP with the table full: %+v", ref)
	}
	p.Release(netip.MustParseAddr("192.0.2.1"), t0)
	if ref := p.Connect(netip.MustParseAddr("192.0.2.3"), t0); ref != nil {
		t.Fatalf("after a release made room: %v", ref)
	}
}

func TestClientIP(t *testing.T) {
	p, err := New(Config{TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ peer, xff, want string }{
		{"192.0.2.9", "1.2.3.4", "192.0.2.9"},                 // untrusted peer: header ignored
		{"10.0.0.1", "1.2.3.4", "1.2.3.4"},                    // trusted proxy
		{"10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"}, // right-most untrusted
		{"10.0.0.1", "", "10.0.0.1"},
		{"10.0.0.1", "garbage", "10.0.0.1"},
		{"2001:db8::1", "::ffff:1.2.3.4", "1.2.3.4"},
	}
	for _, tt := range tests {
		got := p.ClientIP(netip.MustParseAddr(tt.peer), tt.xff)
		if got.String() != tt.want {
			t.Errorf("ClientIP(%s, %q) = %s, want %s", tt.peer, tt.xff, got, tt.want)
		}
	}
	if _, err := New(Config{TrustedProxies: []string{"nonsense"}}); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Fatalf("bad proxy: %v", err)
	}
	if _, err := New(Config{MessagePolicy: "ignore"}); err == nil {
		t.Fatal("bad message policy accepted")
	}
}

// TestConcurrentPerIPCap: many goroutines connect and release at once; the
// per-IP cap is never passed.
func TestConcurrentPerIPCap(t *testing.T) {
	const limit = 3
	p, _ := New(Config{ConnectRate: Rate{PerSecond: -1}, PerIPConns: limit})
	ip := netip.MustParseAddr("192.0.2.1")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		held int
		peak int
	)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if p.Connect(ip, t0) != nil {
					continue
				}
				mu.Lock()
				held++
				peak = max(peak, held)
				mu.Unlock()
				mu.Lock()
				held--
				mu.Unlock()
				p.Release(ip, t0)
			}
		}()
	}
	wg.Wait()
	if peak > limit {
		t.Fatalf("peak %d connections from one IP, cap %d", peak, limit)
	}
	if p.Stats().TrackedIPs != 0 {
		t.Fatalf("IP still tracked after every release")
	}
}

func BenchmarkMessage(b *testing.B) {
	p, _ := New(Config{})
	var m Meter
	r := Rate{PerSecond: 1e9, Burst: 1e9}
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		if p.Message(&m, r, now) != nil {
			b.Fatal("refused")
		}
	}
}

func BenchmarkConnect(b *testing.B) {
	p, _ := New(Config{ConnectRate: Rate{PerSecond: 1e9, Burst: 1e9}, PerIPConns: 1 << 30})
	ip := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if p.Connect(ip, t0) != nil {
			b.Fatal("refused")
		}
		p.Release(ip, t0)
	}
}

func TestOriginPolicy(t *testing.T) {
	p := NewOriginPolicy([]string{"https://app.example.com"})
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"", "gw.example.com", true},                       // not a browser
		{"https://gw.example.com", "gw.example.com", true}, // same host
		{"http://GW.example.com:8080", "gw.example.com:8080", true},
		{"https://app.example.com", "gw.example.com", true}, // listed
		{"https://APP.example.com", "gw.example.com", true},
		{"https://evil.example.com", "gw.example.com", false}, // cross-site
		{"https://gw.example.com.evil.com", "gw.example.com", false},
		{"null", "gw.example.com", false},
		{"https://gw.example.com:9999", "gw.example.com", false}, // other port, other origin
	}
	for _, tt := range tests {
		if got := p.Allow([]byte(tt.origin), []byte(tt.host)); got != tt.want {
			t.Errorf("Allow(%q, %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
	if !NewOriginPolicy([]string{"*"}).Allow([]byte("https://anything.example"), []byte("h")) {
		t.Error(`"*" did not allow any origin`)
	}
}
