package baseline

import (
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// Hub is the gorilla chat example's hub: one goroutine owns the set of
// members and hears about them on register and unregister channels; a
// broadcast goes to every member with a non-blocking send on its 256-message
// send queue, and a member whose queue is full is dropped (its queue is
// closed, which makes its write pump close the connection). A Server has
// one Hub for the connections on BroadcastPath.
//
// Unlike the chat example the write pump writes each message as a frame of
// its own: the example's trick of joining queued messages with newlines
// into one frame changes what a member receives, which a general gateway
// may not do.
//
// Concurrency: every method is safe to call from any goroutine. Publish
// blocks until the hub goroutine takes the message, as the example's
// unbuffered broadcast channel does.
type Hub struct {
	register   chan *client
	unregister chan *client
	broadcast  chan []byte
	stop       chan struct{}
	done       chan struct{}
	stopOnce   sync.Once

	members    atomic.Int64
	broadcasts atomic.Uint64 // messages taken from broadcast
	queued     atomic.Uint64 // messages put on a member's send queue
	dropped    atomic.Uint64 // members dropped because their queue was full
}

// HubStats are a Hub's counters.
type HubStats struct {
	Members    int64  // members now
	Broadcasts uint64 // messages broadcast
	Queued     uint64 // messages queued for members (one per member per broadcast)
	Dropped    uint64 // members dropped for a full send queue (slow consumers)
}

// newHub returns a running hub; stopHub ends its goroutine.
func newHub() *Hub {
	h := &Hub{
		register:   make(chan *client),
		unregister: make(chan *client),
		broadcast:  make(chan []byte),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go h.run()
	return h
}

// run is the example's hub loop. Only it touches clients.
func (h *Hub) run() {
	defer close(h.done)
	clients := make(map[*client]bool)
	for {
		select {
		case c := <-h.register:
			clients[c] = true
			h.members.Store(int64(len(clients)))
		case c := <-h.unregister:
			if _, ok := clients[c]; ok {
				delete(clients, c)
				close(c.send)
				h.members.Store(int64(len(clients)))
			}
		case msg := <-h.broadcast:
			h.broadcasts.Add(1)
			var n uint64
			for c := range clients {
				select {
				case c.send <- msg:
					n++
				default:
					close(c.send)
					delete(clients, c)
					h.dropped.Add(1)
				}
			}
			h.queued.Add(n)
			h.members.Store(int64(len(clients)))
		case <-h.stop:
			for c := range clients {
				close(c.send)
			}
			h.members.Store(0)
			return
		}
	}
}

// Publish sends msg to every member as a text message. It returns false
// if the hub has stopped. msg is copied.
func (h *Hub) Publish(msg []byte) bool {
	tagged := make([]byte, 1+len(msg))
	tagged[0] = websocket.TextMessage
	copy(tagged[1:], msg)
	return h.publishTagged(tagged)
}

// publishTagged broadcasts a message that starts with its opcode.
func (h *Hub) publishTagged(msg []byte) bool {
	select {
	case h.broadcast <- msg:
		return true
	case <-h.done:
		return false
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	return HubStats{Members: h.members.Load(), Broadcasts: h.broadcasts.Load(), Queued: h.queued.Load(), Dropped: h.dropped.Load()}
}

// join registers c, unless the hub has stopped.
func (h *Hub) join(c *client) bool {
	select {
	case h.register <- c:
		return true
	case <-h.done:
		return false
	}
}

// leave unregisters c; after the hub has stopped there is nothing to do.
func (h *Hub) leave(c *client) {
	select {
	case h.unregister <- c:
	case <-h.done:
	}
}

// stopHub ends the hub goroutine, closing every member's queue, and waits
// for it. Safe to call twice.
func (h *Hub) stopHub() {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.done
}

// memberReadPump is the chat example's read pump: every message a member
// sends is broadcast to all. The hub owns c.send, so unlike the echo read
// pump it does not close it; leaving the hub does.
func (c *client) memberReadPump(h *Hub, done func()) {
	defer func() {
		h.leave(c)
		c.ws.Close()
		done()
	}()
	c.readMessages(h.publishTagged)
}
