package conn

// deadlineList is a FIFO of connections that all wait for the same timeout
// (the handshake timeout, the close timeout, the slow-consumer grace). As
// every entry has the same duration and entries are added in time order,
// the front always expires first: adding, removing and expiring are O(1),
// and no connection holds a runtime timer. Loop goroutine only.
type deadlineList struct {
	head, tail *Conn
	n          int
}

// push appends c with deadline at (nanoseconds on the loop's clock). c must
// not be on a list.
func (l *deadlineList) push(c *Conn, at int64) {
	c.dlist, c.deadline = l, at
	c.dprev, c.dnext = l.tail, nil
	if l.tail != nil {
		l.tail.dnext = c
	} else {
		l.head = c
	}
	l.tail = c
	l.n++
}

// remove takes c off the list it is on, if any.
func unlinkDeadline(c *Conn) {
	l := c.dlist
	if l == nil {
		return
	}
	if c.dprev != nil {
		c.dprev.dnext = c.dnext
	} else {
		l.head = c.dnext
	}
	if c.dnext != nil {
		c.dnext.dprev = c.dprev
	} else {
		l.tail = c.dprev
	}
	c.dlist, c.dprev, c.dnext = nil, nil, nil
	l.n--
}

// expire removes every connection whose deadline is at or before now and
// calls fn for it. It returns the next deadline, or -1 if the list is
// empty; fn may add to other lists, so callers that wait on several lists
// read their heads after expiring all of them.
func (l *deadlineList) expire(now int64, fn func(*Conn)) int64 {
	for l.head != nil && l.head.deadline <= now {
		c := l.head
		unlinkDeadline(c)
		fn(c)
	}
	if l.head == nil {
		return -1
	}
	return l.head.deadline
}
