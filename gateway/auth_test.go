package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/admission/jwtauth"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

const testSecret = "0123456789abcdef0123456789abcdef" // 32 bytes: the HS256 minimum

func token(t *testing.T, sub string, scopes string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "iss": "test-issuer", "scope": scopes,
		"exp": time.Now().Add(time.Hour).Unix(),
	})
	s, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authConfig(t *testing.T, source string) Config {
	t.Helper()
	src, err := jwtauth.ParseSource(source)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyConnect: {},
		routes.KeyDefault: {Integration: routes.IntegrationEcho},
		"admin":           {Integration: routes.IntegrationEcho, Scopes: []string{"chat:admin"}},
	}}}
	cfg.Auth.JWT = &jwtauth.Config{Issuer: "test-issuer", Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: testSecret}}}
	cfg.Auth.WebSocket.Source = src
	cfg.Auth.WebSocket.Scopes = []string{"chat"}
	return cfg
}

func TestUpgradeAuth(t *testing.T) {
	g, nc := natsGateway(t, authConfig(t, "query:access_token"))
	connects := make(chan *nats.Msg, 4)
	subscribe(t, nc, "gatecast.connect", func(m *nats.Msg) { connects <- m })
	url := "ws://" + g.Addr().String() + "/"

	tests := []struct {
		name   string
		query  string
		status int
	}{
		{"no token", "", 401},
		{"garbage", "?access_token=not.a.jwt", 401},
		{"missing scope", "?access_token=" + token(t, "ann", "other"), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := websocket.DefaultDialer.Dial(url+tt.query, nil)
			if err == nil || resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("err %v resp %v, want %d", err, resp, tt.status)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate challenge")
			}
		})
	}

	c, _, err := websocket.DefaultDialer.Dial(url+"?access_token="+token(t, "ann", "chat"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := <-connects
	if claims := m.Header.Get(protocol.HeaderClaims); !strings.Contains(claims, `"sub":"ann"`) {
		t.Fatalf("claims header %q", claims)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"admin"}`))
	if m := readJSON(t, c); !strings.Contains(m["message"].(string), "Forbidden") {
		t.Fatalf("route needing chat:admin: %v", m)
	}
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
	if s := readText(t, c); s != "hello" {
		t.Fatalf("echo: %q", s)
	}
}

func TestUpgradeAuthBySubprotocol(t *testing.T) {
	g := startGateway(t, authConfig(t, "protocol"))
	d := websocket.Dialer{Subprotocols: []string{"bearer", token(t, "bob", "chat")}}
	c, resp, err := d.Dial("ws://"+g.Addr().String()+"/", nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer c.Close()
	if c.Subprotocol() != "bearer" {
		t.Fatalf("negotiated %q, want the marker, never the token", c.Subprotocol())
	}
}

func TestAdminAPIWithJWT(t *testing.T) {
	g, _ := natsGateway(t, authConfig(t, "header"))
	call := func(tok string) int {
		req, _ := http.NewRequest("GET", "http://"+g.AdminAddr().String()+"/@topics/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(token(t, "ops", "gatecast:admin")); got != 200 {
		t.Errorf("admin-scoped token: %d", got)
	}
	if got := call(token(t, "ann", "chat")); got != 403 {
		t.Errorf("token without the admin scope: %d, want 403", got)
	}
	if got := call(g.AdminToken()); got != 200 {
		t.Errorf("admin bearer token: %d", got)
	}
	if got := call("nonsense"); got != 401 {
		t.Errorf("garbage: %d, want 401", got)
	}
}
