package gateway

import (
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/routes"
)

func wafConfig(mode waf.Mode) Config {
	cfg := Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyDefault: {Integration: routes.IntegrationEcho},
		"free":            {Integration: routes.IntegrationEcho, WAF: "off"},
	}}}
	cfg.WAF = &waf.Config{Mode: mode}
	return cfg
}

func TestWAFUpgrade(t *testing.T) {
	g := startGateway(t, wafConfig(waf.ModeBlock))
	base := "ws://" + g.Addr().String() + "/"
	_, resp, err := websocket.DefaultDialer.Dial(base+"?q="+url.QueryEscape("' OR '1'='1"), nil)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("SQL injection in the query: %v %v, want 403", err, resp)
	}
	c, _, err := websocket.DefaultDialer.Dial(base+"?room=lobby", nil)
	if err != nil {
		t.Fatalf("a clean upgrade: %v", err)
	}
	c.Close()
	if st := g.BrokerStats(); st.WAFBlocked != 1 {
		t.Fatalf("blocked %d, want 1", st.WAFBlocked)
	}
}

func TestWAFMessages(t *testing.T) {
	t.Run("block", func(t *testing.T) {
		g := startGateway(t, wafConfig(waf.ModeBlock))
		c := dial(t, g)
		c.WriteMessage(websocket.TextMessage, []byte(`{"text":"I'll be there at 5 -- see you"}`))
		if s := readText(t, c); s == "" {
			t.Fatal("a clean message was not echoed")
		}
		// A route with the WAF off lets the same payload through.
		c.WriteMessage(websocket.TextMessage, []byte(`{"action":"free","text":"<script>alert(1)</script>"}`))
		readText(t, c)
		c.WriteMessage(websocket.TextMessage, []byte(`{"text":"<script>alert(1)</script>"}`))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("XSS message: %v, want close 1008", err)
		}
	})
	t.Run("count", func(t *testing.T) {
		g := startGateway(t, wafConfig(waf.ModeCount))
		c := dial(t, g)
		c.WriteMessage(websocket.TextMessage, []byte(`{"text":"<script>alert(1)</script>"}`))
		if s := readText(t, c); s != `{"text":"<script>alert(1)</script>"}` {
			t.Fatalf("count mode must let it through: %q", s)
		}
		if st := g.BrokerStats(); st.WAFHits != 1 || st.WAFBlocked != 0 {
			t.Fatalf("hits %d blocked %d", st.WAFHits, st.WAFBlocked)
		}
	})
}
