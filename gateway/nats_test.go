package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

// natsGateway runs a gateway whose embedded NATS listens on a free port,
// and a NATS client for the test to play the backend.
func natsGateway(t *testing.T, cfg Config) (*Gateway, *nats.Conn) {
	t.Helper()
	cfg.NATS.Listen = "127.0.0.1:0"
	g := startGateway(t, cfg)
	nc, err := nats.Connect(g.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return g, nc
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func readJSON(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %q", b)
	}
	return m
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func subscribe(t *testing.T, nc *nats.Conn, subject string, fn nats.MsgHandler) {
	t.Helper()
	sub, err := nc.Subscribe(subject, fn)
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	t.Cleanup(func() { sub.Unsubscribe() })
}

func TestRouteResponse(t *testing.T) {
	g, nc := natsGateway(t, Config{})
	var mu sync.Mutex
	var got *nats.Msg
	subscribe(t, nc, "gatecast.default", func(m *nats.Msg) {
		mu.Lock()
		got = m
		mu.Unlock()
		reply := nats.NewMsg(m.Reply)
		reply.Data = append([]byte("re: "), m.Data...)
		m.RespondMsg(reply)
	})
	c := dial(t, g)
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"nothing-configured","x":1}`))
	if s := readText(t, c); s != `re: {"action":"nothing-configured","x":1}` {
		t.Fatalf("client got %q", s)
	}
	mu.Lock()
	defer mu.Unlock()
	h := got.Header
	for k, want := range map[string]string{
		protocol.HeaderEventType:   protocol.EventMessage,
		protocol.HeaderRouteKey:    routes.KeyDefault,
		protocol.HeaderNode:        g.Node(),
		protocol.HeaderSourceIP:    "127.0.0.1",
		protocol.HeaderMessageType: protocol.MessageText,
	} {
		if h.Get(k) != want {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), want)
		}
	}
	if id, err := protocol.ParseConnectionID(h.Get(protocol.HeaderConnectionID)); err != nil || id.Node != g.Node() {
		t.Errorf("connection id %q: %v", h.Get(protocol.HeaderConnectionID), err)
	}
	for _, k := range []string{protocol.HeaderRequestID, protocol.HeaderConnectedAt, protocol.HeaderReceivedAt} {
		if h.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
}

func TestRouteSelection(t *testing.T) {
	no := false
	g, nc := natsGateway(t, Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyDefault: {Integration: routes.IntegrationEcho},
		"order":           {Subject: "shop.orders"},
		"note":            {RouteResponse: &no},
	}}})
	orders := make(chan *nats.Msg, 1)
	subscribe(t, nc, "shop.orders", func(m *nats.Msg) { orders <- m; m.Respond([]byte("ordered")) })
	notes := make(chan *nats.Msg, 1)
	subscribe(t, nc, "gatecast.route.note", func(m *nats.Msg) { notes <- m })
	c := dial(t, g)

	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"order","qty":2}`))
	if s := readText(t, c); s != "ordered" {
		t.Fatalf("order: %q", s)
	}
	if m := <-orders; m.Header.Get(protocol.HeaderRouteKey) != "order" {
		t.Fatalf("route key %q", m.Header.Get(protocol.HeaderRouteKey))
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"note"}`))
	if m := <-notes; m.Reply != "" {
		t.Fatalf("one-way route sent a request (reply %q)", m.Reply)
	}
	// Not JSON, unknown key: the $default route, here echo.
	c.WriteMessage(websocket.BinaryMessage, []byte("raw bytes"))
	if s := readText(t, c); s != "raw bytes" {
		t.Fatalf("default: %q", s)
	}
}

func TestErrorFrames(t *testing.T) {
	t.Run("no backend", func(t *testing.T) {
		g, _ := natsGateway(t, Config{})
		c := dial(t, g)
		c.WriteMessage(websocket.TextMessage, []byte("hi"))
		m := readJSON(t, c)
		if !strings.Contains(m["message"].(string), "no backend for route $default") || m["connectionId"] == "" || m["requestId"] == "" {
			t.Fatalf("error frame %v", m)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		g, nc := natsGateway(t, Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
			routes.KeyDefault: {Timeout: 100 * time.Millisecond},
		}}})
		late := make(chan *nats.Msg, 1)
		subscribe(t, nc, "gatecast.default", func(m *nats.Msg) { late <- m })
		c := dial(t, g)
		c.WriteMessage(websocket.TextMessage, []byte("slow"))
		if m := readJSON(t, c); m["message"] != "Endpoint request timed out" {
			t.Fatalf("error frame %v", m)
		}
		(<-late).Respond([]byte("too late"))
		waitFor(t, "the late reply to be counted", func() bool { return g.BrokerStats().LateReplies == 1 })
	})
	t.Run("backend error", func(t *testing.T) {
		g, nc := natsGateway(t, Config{})
		subscribe(t, nc, "gatecast.default", func(m *nats.Msg) {
			reply := nats.NewMsg(m.Reply)
			reply.Header.Set(protocol.HeaderStatus, "500")
			reply.Header.Set(protocol.HeaderError, "database is down")
			m.RespondMsg(reply)
		})
		c := dial(t, g)
		c.WriteMessage(websocket.TextMessage, []byte("hi"))
		if m := readJSON(t, c); m["message"] != "Internal server error" {
			t.Fatalf("error frame %v", m)
		}
		if g.BrokerStats().BackendErrors != 1 {
			t.Fatalf("backend errors = %d", g.BrokerStats().BackendErrors)
		}
	})
	t.Run("no route", func(t *testing.T) {
		g, _ := natsGateway(t, Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
			"only": {Integration: routes.IntegrationEcho},
		}}})
		c := dial(t, g)
		c.WriteMessage(websocket.TextMessage, []byte(`{"action":"other"}`))
		if m := readJSON(t, c); m["message"] != "Forbidden" {
			t.Fatalf("error frame %v", m)
		}
		c.WriteMessage(websocket.TextMessage, []byte(`{"action":"only"}`))
		if s := readText(t, c); s != `{"action":"only"}` {
			t.Fatalf("connection unusable after the error frame: %q", s)
		}
	})
}

func TestConnectVerdict(t *testing.T) {
	yes := true
	g, nc := natsGateway(t, Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyConnect: {RouteResponse: &yes},
		routes.KeyDefault: {Integration: routes.IntegrationEcho},
	}}})
	subscribe(t, nc, "gatecast.connect", func(m *nats.Msg) {
		var req protocol.ConnectRequest
		json.Unmarshal(m.Data, &req)
		reply := nats.NewMsg(m.Reply)
		if req.Query != "let=me" {
			reply.Header.Set(protocol.HeaderStatus, "403")
			reply.Data = []byte("not you")
		}
		m.RespondMsg(reply)
	})
	url := "ws://" + g.Addr().String() + "/"
	_, resp, err := websocket.DefaultDialer.Dial(url+"?let=not", nil)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("refused upgrade: err %v resp %v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "not you" {
		t.Errorf("refusal body %q", body)
	}
	c, _, err := websocket.DefaultDialer.Dial(url+"?let=me", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("in"))
	if s := readText(t, c); s != "in" {
		t.Fatalf("echo after accept: %q", s)
	}
}

func TestDisconnectEvent(t *testing.T) {
	g, nc := natsGateway(t, Config{})
	events := make(chan *nats.Msg, 4)
	subscribe(t, nc, "gatecast.disconnect", func(m *nats.Msg) { events <- m })
	connects := make(chan *nats.Msg, 4)
	subscribe(t, nc, "gatecast.connect", func(m *nats.Msg) { connects <- m })
	c := dial(t, g)
	cm := <-connects
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"))
	select {
	case m := <-events:
		if m.Header.Get(protocol.HeaderCloseCode) != "4001" || m.Header.Get(protocol.HeaderCloseReason) != "bye" ||
			m.Header.Get(protocol.HeaderConnectionID) != cm.Header.Get(protocol.HeaderConnectionID) {
			t.Fatalf("disconnect headers %v", m.Header)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no $disconnect event")
	}
}

// api calls the management API with the admin token.
func api(t *testing.T, g *Gateway, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+g.AdminAddr().String()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// connID learns a client's connection id from the $connect event.
func dialWithID(t *testing.T, g *Gateway, connects chan *nats.Msg) (*websocket.Conn, string) {
	t.Helper()
	c := dial(t, g)
	select {
	case m := <-connects:
		return c, m.Header.Get(protocol.HeaderConnectionID)
	case <-time.After(10 * time.Second):
		t.Fatal("no $connect event")
		return nil, ""
	}
}

func TestConnectionsAPI(t *testing.T) {
	g, nc := natsGateway(t, Config{})
	connects := make(chan *nats.Msg, 4)
	subscribe(t, nc, "gatecast.connect", func(m *nats.Msg) { connects <- m })
	c, id := dialWithID(t, g, connects)

	if code, _ := api(t, g, "POST", "/@connections/"+id, "pushed"); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	if s := readText(t, c); s != "pushed" {
		t.Fatalf("client got %q", s)
	}
	code, body := api(t, g, "GET", "/@connections/"+id, "")
	var info protocol.ConnectionInfo
	if code != 200 || json.Unmarshal([]byte(body), &info) != nil || info.ConnectionID != id || info.Identity.SourceIP != "127.0.0.1" {
		t.Fatalf("GET: %d %s", code, body)
	}
	if code, _ := api(t, g, "PUT", "/@connections/"+id+"/topics/room.1", ""); code != 204 {
		t.Fatalf("PUT topic: %d", code)
	}
	if _, body := api(t, g, "GET", "/@connections/"+id, ""); !strings.Contains(body, `"topics":["room.1"]`) {
		t.Fatalf("info after join: %s", body)
	}

	req, _ := http.NewRequest("GET", "http://"+g.AdminAddr().String()+"/@connections/"+id, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("without token: %v %v", resp, err)
	}

	unknown := protocol.ConnectionID{Node: g.Node(), N: 1<<62 | 5}.String()
	if code, _ := api(t, g, "GET", "/@connections/"+unknown, ""); code != 404 {
		t.Errorf("unknown id: %d, want 404", code)
	}
	if code, _ := api(t, g, "GET", "/@connections/not-an-id", ""); code != 404 {
		t.Errorf("malformed id: %d, want 404", code)
	}
	if code, _ := api(t, g, "DELETE", "/@connections/"+id+"?code=4000&reason=kicked", ""); code != 204 {
		t.Fatalf("DELETE: %d", code)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4000) {
		t.Fatalf("client saw %v, want close 4000", err)
	}
	waitFor(t, "the connection to end", func() bool { return g.Stats().Open == 0 })
	if code, _ := api(t, g, "POST", "/@connections/"+id, "late"); code != 410 {
		t.Errorf("POST to ended connection: %d, want 410", code)
	}
	other := protocol.ConnectionID{Node: "othernode", N: 7}.String()
	if code, _ := api(t, g, "POST", "/@connections/"+other, "x"); code != 410 {
		t.Errorf("POST to a node that is not there: %d, want 410", code)
	}
}

func TestTopicsFanOut(t *testing.T) {
	g, nc := natsGateway(t, Config{})
	connects := make(chan *nats.Msg, 16)
	subscribe(t, nc, "gatecast.connect", func(m *nats.Msg) { connects <- m })
	const n = 6
	var clients []*websocket.Conn
	var ids []string
	for i := 0; i < n; i++ {
		c, id := dialWithID(t, g, connects)
		clients, ids = append(clients, c), append(ids, id)
		if code, _ := api(t, g, "PUT", "/@connections/"+id+"/topics/news", ""); code != 204 {
			t.Fatalf("join %d: %d", i, code)
		}
	}
	if _, body := api(t, g, "GET", "/@topics/news", ""); !strings.Contains(body, `"members":6`) {
		t.Fatalf("count: %s", body)
	}
	const msgs = 200
	for i := 0; i < msgs; i++ {
		if code, _ := api(t, g, "POST", "/@topics/news", strconv.Itoa(i)); code != 202 {
			t.Fatalf("publish: %d", code)
		}
	}
	// A backend publishes straight to NATS too, skipping the first client.
	m := nats.NewMsg("gatecast.topic.news")
	m.Header.Set(protocol.HeaderExclude, ids[0])
	m.Data = []byte("from backend")
	nc.PublishMsg(m)
	// Per publisher, order holds; the backend's message may fall anywhere
	// among the API's.
	for ci, c := range clients {
		want, total := 0, msgs
		if ci > 0 {
			total++
		}
		for k := 0; k < total; k++ {
			s := readText(t, c)
			if s == "from backend" {
				if ci == 0 {
					t.Fatalf("client 0 got the message that excluded it")
				}
				continue
			}
			if s != strconv.Itoa(want) {
				t.Fatalf("client %d got %q, want %d (order lost?)", ci, s, want)
			}
			want++
		}
	}
	// Leaving and closing take members away; the last one unsubscribes.
	api(t, g, "DELETE", "/@connections/"+ids[1]+"/topics/news", "")
	for _, c := range clients[2:] {
		c.Close()
	}
	waitFor(t, "members to leave", func() bool {
		_, body := api(t, g, "GET", "/@topics/news", "")
		return strings.Contains(body, `"members":1`)
	})
	clients[0].Close()
	waitFor(t, "the topic subscription to go", func() bool { return g.BrokerStats().Topics == 0 })
}

func TestClientSubscribeRoute(t *testing.T) {
	g, _ := natsGateway(t, Config{Routes: routes.Config{WebSocket: map[string]routes.Route{
		"join":  {Integration: routes.IntegrationSubscribe, TopicFrom: "$request.body.room", TopicPrefix: "room."},
		"leave": {Integration: routes.IntegrationUnsubscribe, TopicFrom: "$request.body.room", TopicPrefix: "room."},
	}}})
	c := dial(t, g)
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"join","room":"secret.1"}`))
	if m := readJSON(t, c); !strings.Contains(m["message"].(string), "Bad Request") {
		t.Fatalf("join outside the prefix: %v", m)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"join","room":"room.1"}`))
	waitFor(t, "the join", func() bool { return g.BrokerStats().Topics == 1 })
	api(t, g, "POST", "/@topics/room.1", "hello room")
	if s := readText(t, c); s != "hello room" {
		t.Fatalf("member got %q", s)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{"action":"leave","room":"room.1"}`))
	waitFor(t, "the leave", func() bool { return g.BrokerStats().Topics == 0 })
}

// TestNATSRestart runs the gateway against an external NATS server that
// goes away and comes back: clients are told while it is away, and
// routing works again after.
func TestNATSRestart(t *testing.T) {
	opts := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	addr := ns.Addr().(*net.TCPAddr)
	url := "nats://" + addr.String()
	g := startGateway(t, Config{NATS: NATSConfig{URL: url}})
	backend := func() *nats.Conn {
		nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		sub, _ := nc.Subscribe("gatecast.default", func(m *nats.Msg) { m.Respond(bytes.ToUpper(m.Data)) })
		_ = sub
		nc.Flush()
		return nc
	}
	backend()
	c := dial(t, g)
	c.WriteMessage(websocket.TextMessage, []byte("before"))
	if s := readText(t, c); s != "BEFORE" {
		t.Fatalf("before: %q", s)
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, "the gateway to notice", func() bool { return !g.BrokerStats().Connected })
	c.WriteMessage(websocket.TextMessage, []byte("during"))
	if m := readJSON(t, c); m["message"] != "Service Unavailable: message broker unreachable" {
		t.Fatalf("during the outage: %v", m)
	}
	resp, err := http.Get("http://" + g.AdminAddr().String() + "/readyz")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("readyz during the outage: %v %v", resp, err)
	}

	opts2 := *opts
	opts2.Port = addr.Port
	ns2, err := server.NewServer(&opts2)
	if err != nil {
		t.Fatal(err)
	}
	go ns2.Start()
	t.Cleanup(ns2.Shutdown)
	if !ns2.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready again")
	}
	waitFor(t, "the gateway to reconnect", func() bool { return g.BrokerStats().Connected })
	waitFor(t, "routing to work again", func() bool {
		c.WriteMessage(websocket.TextMessage, []byte("after"))
		return readText(t, c) == "AFTER"
	})
}

// TestDisconnectOnEveryEnd checks that $disconnect goes out, with the
// right close code, however a connection ends.
func TestDisconnectOnEveryEnd(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*Config)
		end  func(t *testing.T, g *Gateway, c *websocket.Conn, id string)
		code string
	}{
		{name: "client close", code: "1000", end: func(t *testing.T, g *Gateway, c *websocket.Conn, id string) {
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
		}},
		{name: "connection lost", code: "1006", end: func(t *testing.T, g *Gateway, c *websocket.Conn, id string) {
			c.UnderlyingConn().Close()
		}},
		{name: "server close", code: "4002", end: func(t *testing.T, g *Gateway, c *websocket.Conn, id string) {
			if code, _ := api(t, g, "DELETE", "/@connections/"+id+"?code=4002", ""); code != 204 {
				t.Fatalf("DELETE: %d", code)
			}
			c.ReadMessage()
		}},
		{name: "message too big", code: "1009",
			// The client's close reply is read after a 1009 (the framing is
			// intact), so this ends well before the 5 s CloseTimeout.
			end: func(t *testing.T, g *Gateway, c *websocket.Conn, id string) {
				c.WriteMessage(websocket.BinaryMessage, make([]byte, 130<<10)) // over the 128 KiB message limit
				c.ReadMessage()
			}},
		{name: "slow consumer", code: "1008",
			cfg: func(cfg *Config) {
				cfg.WebSocket.WriteQueueBytes = 4096
				cfg.WebSocket.SlowConsumer = "close"
				cfg.WebSocket.SlowConsumerGrace = 50 * time.Millisecond
				cfg.WebSocket.CloseTimeout = 50 * time.Millisecond
			},
			end: func(t *testing.T, g *Gateway, c *websocket.Conn, id string) {
				// The client stops reading; pushes fill the kernel buffers
				// and then the write queue.
				big := strings.Repeat("x", 30<<10)
				for i := 0; i < 200 && g.Stats().SlowConsumers == 0; i++ {
					api(t, g, "POST", "/@connections/"+id, big)
				}
				if g.Stats().SlowConsumers == 0 {
					t.Fatal("the write queue never filled")
				}
			}},
		{name: "node shutdown", code: "1001", end: func(t *testing.T, g *Gateway, c *websocket.Conn, id string) {
			go func() {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			}()
			g.Shutdown(t.Context())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg Config
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			g, nc := natsGateway(t, cfg)
			connects := make(chan *nats.Msg, 1)
			subscribe(t, nc, "gatecast.connect", func(m *nats.Msg) { connects <- m })
			disconnects := make(chan *nats.Msg, 1)
			subscribe(t, nc, "gatecast.disconnect", func(m *nats.Msg) { disconnects <- m })
			c, id := dialWithID(t, g, connects)
			tt.end(t, g, c, id)
			select {
			case m := <-disconnects:
				if got := m.Header.Get(protocol.HeaderCloseCode); got != tt.code || m.Header.Get(protocol.HeaderConnectionID) != id {
					t.Fatalf("$disconnect code %s for %s, want %s for %s", got, m.Header.Get(protocol.HeaderConnectionID), tt.code, id)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no $disconnect event")
			}
		})
	}
}
