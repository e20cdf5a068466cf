package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/routes"
)

func TestConnectRateRefusal(t *testing.T) {
	cfg := echoConfig()
	cfg.Admission.ConnectRate = admission.Rate{PerSecond: 0.001, Burst: 3}
	g := startGateway(t, cfg)
	for i := 0; i < 3; i++ {
		dial(t, g)
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addr().String()+"/", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th connect: err %v, resp %+v; want 429 with Retry-After", err, resp)
	}
	if body := get(t, "http://"+g.AdminAddr().String()+"/metrics"); !strings.Contains(body, `gatecast_admission_refused_total{reason="connect_rate"} 1`) {
		t.Fatal("metric does not count the refusal")
	}
}

func TestPerIPCap(t *testing.T) {
	cfg := echoConfig()
	cfg.Admission.PerIPConns = 2
	g := startGateway(t, cfg)
	a := dial(t, g)
	dial(t, g)
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+g.Addr().String()+"/", nil); err == nil || resp.StatusCode != 429 {
		t.Fatalf("3rd from one IP: %v %v", err, resp)
	}
	a.Close()
	waitFor(t, "the slot to come back", func() bool {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addr().String()+"/", nil)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func TestMessageRate(t *testing.T) {
	for _, policy := range []string{"drop", "close"} {
		t.Run("policy="+policy, func(t *testing.T) {
			cfg := echoConfig()
			cfg.Admission.MessageRate = admission.Rate{PerSecond: 0.001, Burst: 2}
			cfg.Admission.MessagePolicy = policy
			g := startGateway(t, cfg)
			c := dial(t, g)
			for i := 0; i < 2; i++ {
				c.WriteMessage(websocket.TextMessage, []byte("ok"))
				if s := readText(t, c); s != "ok" {
					t.Fatalf("message %d: %q", i, s)
				}
			}
			c.WriteMessage(websocket.TextMessage, []byte("too many"))
			if policy == "drop" {
				m := readJSON(t, c)
				if !strings.Contains(m["message"].(string), "message rate limit") {
					t.Fatalf("error frame %v", m)
				}
				return
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("client saw %v, want close 1008", err)
			}
		})
	}
}

func TestRouteMessageRate(t *testing.T) {
	cfg := Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyDefault: {Integration: routes.IntegrationEcho},
		"chat":            {Integration: routes.IntegrationEcho, MessageRate: admission.Rate{PerSecond: 0.001, Burst: 1}},
	}}}
	g := startGateway(t, cfg)
	c := dial(t, g)
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"chat"}`))
	readText(t, c)
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"chat"}`))
	if m := readJSON(t, c); !strings.Contains(m["message"].(string), "rate limit") {
		t.Fatalf("second chat message: %v", m)
	}
	// Other routes are not limited by the chat route's rate.
	for i := 0; i < 3; i++ {
		c.WriteMessage(websocket.TextMessage, []byte("free"))
		if s := readText(t, c); s != "free" {
			t.Fatalf("default route: %q", s)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func TestOriginCheck(t *testing.T) {
	cfg := echoConfig()
	cfg.WebSocket.AllowedOrigins = []string{"https://app.example.com"}
	g := startGateway(t, cfg)
	url := "ws://" + g.Addr().String() + "/"
	for origin, want := range map[string]int{
		"https://app.example.com":     101,
		"http://" + g.Addr().String(): 101,
		"https://evil.example.com":    403,
		"":                            101,
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := websocket.DefaultDialer.Dial(url, h)
		got := 0
		if resp != nil {
			got = resp.StatusCode
		}
		if got != want {
			t.Errorf("Origin %q: status %d (%v), want %d", origin, got, err, want)
		}
		if c != nil {
			c.Close()
		}
	}
}
