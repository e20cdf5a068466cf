package conn

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/gatecast/gatecast/tlsrecord"
)

func testLayer(t *testing.T) *tlsrecord.Layer {
	t.Helper()
	var s tlsrecord.Secrets
	secret := strings.Repeat("ab", 32)
	s.Write([]byte("CLIENT_TRAFFIC_SECRET_0 00 " + secret + "\n"))
	s.Write([]byte("SERVER_TRAFFIC_SECRET_0 00 " + secret + "\n"))
	l, err := tlsrecord.NewServer(tls.TLS_AES_128_GCM_SHA256, &s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestWarmList: a connection's AEAD states are dropped between warmFor
// and twice warmFor after its records last moved, never while they move,
// and a removed connection is never touched again.
func TestWarmList(t *testing.T) {
	var w warmList
	sec := int64(time.Second)
	a, b, gone := &tlsState{rec: testLayer(t)}, &tlsState{rec: testLayer(t)}, &tlsState{rec: testLayer(t)}
	w.touch(a, 1)
	w.touch(gone, 1)
	w.touch(b, sec/2)
	w.remove(gone)
	if next := w.cool(sec / 2); next != 1+int64(warmFor) {
		t.Fatalf("next cooling at %d, want %d", next, 1+int64(warmFor))
	}
	w.touch(a, sec) // used again while filed: stays warm
	if next := w.cool(1 + int64(warmFor)); a.warmFiled == 0 || next != sec/2+int64(warmFor) {
		t.Fatalf("a used at 1s was cooled at 1s (filed %d, next %d)", a.warmFiled, next)
	}
	w.cool(sec/2 + int64(warmFor))
	if b.warmFiled != 0 {
		t.Fatal("b, quiet for warmFor, is still filed")
	}
	if a.warmFiled == 0 {
		t.Fatal("a, used half a warmFor ago, was cooled")
	}
	if next := w.cool(3 * sec); next != -1 || a.warmFiled != 0 {
		t.Fatalf("after 3s: a filed %d, next %d; want both gone", a.warmFiled, next)
	}
	if w.head != nil || w.tail != nil || gone.warmFiled != 0 {
		t.Fatal("list not empty")
	}
}
