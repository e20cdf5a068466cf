package broker

import (
	"math/bits"
	"strings"
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/protocol"
)

// topicEntry is a topic with members on this node. Guarded by Hub.tmu.
type topicEntry struct {
	sub   *nats.Subscription
	loops uint64 // bit i: loop i has members
}

// members is one loop's member list of one topic; swap-remove with a
// position index keeps join and leave O(1). Loop goroutine only.
type members struct {
	conns []*conn.Conn
	pos   map[*conn.Conn]int
}

func (m *members) add(c *conn.Conn) {
	m.pos[c] = len(m.conns)
	m.conns = append(m.conns, c)
}

func (m *members) remove(c *conn.Conn) {
	i, ok := m.pos[c]
	if !ok {
		return
	}
	last := len(m.conns) - 1
	moved := m.conns[last]
	m.conns[i] = moved
	m.pos[moved] = i
	m.conns[last] = nil
	m.conns = m.conns[:last]
	delete(m.pos, c)
}

// join adds c to topic. Loop goroutine only.
func (h *Hub) join(c *conn.Conn, s *session, topic string) error {
	if s.joined(topic) {
		return nil
	}
	if len(s.topics) >= h.cfg.MaxTopicsPerConnection {
		return errTooManyTopics
	}
	s.topics = append(s.topics, topic)
	ls := h.loops[c.LoopIndex()]
	m := ls.members[topic]
	if m == nil {
		m = &members{pos: make(map[*conn.Conn]int)}
		ls.members[topic] = m
		h.loopJoined(topic, c.LoopIndex())
	}
	m.add(c)
	h.stats.joins.Add(1)
	return nil
}

// leave removes c from topic. Loop goroutine only.
func (h *Hub) leave(c *conn.Conn, s *session, topic string) {
	i := -1
	for j, t := range s.topics {
		if t == topic {
			i = j
			break
		}
	}
	if i < 0 {
		return
	}
	s.topics = append(s.topics[:i], s.topics[i+1:]...)
	if len(s.topics) == 0 {
		s.topics = nil
	}
	ls := h.loops[c.LoopIndex()]
	m := ls.members[topic]
	if m == nil {
		return
	}
	m.remove(c)
	if len(m.conns) == 0 {
		delete(ls.members, topic)
		h.loopLeft(topic, c.LoopIndex())
	}
}

// loopJoined records that loop now has members of topic, subscribing the
// node to it on the first.
func (h *Hub) loopJoined(topic string, loop int) {
	h.tmu.Lock()
	defer h.tmu.Unlock()
	e := h.topics[topic]
	if e == nil {
		e = &topicEntry{}
		// A channel subscription costs no goroutine: one dispatcher reads
		// the messages of every topic, in order.
		// The subscription is made on the connection that then answers the
		// join command, so NATS has it before the backend hears "joined":
		// whatever is published to the topic after Join returns arrives.
		sub, err := h.nc.ChanSubscribe(h.subj.Topic(topic), h.inbox)
		if err != nil {
			h.log.Warn("topic subscribe failed", "topic", topic, "err", err)
		}
		e.sub = sub
		h.topics[topic] = e
		h.stats.topics.Add(1)
	}
	e.loops |= 1 << uint(loop)
}

// loopLeft records that loop has no members of topic left, unsubscribing
// the node after the last.
func (h *Hub) loopLeft(topic string, loop int) {
	h.tmu.Lock()
	defer h.tmu.Unlock()
	e := h.topics[topic]
	if e == nil {
		return
	}
	e.loops &^= 1 << uint(loop)
	if e.loops == 0 {
		if e.sub != nil {
			e.sub.Unsubscribe()
		}
		delete(h.topics, topic)
		h.stats.topics.Add(-1)
	}
}

// Topic messages that wait in the inbox for the same topic leave together:
// their frames are concatenated and each member gets them in one write.
// Under load that divides the system calls of a fan-out by the batch;
// alone, a message goes out at once.
const (
	maxBatchMessages = 64
	maxBatchBytes    = 64 << 10
)

// dispatch handles replies, commands and topic messages in the order NATS
// delivered them. It runs on its own goroutine until the inbox is closed.
func (h *Hub) dispatch() {
	defer h.wg.Done()
	topics := h.subj.Topic("")
	replies := strings.TrimSuffix(h.subj.Replies(h.node), ">")
	var next *nats.Msg // read ahead while batching, handled next
	for {
		m := next
		next = nil
		if m == nil {
			var ok bool
			if m, ok = <-h.inbox; !ok {
				return
			}
		}
		switch {
		case strings.HasPrefix(m.Subject, topics):
			var open bool
			next, open = h.onTopic(m, strings.TrimPrefix(m.Subject, topics))
			if !open {
				return
			}
		case strings.HasPrefix(m.Subject, replies):
			h.onReply(m)
		default:
			h.onCommand(m)
		}
	}
}

func messageOp(m *nats.Msg) ws.OpCode {
	if m.Header.Get(protocol.HeaderMessageType) == protocol.MessageBinary {
		return ws.OpBinary
	}
	return ws.OpText
}

// onTopic hands a topic message, and those for the same topic queued right
// behind it, to the loops with members. It returns the first queued message
// it did not take, and false if the inbox closed meanwhile.
func (h *Hub) onTopic(m *nats.Msg, topic string) (*nats.Msg, bool) {
	h.tmu.Lock()
	var loops uint64
	if e := h.topics[topic]; e != nil {
		loops = e.loops
	}
	h.tmu.Unlock()
	if loops == 0 {
		return nil, true
	}
	d := &delivery{topic: topic, messages: 1, frame: conn.AppendFrame(make([]byte, 0, len(m.Data)+10), messageOp(m), m.Data)}
	if ex := m.Header.Get(protocol.HeaderExclude); ex != "" {
		if id, err := protocol.ParseConnectionID(ex); err == nil && id.Node == h.node {
			d.exclude = id.N
		}
	}
	var next *nats.Msg
	open := true
batch:
	for d.exclude == 0 && d.messages < maxBatchMessages && len(d.frame) < maxBatchBytes {
		select {
		case n, ok := <-h.inbox:
			if !ok {
				open = false
				break batch
			}
			if n.Subject != m.Subject || n.Header.Get(protocol.HeaderExclude) != "" {
				next = n
				break batch
			}
			d.frame = conn.AppendFrame(d.frame, messageOp(n), n.Data)
			d.messages++
		default:
			break batch
		}
	}
	h.stats.topicMessages.Add(uint64(d.messages))
	for loops != 0 {
		i := bits.TrailingZeros64(loops)
		loops &^= 1 << uint(i)
		ls := h.loops[i]
		h.srv.RunOnLoop(i, func() { ls.deliver(d) })
	}
	return next, open
}

// delivery is one or more topic messages on their way to the loops: the
// frames are encoded once and shared.
type delivery struct {
	topic    string
	frame    []byte // one frame per message, back to back
	messages int
	exclude  uint64 // conn id not to deliver to, or 0
}

// deliver writes d's frame to every member on this loop. Loop goroutine.
func (ls *hubLoop) deliver(d *delivery) {
	m := ls.members[d.topic]
	if m == nil {
		return
	}
	var n uint64
	for _, c := range m.conns {
		if c.ID() == d.exclude {
			continue
		}
		if c.WriteFrame(d.frame) == nil {
			n++
		}
	}
	ls.hub.stats.deliveries.Add(n * uint64(d.messages))
}

// localMembers counts this node's members of topic, asking each loop.
func (h *Hub) localMembers(topic string) int {
	h.tmu.Lock()
	var loops uint64
	if e := h.topics[topic]; e != nil {
		loops = e.loops
	}
	h.tmu.Unlock()
	var total atomic.Int64
	done := make(chan struct{}, 64)
	want := 0
	for loops != 0 {
		i := bits.TrailingZeros64(loops)
		loops &^= 1 << uint(i)
		ls := h.loops[i]
		if h.srv.RunOnLoop(i, func() {
			if m := ls.members[topic]; m != nil {
				total.Add(int64(len(m.conns)))
			}
			done <- struct{}{}
		}) {
			want++
		}
	}
	for ; want > 0; want-- {
		<-done
	}
	return int(total.Load())
}
