package conn

import "time"

// warmFor is how long a TLS 1.3 connection keeps its AEAD states after
// its records last moved. Rebuilding them costs about 0.6 µs and 1.3 KB
// of garbage per direction, a fifth of the CPU of a small echo when done
// on every readiness event; keeping them on every idle connection costs
// 2.6 KB each.
const warmFor = time.Second

// warmList holds the Layer connections of a loop whose AEAD states are
// built, in the order they were filed. Filing is O(1); a connection used
// again while filed only updates its stamp, and when it reaches the front
// it is filed again instead of cooled: its states go between warmFor and
// twice that after its records last moved. Loop goroutine only.
type warmList struct {
	head, tail *tlsState
}

// touch notes that t's records moved at now, filing it if it is not.
func (l *warmList) touch(t *tlsState, now int64) {
	t.warmUsed = now
	if t.warmFiled != 0 {
		return
	}
	l.push(t, now)
}

func (l *warmList) push(t *tlsState, now int64) {
	t.warmFiled = max(now, 1) // 0 means not filed
	t.wprev, t.wnext = l.tail, nil
	if l.tail != nil {
		l.tail.wnext = t
	} else {
		l.head = t
	}
	l.tail = t
}

// remove takes t off the list, if it is on it.
func (l *warmList) remove(t *tlsState) {
	if t.warmFiled == 0 {
		return
	}
	if t.wprev != nil {
		t.wprev.wnext = t.wnext
	} else {
		l.head = t.wnext
	}
	if t.wnext != nil {
		t.wnext.wprev = t.wprev
	} else {
		l.tail = t.wprev
	}
	t.wprev, t.wnext, t.warmFiled = nil, nil, 0
}

// cool drops the AEAD states of the connections whose records have not
// moved for warmFor, and returns when it needs to run again (-1: never).
// The list is in filing order, so the walk stops at the first one filed
// too recently.
func (l *warmList) cool(now int64) int64 {
	for t := l.head; t != nil && t.warmFiled+int64(warmFor) <= now; t = l.head {
		l.remove(t)
		if t.warmUsed+int64(warmFor) <= now {
			t.rec.Idle()
		} else {
			l.push(t, now)
		}
	}
	if l.head == nil {
		return -1
	}
	return l.head.warmFiled + int64(warmFor)
}
