package conn

import "time"

// Session timers: the idle timeout and the maximum connection duration.
//
// Each open connection sits in one slot of its loop's timing wheel, the
// slot of its next session deadline (whichever comes first). Nothing
// happens per message but a timestamp: when a slot comes round, each of
// its connections is checked against its real deadlines (the idle one
// moves with every data frame), and is either closed or put back in the
// slot of its new deadline. No runtime timer and no goroutine per
// connection; a connection costs two pointers and three integers here.

const (
	wheelSlots = 1024
	wheelTick  = time.Second
)

// wheel is one loop's timing wheel. Loop goroutine only.
type wheel struct {
	slots [wheelSlots]*Conn // heads of doubly linked lists
	n     int
	at    int64 // the next tick to process, in ticks since the server's epoch
}

// tickOf is the tick at or after ns: a connection is filed under the
// first tick that is not before its deadline, so it never fires early
// and at most one tick late.
func tickOf(ns int64) int64 { return (ns + int64(wheelTick) - 1) / int64(wheelTick) }

// add files c under its due time (nanoseconds on the loop's clock). A
// due time already past is filed under the next tick.
func (w *wheel) add(c *Conn, due int64) {
	t := max(tickOf(due), w.at)
	c.wdue = due
	c.wslot = uint16(t % wheelSlots)
	c.wprev, c.wnext = nil, w.slots[c.wslot]
	if c.wnext != nil {
		c.wnext.wprev = c
	}
	w.slots[c.wslot] = c
	c.flags2 |= flag2InWheel
	w.n++
}

// remove takes c out of the wheel, if it is in.
func (w *wheel) remove(c *Conn) {
	if c.flags2&flag2InWheel == 0 {
		return
	}
	if c.wprev != nil {
		c.wprev.wnext = c.wnext
	} else {
		w.slots[c.wslot] = c.wnext
	}
	if c.wnext != nil {
		c.wnext.wprev = c.wprev
	}
	c.wprev, c.wnext = nil, nil
	c.flags2 &^= flag2InWheel
	w.n--
}

// advance visits every tick up to now and calls fn for each connection
// whose due time has passed, after taking it out of the wheel; fn closes
// it or adds it again.
func (w *wheel) advance(now int64, fn func(*Conn)) {
	end := now / int64(wheelTick) // the last tick that has begun
	if w.n == 0 {
		w.at = end + 1
		return
	}
	// One revolution visits every slot: after a long sleep, start there.
	if end-w.at >= wheelSlots {
		w.at = end - wheelSlots + 1
	}
	for ; w.at <= end; w.at++ {
		for c := w.slots[w.at%wheelSlots]; c != nil; {
			next := c.wnext
			if c.wdue <= now {
				w.remove(c)
				fn(c)
			}
			c = next
		}
	}
}

// next is when the wheel wants its next tick, or -1 if it is empty.
func (w *wheel) next() int64 {
	if w.n == 0 {
		return -1
	}
	return w.at * int64(wheelTick)
}
