package routes

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// specialWord must say yes exactly when one of the eight bytes needs a look.
func TestSpecialWord(t *testing.T) {
	check := func(w uint64) {
		t.Helper()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], w)
		want := false
		for _, c := range b {
			want = want || strClass[c] != strPlain
		}
		if got := specialWord(w); got != want {
			t.Fatalf("specialWord(% x) = %v, want %v", b, got, want)
		}
	}
	for pos := range 8 {
		for v := range 256 {
			for _, fill := range []byte{'a', ' ', '!', '#', '[', ']', 0x7f} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(v)
				check(binary.LittleEndian.Uint64(b[:]))
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 18 {
		check(r.Uint64())
		// Mostly printable ASCII, where borrows between bytes matter most.
		check(r.Uint64()&0x7f7f7f7f7f7f7f7f | 0x2020202020202020)
	}
}
