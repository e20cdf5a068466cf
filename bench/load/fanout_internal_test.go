//go:build linux

package load

import (
	"bytes"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestConsumeReassemblesAnySplit feeds one stream of frames to the
// receiver in pieces of every size and checks that the same messages come
// out: 7-bit, 16-bit and 64-bit lengths and a fragmented message.
func TestConsumeReassemblesAnySplit(t *testing.T) {
	now := time.Now()
	var stream bytes.Buffer
	for i, size := range []int{64, 1024, 70000} {
		msg := NewMessage(size)
		Stamp(msg, uint64(i+1), now)
		ws.WriteFrame(&stream, ws.NewTextFrame(msg))
	}
	frag := NewMessage(300)
	Stamp(frag, 4, now)
	first := ws.NewFrame(ws.OpText, false, frag[:100])
	rest := ws.NewFrame(ws.OpContinuation, true, frag[100:])
	ws.WriteFrame(&stream, first)
	ws.WriteFrame(&stream, rest)
	all := stream.Bytes()

	for _, piece := range []int{1, 2, 7, 100, 4096, len(all)} {
		fc := &fanConn{fd: -1, ep: -1}
		var totals fanTotals
		for off := 0; off < len(all); off += piece {
			// consume unmasks in place and may keep what it gets: give it a copy.
			fc.consume(bytes.Clone(all[off:min(off+piece, len(all))]), now.UnixNano(), &totals)
		}
		if fc.ended || fc.received != 4 || fc.last != 4 || fc.skipped != 0 || fc.unstamped != 0 || len(fc.pending) != 0 {
			t.Errorf("pieces of %d bytes: ended %v (%v), received %d, last %d, skipped %d, unstamped %d, %d bytes pending; want 4 messages in order",
				piece, fc.ended, fc.err, fc.received, fc.last, fc.skipped, fc.unstamped, len(fc.pending))
		}
		if totals.hist.Count() != 4 {
			t.Errorf("pieces of %d bytes: %d latencies, want 4", piece, totals.hist.Count())
		}
	}
}

func TestParseFrameRefusesHugeFrames(t *testing.T) {
	var b bytes.Buffer
	ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: maxFanOutMessage + 1})
	if _, err := parseFrame(b.Bytes()); err == nil || err == errShortFrame {
		t.Errorf("parseFrame of a %d-byte frame header = %v, want a refusal", maxFanOutMessage+1, err)
	}
}
