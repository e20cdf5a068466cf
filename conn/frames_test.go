package conn_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
)

// bigFrames raises the frame and message limits above 64 KiB so that the
// 64-bit length encoding can be echoed.
var bigFrames = conn.Config{MaxFrameBytes: 128 << 10, MaxMessageBytes: 256 << 10}

func TestEcho(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, bigFrames, h)
	c := open(t, srv)
	for _, op := range []ws.OpCode{ws.OpText, ws.OpBinary} {
		for _, size := range []int{0, 1, 125, 126, 127, 4096, 32 << 10, 65535, 65536, 100_000} {
			t.Run(fmt.Sprintf("op=%v/size=%d", op, size), func(t *testing.T) {
				c.t = t
				p := pattern(size)
				c.writeFrame(op, true, p)
				c.expectFrame(op, p)
			})
		}
	}
}

// TestEchoPiecemeal delivers frames in pieces, waiting after each piece
// until the server has read it, so every boundary inside the header and
// payload is a read boundary.
func TestEchoPiecemeal(t *testing.T) {
	ones := func(n int) []int {
		p := make([]int, n)
		for i := range p {
			p[i] = 1
		}
		return p
	}
	type piecemeal struct {
		name   string
		size   int   // payload bytes
		pieces []int // lengths of the first writes; the rest follows in one
	}
	tests := []piecemeal{
		{name: "7-bit length one byte per write", size: 20, pieces: ones(26)},
		{name: "16-bit length one byte per write", size: 130, pieces: ones(138)},
		{name: "empty payload one byte per write", size: 0, pieces: ones(6)},
		{name: "64-bit length header a byte at a time", size: 70_000, pieces: ones(14)},
		{name: "64-bit length in 4 KiB pieces", size: 70_000, pieces: []int{14, 4096, 4096, 4096, 4096}},
	}
	// Frames whose whole length is at or next to a buffer size class,
	// with the first read ending inside the header: the buffer that
	// carries the frame between reads must grow to exactly what it needs.
	for _, total := range []int{511, 512, 513, 4095, 4096, 4097, 16384, 16385, 65536, 65537, 65550, 65551} {
		size := total - 6
		if size > 125 {
			size = total - 8
		}
		if size > 0xffff {
			size = total - 14
		}
		for _, first := range []int{1, 3} {
			tests = append(tests, piecemeal{name: fmt.Sprintf("total=%d/first=%d", total, first), size: size, pieces: []int{first}})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, bigFrames, h)
			c := open(t, srv)
			base := srv.Stats().BytesIn
			p := pattern(tt.size)
			f := maskedFrame(ws.OpBinary, true, p)
			at := 0
			for _, n := range append(tt.pieces, len(f)) {
				n = min(n, len(f)-at)
				if n == 0 {
					break
				}
				c.write(f[at : at+n])
				at += n
				waitFor(t, "server to read the piece", ioTimeout, func() bool {
					return srv.Stats().BytesIn == base+uint64(at) || len(h.closed()) > 0
				})
				if d := h.closed(); len(d) > 0 {
					t.Fatalf("connection closed after %d of %d bytes: %+v", at, len(f), d[0])
				}
			}
			c.expectFrame(ws.OpBinary, p)
		})
	}
}

// TestEchoManyFramesOneWrite sends many frames in one write, the last one
// cut so that its rest arrives in a second write.
func TestEchoManyFramesOneWrite(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	var buf []byte
	var want [][]byte
	for i := range 200 {
		p := []byte(fmt.Sprintf("message %d %s", i, pattern(i)))
		want = append(want, p)
		buf = append(buf, maskedFrame(ws.OpText, true, p)...)
	}
	c.write(buf[:len(buf)-7])
	c.write(buf[len(buf)-7:])
	for _, p := range want {
		c.expectFrame(ws.OpText, p)
	}
}

func TestFragmentedMessages(t *testing.T) {
	type frag struct {
		op ws.OpCode
		p  string
	}
	tests := []struct {
		name   string
		frags  []frag // the last one is sent final
		wantOp ws.OpCode
		want   string
	}{
		{name: "text in three", frags: []frag{{ws.OpText, "Hel"}, {ws.OpContinuation, "lo, "}, {ws.OpContinuation, "world"}}, wantOp: ws.OpText, want: "Hello, world"},
		{name: "binary in two", frags: []frag{{ws.OpBinary, "\x00\xff"}, {ws.OpContinuation, "\xfe\x01"}}, wantOp: ws.OpBinary, want: "\x00\xff\xfe\x01"},
		{name: "euro sign split", frags: []frag{{ws.OpText, "a\xe2"}, {ws.OpContinuation, "\x82\xacb"}}, wantOp: ws.OpText, want: "a€b"},
		{name: "euro sign split after first byte of continuation", frags: []frag{{ws.OpText, "a\xe2\x82"}, {ws.OpContinuation, "\xac"}}, wantOp: ws.OpText, want: "a€"},
		{name: "4-byte rune over three fragments", frags: []frag{{ws.OpText, "\xf0"}, {ws.OpContinuation, "\x9f\x98"}, {ws.OpContinuation, "\x80!"}}, wantOp: ws.OpText, want: "😀!"},
		{name: "rune split one byte per fragment", frags: []frag{{ws.OpText, "\xf4"}, {ws.OpContinuation, "\x8f"}, {ws.OpContinuation, "\xbf"}, {ws.OpContinuation, "\xbf"}}, wantOp: ws.OpText, want: "\U0010FFFF"},
		{name: "empty fragments", frags: []frag{{ws.OpText, ""}, {ws.OpContinuation, ""}, {ws.OpContinuation, "x"}, {ws.OpContinuation, ""}}, wantOp: ws.OpText, want: "x"},
		{name: "all empty", frags: []frag{{ws.OpBinary, ""}, {ws.OpContinuation, ""}}, wantOp: ws.OpBinary, want: ""},
		{name: "exactly MaxMessageBytes", frags: []frag{
			{ws.OpBinary, strings.Repeat("a", 32<<10)}, {ws.OpContinuation, strings.Repeat("b", 32<<10)},
			{ws.OpContinuation, strings.Repeat("c", 32<<10)}, {ws.OpContinuation, strings.Repeat("d", 32<<10)},
		}, wantOp: ws.OpBinary, want: strings.Repeat("a", 32<<10) + strings.Repeat("b", 32<<10) + strings.Repeat("c", 32<<10) + strings.Repeat("d", 32<<10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{}, h) // 32 KiB frames, 128 KiB messages
			c := open(t, srv)
			for i, f := range tt.frags {
				c.writeFrame(f.op, i == len(tt.frags)-1, []byte(f.p))
			}
			c.expectFrame(tt.wantOp, []byte(tt.want))
			// The reassembly state is reset: a plain message follows.
			c.writeFrame(ws.OpText, true, []byte("next"))
			c.expectFrame(ws.OpText, []byte("next"))
		})
	}
}

func TestPing(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	for _, p := range [][]byte{nil, []byte("hello"), pattern(125)} {
		t.Run(fmt.Sprintf("payload=%d", len(p)), func(t *testing.T) {
			c.t = t
			c.writeFrame(ws.OpPing, true, p)
			c.expectFrame(ws.OpPong, p)
		})
	}
	if got := len(h.closed()); got != 0 {
		t.Errorf("%d connections closed", got)
	}
}

// TestControlBetweenFragments interleaves control frames with the
// fragments of a message: pings are answered at once, pongs ignored, and
// the message is still reassembled.
func TestControlBetweenFragments(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpText, false, []byte("abc"))
	c.writeFrame(ws.OpPing, true, []byte("p1"))
	c.expectFrame(ws.OpPong, []byte("p1"))
	c.writeFrame(ws.OpContinuation, false, []byte("d\xc3"))
	c.writeFrame(ws.OpPong, true, []byte("unsolicited"))
	c.writeFrame(ws.OpPing, true, []byte("p2"))
	c.expectFrame(ws.OpPong, []byte("p2"))
	c.writeFrame(ws.OpContinuation, true, []byte("\xa9f"))
	c.expectFrame(ws.OpText, []byte("abcdéf"))
}

func TestUnsolicitedPong(t *testing.T) {
	h := &testHandler{}
	srv := startServer(t, conn.Config{}, h)
	c := open(t, srv)
	c.writeFrame(ws.OpPong, true, []byte("nobody asked"))
	c.writeFrame(ws.OpPong, true, nil)
	c.writeFrame(ws.OpText, true, []byte("echo"))
	// The next frame is the echo: the pongs were neither answered nor
	// treated as an error.
	c.expectFrame(ws.OpText, []byte("echo"))
	if st := srv.Stats(); st.FramesIn != 3 || st.Open != 1 {
		t.Errorf("FramesIn = %d, Open = %d; want 3 and 1", st.FramesIn, st.Open)
	}
}

// TestProtocolErrors sends frames that break RFC 6455 or a configured
// limit. Each must get the right close code, then the server's FIN, and
// OnClose must report the same code.
func TestProtocolErrors(t *testing.T) {
	masked := func(h ws.Header) ws.Header {
		h.Masked = true
		h.Mask = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
		return h
	}
	hdr := func(h ws.Header) []byte { return rawFrame(h, nil) }
	frames := func(fs ...[]byte) []byte { return bytes.Join(fs, nil) }
	const (
		maxFrame   = 32 << 10 // the defaults
		maxMessage = 128 << 10
	)
	tests := []struct {
		name string
		send []byte
		want ws.StatusCode
	}{
		{name: "unmasked frame", send: rawFrame(ws.Header{Fin: true, OpCode: ws.OpText, Length: 5}, []byte("hello")), want: ws.StatusProtocolError},
		{name: "unmasked ping", send: rawFrame(ws.Header{Fin: true, OpCode: ws.OpPing, Length: 1}, []byte("x")), want: ws.StatusProtocolError},
		{name: "RSV1 set", send: rawFrame(masked(ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 2}), []byte("hi")), want: ws.StatusProtocolError},
		{name: "RSV2 set", send: rawFrame(masked(ws.Header{Fin: true, Rsv: 2, OpCode: ws.OpText, Length: 2}), []byte("hi")), want: ws.StatusProtocolError},
		{name: "RSV3 set", send: rawFrame(masked(ws.Header{Fin: true, Rsv: 1, OpCode: ws.OpBinary, Length: 2}), []byte("hi")), want: ws.StatusProtocolError},
		{name: "RSV on a ping", send: rawFrame(masked(ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpPing}), nil), want: ws.StatusProtocolError},
		{name: "reserved data opcode 3", send: rawFrame(masked(ws.Header{Fin: true, OpCode: 3, Length: 1}), []byte("x")), want: ws.StatusProtocolError},
		{name: "reserved data opcode 7", send: rawFrame(masked(ws.Header{Fin: true, OpCode: 7}), nil), want: ws.StatusProtocolError},
		{name: "reserved control opcode 0xB", send: rawFrame(masked(ws.Header{Fin: true, OpCode: 0xB, Length: 1}), []byte("x")), want: ws.StatusProtocolError},
		{name: "reserved control opcode 0xF", send: rawFrame(masked(ws.Header{Fin: true, OpCode: 0xF}), nil), want: ws.StatusProtocolError},
		{name: "ping payload 126", send: maskedFrame(ws.OpPing, true, pattern(126)), want: ws.StatusProtocolError},
		{name: "pong payload 126", send: maskedFrame(ws.OpPong, true, pattern(126)), want: ws.StatusProtocolError},
		{name: "close payload 126", send: maskedFrame(ws.OpClose, true, closeBody(ws.StatusNormalClosure, string(pattern(124)))), want: ws.StatusProtocolError},
		{name: "fragmented ping", send: maskedFrame(ws.OpPing, false, []byte("x")), want: ws.StatusProtocolError},
		{name: "fragmented close", send: maskedFrame(ws.OpClose, false, closeBody(ws.StatusNormalClosure, "")), want: ws.StatusProtocolError},
		{name: "continuation without start", send: maskedFrame(ws.OpContinuation, true, []byte("x")), want: ws.StatusProtocolError},
		{name: "unfinished continuation without start", send: maskedFrame(ws.OpContinuation, false, []byte("x")), want: ws.StatusProtocolError},
		{name: "text during fragmented message", send: frames(
			maskedFrame(ws.OpText, false, []byte("a")),
			maskedFrame(ws.OpText, true, []byte("b")),
		), want: ws.StatusProtocolError},
		{name: "binary during fragmented message", send: frames(
			maskedFrame(ws.OpBinary, false, []byte("a")),
			maskedFrame(ws.OpContinuation, false, []byte("b")),
			maskedFrame(ws.OpBinary, false, []byte("c")),
		), want: ws.StatusProtocolError},
		{name: "invalid UTF-8 byte", send: maskedFrame(ws.OpText, true, []byte("ab\xffcd")), want: ws.StatusInvalidFramePayloadData},
		{name: "overlong encoding", send: maskedFrame(ws.OpText, true, []byte("\xc0\x80")), want: ws.StatusInvalidFramePayloadData},
		{name: "surrogate", send: maskedFrame(ws.OpText, true, []byte("\xed\xa0\x80")), want: ws.StatusInvalidFramePayloadData},
		{name: "above U+10FFFF", send: maskedFrame(ws.OpText, true, []byte("\xf4\x90\x80\x80")), want: ws.StatusInvalidFramePayloadData},
		{name: "truncated rune in a whole message", send: maskedFrame(ws.OpText, true, []byte("a\xe2\x82")), want: ws.StatusInvalidFramePayloadData},
		{name: "invalid UTF-8 split across fragments", send: frames(
			maskedFrame(ws.OpText, false, []byte("a\xe2")),
			maskedFrame(ws.OpContinuation, true, []byte("\x28b")),
		), want: ws.StatusInvalidFramePayloadData},
		{name: "rune left unfinished by the final fragment", send: frames(
			maskedFrame(ws.OpText, false, []byte("a\xe2")),
			maskedFrame(ws.OpContinuation, true, []byte("\x82")),
		), want: ws.StatusInvalidFramePayloadData},
		// The first fragment alone is enough to fail: no continuation can
		// repair an overlong sequence, so the server must not wait for one.
		{name: "invalid first fragment fails at once", send: maskedFrame(ws.OpText, false, []byte("ok\xc0\x80")), want: ws.StatusInvalidFramePayloadData},
		{name: "surrogate split across fragments", send: frames(
			maskedFrame(ws.OpText, false, []byte("\xed")),
			maskedFrame(ws.OpContinuation, false, []byte("\xa0")),
		), want: ws.StatusInvalidFramePayloadData},
		// Only the header: the server must answer without waiting for a
		// payload it will refuse anyway.
		{name: "frame over MaxFrameBytes", send: hdr(masked(ws.Header{Fin: true, OpCode: ws.OpBinary, Length: maxFrame + 1})), want: ws.StatusMessageTooBig},
		{name: "frame over MaxFrameBytes inside a message", send: frames(
			maskedFrame(ws.OpBinary, false, []byte("a")),
			hdr(masked(ws.Header{OpCode: ws.OpContinuation, Length: maxFrame + 1})),
		), want: ws.StatusMessageTooBig},
		{name: "message over MaxMessageBytes", send: frames(
			maskedFrame(ws.OpBinary, false, pattern(maxFrame)),
			maskedFrame(ws.OpContinuation, false, pattern(maxFrame)),
			maskedFrame(ws.OpContinuation, false, pattern(maxFrame)),
			maskedFrame(ws.OpContinuation, false, pattern(maxFrame)),
			hdr(masked(ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 1})),
		), want: ws.StatusMessageTooBig},
		{name: "text message over MaxMessageBytes", send: frames(
			maskedFrame(ws.OpText, false, pattern(maxMessage-10)),
			hdr(masked(ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 11})),
		), want: ws.StatusMessageTooBig},
		{name: "length 2^63", send: header64(ws.OpBinary, 1<<63), want: ws.StatusProtocolError},
		{name: "length 2^64-1", send: header64(ws.OpBinary, 1<<64-1), want: ws.StatusProtocolError},
		{name: "length 2^63-1", send: header64(ws.OpBinary, 1<<63-1), want: ws.StatusMessageTooBig},
		{name: "control length 2^63-1", send: header64(ws.OpPing, 1<<63-1), want: ws.StatusProtocolError},
		// After a failure the server drops what follows: this echo request
		// must not be answered.
		{name: "frames after the error are dropped", send: frames(
			maskedFrame(ws.OpText, true, []byte("\xff")),
			maskedFrame(ws.OpText, true, []byte("not echoed")),
			maskedFrame(ws.OpPing, true, []byte("not answered")),
		), want: ws.StatusInvalidFramePayloadData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{}, h)
			c := open(t, srv)
			c.write(tt.send)
			c.expectClose(tt.want)
			c.expectEOF()
			c.nc.Close()
			d := h.waitClosed(t, 1)
			if d.Code != tt.want || d.ByPeer {
				t.Errorf("OnClose got %+v, want code %d not by peer", d, tt.want)
			}
			if n := h.messageCount(); n != 0 {
				t.Errorf("%d messages reached the handler", n)
			}
			waitFor(t, "socket to close", ioTimeout, func() bool { return srv.Stats().Sockets == 0 })
		})
	}
}

// TestHugeLengthNoAllocation checks that a header announcing an absurd
// payload length is refused before anything is allocated for it.
func TestHugeLengthNoAllocation(t *testing.T) {
	tests := []struct {
		name   string
		length uint64
		want   ws.StatusCode
	}{
		{name: "2^63", length: 1 << 63, want: ws.StatusProtocolError},
		{name: "2^63-1", length: 1<<63 - 1, want: ws.StatusMessageTooBig},
		{name: "2^40", length: 1 << 40, want: ws.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, conn.Config{}, h)
			c := open(t, srv)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			c.write(header64(ws.OpBinary, tt.length))
			c.expectClose(tt.want)
			c.expectEOF()
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
				t.Errorf("allocated %d bytes while refusing the frame, want < 1 MiB", d)
			}
		})
	}
}

func TestMessageLimits(t *testing.T) {
	// Limits are inclusive: a frame of exactly MaxFrameBytes and a message
	// of exactly MaxMessageBytes pass.
	cfg := conn.Config{MaxFrameBytes: 1000, MaxMessageBytes: 2500}
	tests := []struct {
		name  string
		sizes []int // fragment sizes
		want  ws.StatusCode
	}{
		{name: "frame at limit", sizes: []int{1000}},
		{name: "frame over limit", sizes: []int{1001}, want: ws.StatusMessageTooBig},
		{name: "message at limit", sizes: []int{1000, 1000, 500}},
		{name: "message over limit", sizes: []int{1000, 1000, 501}, want: ws.StatusMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHandler{}
			srv := startServer(t, cfg, h)
			c := open(t, srv)
			var whole []byte
			for i, n := range tt.sizes {
				op := ws.OpContinuation
				if i == 0 {
					op = ws.OpBinary
				}
				p := pattern(n)
				whole = append(whole, p...)
				c.writeFrame(op, i == len(tt.sizes)-1, p)
			}
			if tt.want == 0 {
				c.expectFrame(ws.OpBinary, whole)
				return
			}
			c.expectClose(tt.want)
			c.expectEOF()
		})
	}
}
