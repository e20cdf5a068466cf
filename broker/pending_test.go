package broker

import (
	"testing"
	"time"
)

func TestPendingTable(t *testing.T) {
	p := newPendingTable(3)
	t0 := time.Unix(1000, 0)
	if !p.add(1, request{conn: 10}, time.Second, t0) || !p.add(2, request{conn: 20}, 5*time.Second, t0) || !p.add(3, request{conn: 30}, time.Second, t0.Add(500*time.Millisecond)) {
		t.Fatal("add refused below the bound")
	}
	if p.add(4, request{}, time.Second, t0) {
		t.Fatal("add accepted over the bound")
	}
	if r, ok := p.take(3); !ok || r.conn != 30 {
		t.Fatalf("take(3) = %+v, %v", r, ok)
	}
	if _, ok := p.take(3); ok {
		t.Fatal("take(3) twice")
	}
	got := p.expire(t0.Add(time.Second), nil)
	if len(got) != 1 || got[0].conn != 10 {
		t.Fatalf("expired %+v, want conn 10 only", got)
	}
	if got := p.expire(t0.Add(4*time.Second), nil); len(got) != 0 {
		t.Fatalf("expired %+v before its deadline", got)
	}
	got = p.expire(t0.Add(5*time.Second), nil)
	if len(got) != 1 || got[0].conn != 20 || p.len() != 0 {
		t.Fatalf("expired %+v, len %d", got, p.len())
	}
	if len(p.queues) != 0 {
		t.Fatalf("queues left behind: %d", len(p.queues))
	}
}
