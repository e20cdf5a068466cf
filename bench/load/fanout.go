package load

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gobwas/ws"
)

// ProgressInterval is how often a fan-out client looks at what its
// connections received and, if it changed, writes a progress event.
const ProgressInterval = 10 * time.Millisecond

// maxFanOutMessage bounds what a fan-out connection buffers for one
// message, whatever length its frames claim.
const maxFanOutMessage = 1 << 20

// fanState is what one fan-out connection has received. The receiver owns
// it; nothing else touches it while the receiver runs.
type fanState struct {
	last, received                             uint64 // highest sequence number; stamped messages
	skipped, firstSkipped, disorder, unstamped uint64
	frag                                       []byte // fragments of a message not yet whole
	ended                                      bool   // the connection failed or the server closed it
	err                                        error  // why it ended
}

// fanTotals is what all of a client's connections received.
type fanTotals struct {
	hist   Histogram
	lastAt int64 // Unix ns of the last stamped message
}

// record accounts for one whole message that arrived at now (Unix ns).
func (s *fanState) record(msg []byte, now int64, t *fanTotals) {
	seq, sent, ok := ParseStamp(msg)
	if !ok {
		s.unstamped++
		return
	}
	t.hist.Record(time.Duration(now - sent))
	t.lastAt = now
	switch {
	case seq <= s.last:
		s.disorder++
	case seq > s.last+1:
		if s.firstSkipped == 0 {
			s.firstSkipped = s.last + 1
		}
		s.skipped += seq - s.last - 1
		s.last = seq
	default:
		s.last = seq
	}
	s.received++
}

// progressOf returns a progress event for the connections as they are now.
func progressOf(states []*fanState) Event {
	p := Event{Event: eventProgress, Mode: FanOut, Conns: len(states)}
	var minOpen, maxAll uint64
	for _, s := range states {
		p.Received += s.received
		maxAll = max(maxAll, s.last)
		if s.ended {
			continue
		}
		if p.Open == 0 || s.last < minOpen {
			minOpen = s.last
		}
		p.Open++
	}
	p.MinSeq = minOpen
	if p.Open == 0 {
		p.MinSeq = maxAll
	}
	return p
}

// mergeFanOut writes what the connections received into ev.
func mergeFanOut(states []*fanState, t *fanTotals, ev *Event) {
	ev.Latency = &t.hist
	ev.LastUnixNano = t.lastAt
	for _, s := range states {
		ev.Received += s.received
		ev.Skipped += s.skipped
		if s.firstSkipped != 0 && (ev.FirstSkipped == 0 || s.firstSkipped < ev.FirstSkipped) {
			ev.FirstSkipped = s.firstSkipped
		}
		ev.Disorder += s.disorder
		ev.Unstamped += s.unstamped
		if s.ended {
			ev.Lost++
			if ev.FirstError == "" && s.err != nil {
				ev.FirstError = s.err.Error()
			}
		}
	}
	ev.MinSeq = progressOf(states).MinSeq
}

// errShortFrame reports that b does not hold a whole frame yet.
var errShortFrame = errors.New("load: frame not complete yet")

// frame is one WebSocket frame parsed in place.
type frame struct {
	fin     bool
	op      ws.OpCode
	payload []byte // unmasked in place
	size    int    // bytes of b the frame took
}

// parseFrame parses the frame at the start of b without copying or
// allocating, unmasking its payload in place. It returns errShortFrame
// while b holds less than a whole frame.
func parseFrame(b []byte) (frame, error) {
	if len(b) < 2 {
		return frame{}, errShortFrame
	}
	f := frame{fin: b[0]&0x80 != 0, op: ws.OpCode(b[0] & 0x0f)}
	masked := b[1]&0x80 != 0
	n := uint64(b[1] & 0x7f)
	h := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return frame{}, errShortFrame
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return frame{}, errShortFrame
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if n > maxFanOutMessage {
		return frame{}, fmt.Errorf("load: %d-byte frame, more than the %d a fan-out client accepts", n, maxFanOutMessage)
	}
	var mask [4]byte
	if masked {
		if len(b) < h+4 {
			return frame{}, errShortFrame
		}
		copy(mask[:], b[h:])
		h += 4
	}
	if uint64(len(b)-h) < n {
		return frame{}, errShortFrame
	}
	f.payload = b[h : h+int(n)]
	f.size = h + int(n)
	if masked {
		ws.Cipher(f.payload, mask, 0)
	}
	return f, nil
}

// sendJoin sends text as one masked text frame.
func (c *conn) sendJoin(text string) error {
	c.nc.SetWriteDeadline(time.Now().Add(controlWait))
	defer c.nc.SetWriteDeadline(time.Time{})
	return ws.WriteFrame(c.nc, ws.MaskFrameInPlace(ws.NewTextFrame([]byte(text))))
}
