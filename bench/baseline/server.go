package baseline

import (
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// Server is the baseline echo server. The zero value is ready to use.
type Server struct {
	mu      sync.Mutex
	hs      *http.Server         // created by the first Serve; mu guards
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

// Serve accepts connections on ln and upgrades every HTTP request, on any
// path, to an echoing WebSocket. It blocks until ln fails or Close is
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

// serveWS upgrades one request and starts its pumps.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	c := &client{ws: ws, send: make(chan []byte, sendQueue)}
	if !s.track(c) {
		ws.Close()
		return
	}
	go c.writePump(s.pumps.Done)
	go c.readPump(func() {
		s.untrack(c)
		s.pumps.Done()
	})
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
	return err
}
