package broker

import (
	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/routes"
)

// wafMode is the WAF mode for route r: its own, or the firewall's.
func (h *Hub) wafMode(r *routes.Route) waf.Mode {
	if r == nil {
		return h.cfg.WAF.Mode()
	}
	return h.cfg.WAF.ModeFor(r.WAF)
}

// inspectUpgrade runs the WAF on an upgrade request. Loop goroutine.
func (h *Hub) inspectUpgrade(req *conn.Request, s *session) error {
	if h.cfg.WAF == nil {
		return nil
	}
	r, _ := h.table.WebSocket(routes.KeyConnect)
	mode := h.wafMode(r)
	if mode == waf.ModeOff {
		return nil
	}
	headers := make([]waf.Header, len(req.Header))
	for i, f := range req.Header {
		headers[i] = waf.Header(f)
	}
	fd, hit := h.cfg.WAF.CheckRequest(&waf.Request{SourceIP: s.clientIP, Path: req.Path(), RawQuery: req.Query(), Header: headers})
	if !hit {
		return nil
	}
	h.stats.wafHits.Add(1)
	h.log.Warn("waf finding on upgrade", "finding", fd.String(), "mode", mode, "source_ip", s.sourceIP)
	if mode != waf.ModeBlock {
		return nil
	}
	h.stats.wafBlocked.Add(1)
	return &conn.Refusal{Status: waf.StatusBlocked, Reason: "Forbidden"}
}

// inspectMessage runs the WAF on a message; false means it was blocked
// and the connection is closing. Loop goroutine.
func (h *Hub) inspectMessage(c *conn.Conn, s *session, r *routes.Route, payload []byte) bool {
	mode := h.wafMode(r)
	if mode == waf.ModeOff {
		return true
	}
	fd, hit := h.cfg.WAF.CheckMessage(payload)
	if !hit {
		return true
	}
	h.stats.wafHits.Add(1)
	h.log.Warn("waf finding in message", "finding", fd.String(), "mode", mode, "route", r.Key, "connection", s.id)
	if mode != waf.ModeBlock {
		return true
	}
	h.stats.wafBlocked.Add(1)
	c.Close(conn.Disconnect{Code: ws.StatusCode(waf.CloseBlocked), Reason: "message blocked by the web application firewall"})
	return false
}
