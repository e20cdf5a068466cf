package conn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
)

func TestParseHeader(t *testing.T) {
	mask := []byte{1, 2, 3, 4}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	be16 := func(n uint16) []byte { return binary.BigEndian.AppendUint16(nil, n) }
	be64 := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	tests := []struct {
		name    string
		in      []byte
		want    ws.Header
		wantN   int
		wantErr error
	}{
		{name: "empty", in: nil},
		{name: "one byte", in: []byte{0x81}},
		{name: "7-bit unmasked", in: []byte{0x81, 5}, want: ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, wantN: 2},
		{name: "7-bit zero", in: []byte{0x82, 0}, want: ws.Header{Fin: true, OpCode: ws.OpBinary}, wantN: 2},
		{name: "7-bit max", in: []byte{0x02, 125}, want: ws.Header{OpCode: ws.OpBinary, Length: 125}, wantN: 2},
		{name: "7-bit masked", in: cat([]byte{0x81, 0x85}, mask), want: ws.Header{Fin: true, OpCode: ws.OpText, Length: 5, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, wantN: 6},
		{name: "7-bit masked, mask incomplete", in: cat([]byte{0x81, 0x85}, mask[:3])},
		{name: "trailing payload ignored", in: cat([]byte{0x81, 0x82}, mask, []byte("hi")), want: ws.Header{Fin: true, OpCode: ws.OpText, Length: 2, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, wantN: 6},
		{name: "16-bit", in: cat([]byte{0x82, 126}, be16(126)), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 126}, wantN: 4},
		{name: "16-bit max", in: cat([]byte{0x82, 126}, be16(0xffff)), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 0xffff}, wantN: 4},
		{name: "16-bit non-minimal", in: cat([]byte{0x82, 126}, be16(3)), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 3}, wantN: 4},
		{name: "16-bit length incomplete", in: []byte{0x82, 126, 0}},
		{name: "16-bit masked", in: cat([]byte{0x82, 0x80 | 126}, be16(300), mask), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 300, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, wantN: 8},
		{name: "16-bit masked, no mask yet", in: cat([]byte{0x82, 0x80 | 126}, be16(300))},
		{name: "64-bit", in: cat([]byte{0x82, 127}, be64(1<<16)), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 16}, wantN: 10},
		{name: "64-bit max", in: cat([]byte{0x82, 127}, be64(1<<63-1)), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1<<63 - 1}, wantN: 10},
		{name: "64-bit masked", in: cat([]byte{0x82, 0xff}, be64(70000), mask), want: ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 70000, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, wantN: 14},
		{name: "64-bit length incomplete", in: cat([]byte{0x82, 127}, be64(70000)[:7])},
		{name: "64-bit masked, mask incomplete", in: cat([]byte{0x82, 0xff}, be64(70000), mask[:1])},
		{name: "64-bit MSB set", in: cat([]byte{0x82, 127}, be64(1<<63)), wantN: 10, wantErr: ws.ErrHeaderLengthMSB},
		{name: "64-bit all ones", in: cat([]byte{0x82, 127}, be64(1<<64-1)), wantN: 10, wantErr: ws.ErrHeaderLengthMSB},
		// The error comes before the mask is there: nothing is waited
		// for, let alone allocated.
		{name: "64-bit MSB set, masked, no mask yet", in: cat([]byte{0x82, 0xff}, be64(1<<63)), wantN: 10, wantErr: ws.ErrHeaderLengthMSB},
		{name: "RSV bits", in: []byte{0xf1, 0}, want: ws.Header{Fin: true, Rsv: 7, OpCode: ws.OpText}, wantN: 2},
		{name: "RSV1 only", in: []byte{0x41, 0}, want: ws.Header{Rsv: 4, OpCode: ws.OpText}, wantN: 2},
		{name: "reserved opcode", in: []byte{0x8b, 0}, want: ws.Header{Fin: true, OpCode: 0xb}, wantN: 2},
		{name: "close not final", in: []byte{0x08, 0}, want: ws.Header{OpCode: ws.OpClose}, wantN: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := parseHeader(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d", n, tt.wantN)
			}
			if err == nil && n > 0 && got != tt.want {
				t.Errorf("header = %+v, want %+v", got, tt.want)
			}
			// Whenever parseHeader has a whole header, gobwas reads the
			// same one from the same bytes.
			if n > 0 && err == nil {
				ref, rerr := ws.ReadHeader(bytes.NewReader(tt.in))
				if rerr != nil || ref != got {
					t.Errorf("ws.ReadHeader = %+v, %v; parseHeader = %+v", ref, rerr, got)
				}
			}
		})
	}
}

// TestParseHeaderNoAlloc: headers are parsed in place.
func TestParseHeaderNoAlloc(t *testing.T) {
	b := []byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}
	if n := testing.AllocsPerRun(100, func() { parseHeader(b) }); n != 0 {
		t.Errorf("parseHeader allocates %v times", n)
	}
}

func TestPutHeader(t *testing.T) {
	tests := []struct {
		n     int
		wantN int
	}{
		{0, 2}, {1, 2}, {125, 2}, {126, 4}, {127, 4}, {0xffff, 4}, {0x10000, 10}, {1 << 32, 10}, {1<<63 - 1, 10},
	}
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary, ws.OpContinuation, ws.OpClose, ws.OpPing, ws.OpPong} {
		for _, fin := range []bool{true, false} {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("op=%v/fin=%v/n=%d", op, fin, tt.n), func(t *testing.T) {
					var b [maxHeaderBytes]byte
					hn := putHeader(b[:], op, fin, tt.n)
					if hn != tt.wantN {
						t.Fatalf("header length %d, want %d", hn, tt.wantN)
					}
					want := ws.Header{Fin: fin, OpCode: op, Length: int64(tt.n)}
					got, err := ws.ReadHeader(bytes.NewReader(b[:hn]))
					if err != nil || got != want {
						t.Fatalf("ws.ReadHeader = %+v, %v; want %+v", got, err, want)
					}
					if got, n, err := parseHeader(b[:hn]); err != nil || n != hn || got != want {
						t.Fatalf("parseHeader = %+v, %d, %v; want %+v, %d", got, n, err, want, hn)
					}
				})
			}
		}
	}
}

func TestAppendFrame(t *testing.T) {
	for _, size := range []int{0, 5, 125, 126, 65535, 65536, 100_000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			payload := bytes.Repeat([]byte{'z'}, size)
			prefix := []byte("already here")
			b := AppendFrame(bytes.Clone(prefix), ws.OpText, payload)
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("prefix lost")
			}
			r := bytes.NewReader(b[len(prefix):])
			h, err := ws.ReadHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			want := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(size)}
			if h != want {
				t.Fatalf("header %+v, want %+v", h, want)
			}
			if r.Len() != size || !bytes.Equal(b[len(b)-size:], payload) {
				t.Fatalf("payload of %d bytes, want %d", r.Len(), size)
			}
		})
	}
}

func TestValidUTF8Prefix(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		wantN  int
		wantOK bool
	}{
		{name: "empty", in: "", wantN: 0, wantOK: true},
		{name: "ASCII", in: "hello", wantN: 5, wantOK: true},
		{name: "complete multibyte", in: "h€llo 😀", wantN: len("h€llo 😀"), wantOK: true},
		{name: "max rune", in: "\U0010FFFF", wantN: 4, wantOK: true},
		{name: "last BMP", in: "\uFFFF", wantN: 3, wantOK: true},
		{name: "before surrogates", in: "\uD7FF", wantN: 3, wantOK: true},
		{name: "after surrogates", in: "\uE000", wantN: 3, wantOK: true},
		// Valid prefixes cut short: what comes before is reported done.
		{name: "2-byte cut", in: "ab\xc3", wantN: 2, wantOK: true},
		{name: "3-byte cut after 1", in: "a\xe2", wantN: 1, wantOK: true},
		{name: "3-byte cut after 2", in: "a\xe2\x82", wantN: 1, wantOK: true},
		{name: "4-byte cut after 1", in: "\xf0", wantN: 0, wantOK: true},
		{name: "4-byte cut after 2", in: "x\xf0\x9f", wantN: 1, wantOK: true},
		{name: "4-byte cut after 3", in: "xy\xf0\x9f\x98", wantN: 2, wantOK: true},
		{name: "E0 cut with lowest second byte", in: "\xe0\xa0", wantN: 0, wantOK: true},
		{name: "ED cut with highest second byte", in: "\xed\x9f", wantN: 0, wantOK: true},
		{name: "F4 cut with highest second byte", in: "\xf4\x8f\xbf", wantN: 0, wantOK: true},
		{name: "F0 cut with lowest second byte", in: "\xf0\x90", wantN: 0, wantOK: true},
		// Invalid: no continuation can repair these.
		{name: "lone continuation", in: "\x80", wantOK: false},
		{name: "continuation after ASCII", in: "a\x80", wantOK: false},
		{name: "FF", in: "\xff", wantOK: false},
		{name: "FE", in: "ab\xfe", wantOK: false},
		{name: "C0 overlong", in: "\xc0\x80", wantOK: false},
		{name: "C1 overlong", in: "\xc1", wantOK: false},
		{name: "C0 alone at end", in: "abc\xc0", wantOK: false},
		{name: "E0 overlong", in: "\xe0\x80\x80", wantOK: false},
		{name: "E0 overlong cut", in: "\xe0\x9f", wantOK: false},
		{name: "F0 overlong cut", in: "\xf0\x8f", wantOK: false},
		{name: "surrogate", in: "\xed\xa0\x80", wantOK: false},
		{name: "surrogate cut", in: "\xed\xa0", wantOK: false},
		{name: "low surrogate", in: "\xed\xbf\xbf", wantOK: false},
		{name: "above U+10FFFF", in: "\xf4\x90\x80\x80", wantOK: false},
		{name: "above U+10FFFF cut", in: "\xf4\x90", wantOK: false},
		{name: "F5", in: "\xf5", wantOK: false},
		{name: "F5 with continuations", in: "\xf5\x80\x80", wantOK: false},
		{name: "too many continuations", in: "\xe2\x82\xac\x80", wantOK: false},
		{name: "invalid then valid cut", in: "\xff\xe2\x82", wantOK: false},
		{name: "cut rune then ASCII", in: "\xe2a", wantOK: false},
		{name: "two cut runes", in: "\xe2\x82\xe2\x82", wantOK: false},
		{name: "four continuation bytes", in: "\x80\x80\x80\x80", wantOK: false},
		{name: "5-byte form", in: "\xf8\x88\x80\x80\x80", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := validUTF8Prefix([]byte(tt.in))
			if ok != tt.wantOK || (ok && n != tt.wantN) {
				t.Errorf("validUTF8Prefix(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.wantN, tt.wantOK)
			}
		})
	}
}

func TestIncompleteRune(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"\xc2", true}, {"\xdf", true}, {"\xe0", true}, {"\xe0\xa0", true}, {"\xe0\xbf", true},
		{"\xe1\x80", true}, {"\xec\xbf", true}, {"\xed\x80", true}, {"\xed\x9f", true}, {"\xee\x80", true},
		{"\xef\xbf", true}, {"\xf0\x90", true}, {"\xf0\x90\x80", true}, {"\xf0\xbf\xbf", true},
		{"\xf1\x80\x80", true}, {"\xf3\xbf\xbf", true}, {"\xf4\x80", true}, {"\xf4\x8f\xbf", true},
		// Not a prefix of any valid encoding.
		{"\x41", false}, {"\x80", false}, {"\xbf", false}, {"\xc0", false}, {"\xc1", false},
		{"\xe0\x80", false}, {"\xe0\x9f", false}, {"\xed\xa0", false}, {"\xed\xbf", false},
		{"\xf0\x80", false}, {"\xf0\x8f", false}, {"\xf4\x90", false}, {"\xf4\xbf", false},
		{"\xf5", false}, {"\xff", false}, {"\xe1\xc0", false}, {"\xf1\x80\x7f", false},
		// Complete, so not incomplete.
		{"\xc2\x80", false}, {"\xe2\x82\xac", false}, {"\xf0\x9f\x98\x80", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%x", tt.in), func(t *testing.T) {
			if got := incompleteRune([]byte(tt.in)); got != tt.want {
				t.Errorf("incompleteRune(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDeadlineList(t *testing.T) {
	newConns := func(n int) []*Conn {
		cs := make([]*Conn, n)
		for i := range cs {
			cs[i] = &Conn{id: uint64(i)}
		}
		return cs
	}
	ids := func(t *testing.T, l *deadlineList) []uint64 {
		t.Helper()
		var out []uint64
		for c := l.head; c != nil; c = c.dnext {
			out = append(out, c.id)
		}
		// Walk back too: the links must agree.
		var back []uint64
		for c := l.tail; c != nil; c = c.dprev {
			back = append([]uint64{c.id}, back...)
		}
		if fmt.Sprint(out) != fmt.Sprint(back) {
			t.Fatalf("links disagree: forward %v, backward %v", out, back)
		}
		return out
	}
	expireAll := func(t *testing.T, l *deadlineList, now int64) (got []uint64, next int64) {
		t.Helper()
		next = l.expire(now, func(c *Conn) {
			if c.dlist != nil || c.dnext != nil || c.dprev != nil {
				t.Fatalf("conn %d still linked when its deadline expired", c.id)
			}
			got = append(got, c.id)
		})
		return got, next
	}

	t.Run("push and expire in order", func(t *testing.T) {
		var l deadlineList
		cs := newConns(4)
		for i, c := range cs {
			l.push(c, int64(10*(i+1)))
		}
		if l.n != 4 || fmt.Sprint(ids(t, &l)) != "[0 1 2 3]" {
			t.Fatalf("list %v (n=%d)", ids(t, &l), l.n)
		}
		got, next := expireAll(t, &l, 5)
		if len(got) != 0 || next != 10 {
			t.Fatalf("expire(5) = %v, %d; want none, 10", got, next)
		}
		got, next = expireAll(t, &l, 20)
		if fmt.Sprint(got) != "[0 1]" || next != 30 {
			t.Fatalf("expire(20) = %v, %d; want [0 1], 30", got, next)
		}
		got, next = expireAll(t, &l, 1000)
		if fmt.Sprint(got) != "[2 3]" || next != -1 || l.n != 0 || l.head != nil || l.tail != nil {
			t.Fatalf("expire(1000) = %v, %d; list %+v", got, next, l)
		}
	})
	t.Run("remove head middle tail", func(t *testing.T) {
		var l deadlineList
		cs := newConns(5)
		for i, c := range cs {
			l.push(c, int64(i))
		}
		unlinkDeadline(cs[2])
		if fmt.Sprint(ids(t, &l)) != "[0 1 3 4]" || l.n != 4 || cs[2].dlist != nil {
			t.Fatalf("after removing the middle: %v n=%d", ids(t, &l), l.n)
		}
		unlinkDeadline(cs[0])
		unlinkDeadline(cs[4])
		if fmt.Sprint(ids(t, &l)) != "[1 3]" || l.n != 2 || l.head != cs[1] || l.tail != cs[3] {
			t.Fatalf("after removing head and tail: %v n=%d", ids(t, &l), l.n)
		}
		unlinkDeadline(cs[2]) // not on a list: no-op
		if l.n != 2 {
			t.Fatalf("unlinking an unlisted conn changed the list")
		}
		got, next := expireAll(t, &l, 10)
		if fmt.Sprint(got) != "[1 3]" || next != -1 {
			t.Fatalf("expire = %v, %d", got, next)
		}
		// A removed conn can go on a list again.
		l.push(cs[2], 50)
		if fmt.Sprint(ids(t, &l)) != "[2]" || l.n != 1 {
			t.Fatalf("re-push: %v", ids(t, &l))
		}
	})
	t.Run("move between lists", func(t *testing.T) {
		var a, b deadlineList
		cs := newConns(2)
		a.push(cs[0], 1)
		a.push(cs[1], 2)
		unlinkDeadline(cs[0])
		b.push(cs[0], 3)
		if fmt.Sprint(ids(t, &a)) != "[1]" || fmt.Sprint(ids(t, &b)) != "[0]" || cs[0].dlist != &b {
			t.Fatalf("a %v b %v", ids(t, &a), ids(t, &b))
		}
	})
	t.Run("callback may push onto another list", func(t *testing.T) {
		var a, b deadlineList
		cs := newConns(3)
		for i, c := range cs {
			a.push(c, int64(i))
		}
		next := a.expire(1, func(c *Conn) { b.push(c, 100) })
		if next != 2 || fmt.Sprint(ids(t, &b)) != "[0 1]" || fmt.Sprint(ids(t, &a)) != "[2]" {
			t.Fatalf("next %d, a %v, b %v", next, ids(t, &a), ids(t, &b))
		}
	})
}

func TestBufPool(t *testing.T) {
	t.Run("size classes", func(t *testing.T) {
		tests := []struct{ n, wantCap int }{
			{0, 512}, {1, 512}, {512, 512}, {513, 4 << 10}, {4 << 10, 4 << 10}, {4<<10 + 1, 16 << 10},
			{16 << 10, 16 << 10}, {16<<10 + 1, 64 << 10}, {64<<10 + 14, 256 << 10}, {256 << 10, 256 << 10},
			{256<<10 + 1, 1 << 20}, {1 << 20, 1 << 20}, {1<<20 + 1, 1<<20 + 1}, {3 << 20, 3 << 20},
		}
		for _, tt := range tests {
			for range 3 { // fresh and, possibly, recycled buffers
				b := getBuf(tt.n)
				if len(b) != 0 || cap(b) != tt.wantCap {
					t.Fatalf("getBuf(%d): len %d cap %d, want 0 and %d", tt.n, len(b), cap(b), tt.wantCap)
				}
				putBuf(append(b, 'x'))
			}
		}
	})
	t.Run("foreign buffers are not pooled", func(t *testing.T) {
		odd := make([]byte, 0, 1000)
		putBuf(odd)
		putBuf(nil)
		putBuf(make([]byte, 0, 2<<20))
		for range 100 {
			b := getBuf(600)
			if cap(b) != 4<<10 || unsafe.SliceData(b[:1]) == unsafe.SliceData(odd[:1]) {
				t.Fatalf("getBuf(600) returned a buffer of cap %d that was never a pool buffer", cap(b))
			}
		}
	})
	t.Run("grow", func(t *testing.T) {
		b := append(getBuf(10), "hello"...)
		same := growBuf(b, 100)
		if unsafe.SliceData(same) != unsafe.SliceData(b) || string(same) != "hello" {
			t.Fatalf("growBuf with room moved the buffer")
		}
		grown := growBuf(b, 600)
		if string(grown) != "hello" || cap(grown) != 4<<10 {
			t.Fatalf("growBuf(600): %q cap %d, want \"hello\" cap 4096", grown, cap(grown))
		}
		big := growBuf(append(getBuf(0), "x"...), 1<<20)
		if string(big) != "x" || cap(big) != 1<<20+1 {
			t.Fatalf("growBuf beyond the classes: %q cap %d", big, cap(big))
		}
		fromNil := growBuf(nil, 3)
		if len(fromNil) != 0 || cap(fromNil) != 512 {
			t.Fatalf("growBuf(nil, 3): len %d cap %d", len(fromNil), cap(fromNil))
		}
	})
}

func TestParseSlowConsumerPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    SlowConsumerPolicy
		wantErr bool
	}{
		{"", SlowConsumerDrop, false},
		{"drop", SlowConsumerDrop, false},
		{"DROP", SlowConsumerDrop, false},
		{"close", SlowConsumerClose, false},
		{"Close", SlowConsumerClose, false},
		{"kill", 0, true},
		{" close", 0, true},
		{"drop,close", 0, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := ParseSlowConsumerPolicy(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseSlowConsumerPolicy(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "drop") {
				t.Errorf("error %q does not say what is accepted", err)
			}
			if err == nil {
				back, err := ParseSlowConsumerPolicy(got.String())
				if err != nil || back != got {
					t.Errorf("String() %q does not parse back: %v, %v", got.String(), back, err)
				}
			}
		})
	}
}

func TestConfigValidateDefaults(t *testing.T) {
	if err := (Config{}).withDefaults().validate(); err != nil {
		t.Fatalf("zero Config with defaults: %v", err)
	}
	// Validation reports every problem, not just the first.
	err := Config{Path: "x", MaxHeadBytes: 1, MaxFrameBytes: 1, MaxMessageBytes: 1, WriteQueueBytes: 1, CloseTimeout: -1}.withDefaults().validate()
	for _, want := range []string{"path", "max head bytes", "max frame bytes", "write queue bytes", "close timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestDisconnectError(t *testing.T) {
	tests := []struct {
		d    Disconnect
		want string
	}{
		{Disconnect{Code: 1000}, "websocket closed: 1000"},
		{Disconnect{Code: 1009, Reason: "frame too big"}, "websocket closed: 1009 frame too big"},
		{DisconnectAbnormal, "websocket closed: 1006 connection lost"},
	}
	for _, tt := range tests {
		if got := tt.d.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.d, got, tt.want)
		}
	}
	// The server's own close reasons fit a close frame.
	for _, d := range []Disconnect{DisconnectShutdown, DisconnectSlowConsumer, DisconnectFrameTooBig, DisconnectMessageTooBig, DisconnectBadUTF8} {
		if len(d.Reason)+2 > ws.MaxControlFramePayloadSize {
			t.Errorf("reason %q does not fit a close frame", d.Reason)
		}
	}
}

func TestWheel(t *testing.T) {
	var w wheel
	sec := int64(time.Second)
	conns := make([]*Conn, 4)
	for i := range conns {
		conns[i] = &Conn{}
	}
	w.add(conns[0], 2*sec)
	w.add(conns[1], 2*sec+sec/2)
	w.add(conns[2], (wheelSlots+3)*sec) // more than a revolution away
	w.add(conns[3], 5*sec)
	w.remove(conns[3])
	if w.n != 3 {
		t.Fatalf("n = %d, want 3", w.n)
	}
	var fired []*Conn
	collect := func(c *Conn) { fired = append(fired, c) }
	w.advance(2*sec, collect)
	if len(fired) != 1 || fired[0] != conns[0] {
		t.Fatalf("at 2s fired %d, want conns[0]", len(fired))
	}
	fired = nil
	w.advance(2*sec+sec/4, collect)
	if len(fired) != 0 {
		t.Fatalf("at 2.25s fired %d, want none before 2.5s", len(fired))
	}
	fired = nil
	w.advance(10*sec, collect)
	if len(fired) != 1 || fired[0] != conns[1] {
		t.Fatalf("by 10s fired %d, want conns[1]", len(fired))
	}
	fired = nil
	// A long sleep: one revolution is visited, the far entry fires once due.
	w.advance((wheelSlots+3)*sec, collect)
	if len(fired) != 1 || fired[0] != conns[2] || w.n != 0 {
		t.Fatalf("far entry: fired %d, n %d", len(fired), w.n)
	}
	if w.next() != -1 {
		t.Fatalf("empty wheel next = %d", w.next())
	}
	// A deadline already past is filed under the next tick.
	w.add(conns[0], 0)
	if w.next() != w.at*sec {
		t.Fatalf("next = %d, want %d", w.next(), w.at*sec)
	}
}
