package broker

import (
	"encoding/json"
	"net/netip"

	"slices"
	"strconv"
	"time"

	"github.com/gatecast/gatecast/admission"

	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/protocol"
)

// session is what the hub keeps per connection, in conn.Conn's value.
// Loop goroutine only.
type session struct {
	id          string // protocol.ConnectionID in text
	sourceIP    string
	userAgent   string
	connectedAt int64 // Unix ms
	connectedMs string
	lastActive  int64    // Unix ms
	topics      []string // joined, in join order

	clientIP netip.Addr      // after X-Forwarded-For from trusted proxies
	admitted bool            // holds a per-IP slot in the admission pipeline
	meter    admission.Meter // the connection's message rate
	extra    *sessionExtra   // what only some connections need; nil for most
}

// sessionExtra holds the per-connection state of optional features, kept
// out of session so that an idle connection without them stays small.
type sessionExtra struct {
	meters []admission.Meter // per route with its own rate (routes.Route.RateIndex)
	claims []byte            // verified token payload (JSON), with auth on
	scopes []string
}

func (s *session) extras() *sessionExtra {
	if s.extra == nil {
		s.extra = &sessionExtra{}
	}
	return s.extra
}

func (s *session) claims() []byte {
	if s.extra == nil {
		return nil
	}
	return s.extra.claims
}

func (s *session) scopes() []string {
	if s.extra == nil {
		return nil
	}
	return s.extra.scopes
}

func newSession(node string, c *conn.Conn, userAgent []byte, now time.Time) *session {
	ms := now.UnixMilli()
	return &session{
		id:          protocol.ConnectionID{Node: node, N: c.ID()}.String(),
		sourceIP:    c.RemoteAddr().Addr().String(),
		userAgent:   string(userAgent),
		connectedAt: ms,
		connectedMs: strconv.FormatInt(ms, 10),
		lastActive:  ms,
	}
}

func sessionOf(c *conn.Conn) *session {
	s, _ := c.Value().(*session)
	return s
}

func (s *session) joined(topic string) bool { return slices.Contains(s.topics, topic) }

func (s *session) info() protocol.ConnectionInfo {
	return protocol.ConnectionInfo{
		ConnectionID: s.id,
		ConnectedAt:  time.UnixMilli(s.connectedAt).UTC().Format(time.RFC3339Nano),
		LastActiveAt: time.UnixMilli(s.lastActive).UTC().Format(time.RFC3339Nano),
		Identity:     protocol.Identity{SourceIP: s.sourceIP, UserAgent: s.userAgent},
		Topics:       append([]string{}, s.topics...),
		Claims:       claimsMap(s.claims()),
	}
}

func claimsMap(raw []byte) map[string]any {
	if raw == nil {
		return nil
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	return m
}
