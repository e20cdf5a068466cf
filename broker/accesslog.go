package broker

import (
	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

// logEvent writes one access log entry for a connection event. status is
// the upgrade's HTTP status (CONNECT), 200 or the refusal's status
// (MESSAGE), or the close code (DISCONNECT). Loop goroutine.
func (h *Hub) logEvent(s *session, eventType, routeKey string, status int) {
	if h.cfg.AccessLog == nil || s == nil {
		return
	}
	now := h.cfg.Now()
	h.cfg.AccessLog.Log(&accesslog.Entry{
		RequestID: h.newRequestID(), ConnectionID: s.id, EventType: eventType,
		SourceIP: s.sourceIP, UserAgent: s.userAgent, RouteKey: routeKey, Status: status,
		RequestTime: now, Node: h.node, Protocol: "WebSocket",
	})
}

// refuseDeferred refuses an upgrade that waited for its $connect verdict,
// and logs it.
func (h *Hub) refuseDeferred(c *conn.Conn, r *conn.Refusal) {
	if c.Pending() {
		h.logEvent(sessionOf(c), protocol.EventConnect, routes.KeyConnect, r.Status)
	}
	c.Refuse(r)
}
