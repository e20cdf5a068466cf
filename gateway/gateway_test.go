package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gatecast/gatecast/routes"
)

// startGateway runs a gateway on loopback ports chosen by the kernel.
func startGateway(t *testing.T, cfg Config) *Gateway {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	if cfg.AdminListen == "" {
		cfg.AdminListen = "127.0.0.1:0"
	}
	if cfg.NATS.Listen == "" && cfg.NATS.URL == "" {
		cfg.NATS.Listen = "off"
	}
	if cfg.AccessLog.Output == "" {
		cfg.AccessLog.Output = "off"
	}
	g, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Shutdown(context.Background()) })
	return g
}

func dial(t *testing.T, g *Gateway) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+g.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEchoSizes(t *testing.T) {
	g := startGateway(t, echoConfig())
	c := dial(t, g)
	for _, size := range []int{0, 1, 125, 126, 127, 4095, 4096, 65535, 32 << 10} {
		for _, op := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			msg := bytes.Repeat([]byte("a"), size)
			if err := c.WriteMessage(op, msg); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("size %d: got op %d len %d, want op %d len %d", size, gotOp, len(got), op, size)
			}
		}
	}
}

func TestAdminEndpoints(t *testing.T) {
	g := startGateway(t, echoConfig())
	c := dial(t, g)
	c.WriteMessage(websocket.TextMessage, []byte("hi"))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + g.AdminAddr().String()
	for path, want := range map[string]string{
		"/healthz":      "ok",
		"/readyz":       "ready",
		"/metrics":      "gatecast_websocket_connections_open 1",
		"/debug/pprof/": "goroutine",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body does not contain %q", path, resp.StatusCode, want)
		}
	}
}

func TestShutdownSendsGoingAway(t *testing.T) {
	g := startGateway(t, Config{})
	c := dial(t, g)
	done := make(chan error, 1)
	go func() { done <- g.Shutdown(context.Background()) }()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("read after shutdown: %v, want close 1001", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// echoConfig answers every message with the echo integration.
func echoConfig() Config {
	return Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyDefault: {Integration: routes.IntegrationEcho},
	}}}
}
