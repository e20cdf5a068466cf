package baseline

import (
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// Paths with a meaning of their own; every other path echoes.
const (
	// BroadcastPath is where a WebSocket joins the server's Hub instead of
	// echoing: it receives every broadcast message, and what it sends is
	// broadcast to all members, as in the gorilla chat example.
	BroadcastPath = "/broadcast"
	// PublishPath takes a POST whose body is broadcast to the hub's
	// members as one text message; it answers 204 once the hub has taken
	// the message (not once it was written), 413 for a body over the
	// read limit.
	PublishPath = "/publish"
)

// Server is the baseline echo server. The zero value is ready to use.
type Server struct {
	mu      sync.Mutex
	hs      *http.Server         // created by the first Serve; mu guards
	hub     *Hub                 // created on first use; mu guards
	clients map[*client]struct{} // mu guards
	closed  bool                 // mu guards
	pumps   sync.WaitGroup       // every readPump and writePump
}

// upgrader uses the chat example's buffer sizes: these buffers are part of
// what a connection costs, and so of what the baseline stands for.
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
}

// Serve accepts connections on ln and upgrades every HTTP request to a
// WebSocket: a member of the hub on BroadcastPath, an echoing one on any
// other path (a POST to PublishPath publishes instead). It blocks until ln fails or Close is
// called, and then returns http.ErrServerClosed, as net/http does.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	if s.hs == nil {
		s.hs = &http.Server{Handler: http.HandlerFunc(s.serveWS)}
	}
	hs := s.hs
	s.mu.Unlock()
	return hs.Serve(ln)
}

// serveWS upgrades one request and starts its pumps, or publishes.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PublishPath && r.Method == http.MethodPost {
		s.servePublish(w, r)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	c := &client{ws: ws, send: make(chan []byte, sendQueue)}
	if !s.track(c) {
		ws.Close()
		return
	}
	if r.URL.Path != BroadcastPath {
		go c.writePump(s.pumps.Done)
		go c.readPump(func() {
			s.untrack(c)
			s.pumps.Done()
		})
		return
	}
	h := s.Hub()
	if h == nil || !h.join(c) { // closed meanwhile
		s.untrack(c)
		s.pumps.Add(-2)
		ws.Close()
		return
	}
	go c.writePump(s.pumps.Done)
	go c.memberReadPump(h, func() {
		s.untrack(c)
		s.pumps.Done()
	})
}

func (s *Server) servePublish(w http.ResponseWriter, r *http.Request) {
	msg, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessageSize))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if !s.Publish(msg) {
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Hub returns the server's broadcast hub, starting it on first use, or nil
// once the server is closed.
func (s *Server) Hub() *Hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.hub == nil {
		s.hub = newHub()
	}
	return s.hub
}

// Publish broadcasts msg to the members on BroadcastPath as one text
// message, as a POST to PublishPath does; it returns false once the server
// is closed. msg is copied.
func (s *Server) Publish(msg []byte) bool {
	h := s.Hub()
	return h != nil && h.Publish(msg)
}

// track registers c and its two pumps, unless the server is closed.
func (s *Server) track(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.clients == nil {
		s.clients = make(map[*client]struct{})
	}
	s.clients[c] = struct{}{}
	s.pumps.Add(2)
	return true
}

func (s *Server) untrack(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

// Conns returns the number of open WebSocket connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Close stops accepting, closes every connection and waits until all their
// goroutines have ended. Calling it again does nothing more.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	hs := s.hs
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()

	var err error
	if hs != nil {
		err = hs.Close() // listeners and connections not yet upgraded
	}
	for _, c := range clients {
		c.ws.Close() // the read pump fails, and stops the write pump
	}
	s.pumps.Wait()
	// Member read pumps leave the hub as they end, so it stops last.
	s.mu.Lock()
	h := s.hub
	s.mu.Unlock()
	if h != nil {
		h.stopHub()
	}
	return err
}
