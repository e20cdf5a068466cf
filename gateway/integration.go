package gateway

import (
	"github.com/gobwas/ws"

	"github.com/gatecast/gatecast/conn"
	"github.com/gatecast/gatecast/routes"
)

// dispatcher is the conn.Handler that hands each WebSocket message to its
// route's integration.
type dispatcher struct {
	table *routes.Table
}

func (d *dispatcher) OnOpen(*conn.Conn) {}

func (d *dispatcher) OnMessage(c *conn.Conn, op ws.OpCode, payload []byte) {
	r, ok := d.table.WebSocket(routes.KeyDefault)
	if !ok {
		// Amazon answers a message that matches no route this way and
		// keeps the connection.
		c.WriteMessage(ws.OpText, []byte(`{"message":"Forbidden"}`))
		return
	}
	switch r.Integration {
	case routes.IntegrationEcho:
		c.WriteMessage(op, payload)
	}
}

func (d *dispatcher) OnClose(*conn.Conn, conn.Disconnect) {}
