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

// delivery is one topic message on its way to the loops: the frame is
// encoded once and shared.
type delivery struct {
	topic   string
	frame   []byte
	exclude uint64 // conn id not to deliver to, or 0
}

// dispatch handles replies, commands and topic messages in the order NATS
// delivered them. It runs on its own goroutine until the inbox is closed.
func (h *Hub) dispatch() {
	defer h.wg.Done()
	topics := h.subj.Topic("")
	replies := strings.TrimSuffix(h.subj.Replies(h.node), ">")
	for m := range h.inbox {
		switch {
		case strings.HasPrefix(m.Subject, topics):
			h.onTopic(m, strings.TrimPrefix(m.Subject, topics))
		case strings.HasPrefix(m.Subject, replies):
			h.onReply(m)
		default:
			h.onCommand(m)
		}
	}
}

// onTopic hands a topic message to the loops with members.
func (h *Hub) onTopic(m *nats.Msg, topic string) {
	h.tmu.Lock()
	var loops uint64
	if e := h.topics[topic]; e != nil {
		loops = e.loops
	}
	h.tmu.Unlock()
	if loops == 0 {
		return
	}
	op := ws.OpText
	if m.Header.Get(protocol.HeaderMessageType) == protocol.MessageBinary {
		op = ws.OpBinary
	}
	d := &delivery{topic: topic, frame: conn.AppendFrame(make([]byte, 0, len(m.Data)+10), op, m.Data)}
	if ex := m.Header.Get(protocol.HeaderExclude); ex != "" {
		if id, err := protocol.ParseConnectionID(ex); err == nil && id.Node == h.node {
			d.exclude = id.N
		}
	}
	h.stats.topicMessages.Add(1)
	for loops != 0 {
		i := bits.TrailingZeros64(loops)
		loops &^= 1 << uint(i)
		ls := h.loops[i]
		h.srv.RunOnLoop(i, func() { ls.deliver(d) })
	}
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
	ls.hub.stats.deliveries.Add(n)
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
