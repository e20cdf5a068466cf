package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/mapping"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

// httpGateway runs a gateway with the given HTTP routes and a backend SDK
// client on its NATS.
func httpGateway(t *testing.T, cfg Config, httpRoutes map[string]routes.HTTPRoute) (*Gateway, *nats.Conn, *backend.Client) {
	t.Helper()
	cfg.Routes.HTTP = httpRoutes
	g, nc := natsGateway(t, cfg)
	bc, err := backend.New(nc, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bc.Drain(ctx)
	})
	return g, nc, bc
}

func handleHTTP(t *testing.T, bc *backend.Client, nc *nats.Conn, subject string, h http.HandlerFunc) {
	t.Helper()
	if _, err := bc.HandleHTTP(subject, h); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

type httpResult struct {
	status int
	header http.Header
	body   string
}

// do sends one request to the gateway's client listener.
func do(t *testing.T, g *Gateway, method, path string, body io.Reader, header ...string) httpResult {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.Addr().String()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return httpResult{resp.StatusCode, resp.Header, string(b)}
}

// errorMessage reads the gateway's JSON error body.
func errorMessage(t *testing.T, r httpResult) string {
	t.Helper()
	var e struct{ Message, RequestID string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.RequestID == "" {
		t.Fatalf("status %d: body %q is not the gateway's JSON error: %v", r.status, r.body, err)
	}
	return e.Message
}

// echoHandler answers with what it saw of the request.
func echoHandler(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		info, _ := backend.HTTPInfo(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Handler", name)
		json.NewEncoder(w).Encode(map[string]any{
			"handler": name, "method": r.Method, "path": r.URL.Path, "rawPath": r.URL.EscapedPath(), "query": r.URL.RawQuery,
			"id": r.PathValue("id"), "proxy": r.PathValue("proxy"), "body": string(body),
			"xtest": r.Header.Get("X-Test"), "forged": r.Header.Get("Gatecast-Claims"),
			"route": info.RouteKey, "requestId": info.RequestID, "host": r.Host,
		})
	}
}

func decode(t *testing.T, r httpResult) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("status %d body %q: %v", r.status, r.body, err)
	}
	return m
}

func TestHTTPRouting(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{
		"GET /users":               {Subject: "t.users"},
		"GET /users/me":            {Subject: "t.me"},
		"GET /users/{id}":          {Subject: "t.user"},
		"ANY /users/{id}":          {Subject: "t.anyuser"},
		"ANY /files/{proxy+}":      {Subject: "t.files"},
		"POST /users/{id}/avatars": {Subject: "t.avatar"},
		"$default":                 {Subject: "t.default"},
	})
	for _, s := range []string{"users", "me", "user", "anyuser", "files", "avatar", "default"} {
		handleHTTP(t, bc, nc, "t."+s, echoHandler(s))
	}
	for _, c := range []struct {
		method, path, handler, id, proxy string
	}{
		{"GET", "/users", "users", "", ""},
		{"GET", "/users/me", "me", "", ""},           // static beats {id}
		{"GET", "/users/42", "user", "42", ""},       // the exact method beats ANY
		{"DELETE", "/users/42", "anyuser", "42", ""}, // ANY takes the other methods
		{"GET", "/files/a/b/c.txt", "files", "", "a/b/c.txt"},
		{"POST", "/users/7/avatars", "avatar", "7", ""},
		{"GET", "/users/7/avatars", "default", "", ""}, // no GET there: $default
		{"GET", "/users/", "default", "", ""},          // an empty segment is no {id}
		{"GET", "/nothing/here", "default", "", ""},
	} {
		r := do(t, g, c.method, c.path, nil)
		m := decode(t, r)
		if r.status != 200 || m["handler"] != c.handler || m["id"] != c.id || m["proxy"] != c.proxy {
			t.Errorf("%s %s: status %d, handler %v id %v proxy %v; want %s id %q proxy %q", c.method, c.path, r.status, m["handler"], m["id"], m["proxy"], c.handler, c.id, c.proxy)
		}
	}
}

func TestHTTPNoRoute(t *testing.T) {
	g, _, _ := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"GET /only": {Subject: "t.only"}})
	r := do(t, g, "GET", "/other", nil)
	if r.status != http.StatusNotFound || errorMessage(t, r) != "Not Found" {
		t.Errorf("unrouted request: status %d body %q, want 404 Not Found", r.status, r.body)
	}
}

func TestHTTPProxyIntegration(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"ANY /items/{id}": {Subject: "t.items"}})
	handleHTTP(t, bc, nc, "t.items", echoHandler("items"))
	body := strings.Repeat("é4KiB-", 4096/7)
	r := do(t, g, "PUT", "/items/a%2Fb?x=1&y=%20", strings.NewReader(body),
		"X-Test", "yes", "Gatecast-Claims", `{"sub":"forged"}`, "Connection", "keep-alive")
	m := decode(t, r)
	want := map[string]any{
		"method": "PUT", "rawPath": "/items/a%2Fb", "query": "x=1&y=%20", "id": "a%2Fb", "body": body,
		"xtest": "yes", "forged": "", "route": "ANY /items/{id}",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("backend saw %s = %q, want %q", k, m[k], v)
		}
	}
	if r.header.Get("X-Handler") != "items" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("response headers %v: want the backend's X-Handler and Content-Type", r.header)
	}
	if !strings.HasPrefix(m["requestId"].(string), g.Node()+"-h") {
		t.Errorf("request id %q does not name the node", m["requestId"])
	}
}

func TestHTTPMappingIntegration(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"POST /orders/{id}": {
		Subject: "t.orders", Mode: routes.ModeMapping,
		Config: mapping.Config{
			RequestParameters: map[string]string{
				"overwrite:header.x-test":   "order-$request.path.id",
				"append:querystring.source": "gatecast",
				"remove:header.x-drop":      "''",
				"overwrite:path":            "/v2/orders/$request.path.id",
				"overwrite:header.x-note":   "$request.querystring.note",
			},
			RequestTemplate:    `{"order":{{json (path "id")}},"note":{{json (field "note")}}}`,
			ResponseParameters: map[string]string{"overwrite:statuscode": "201", "append:header.x-mapped": "yes"},
		},
	}})
	var dropped atomic.Value
	handleHTTP(t, bc, nc, "t.orders", func(w http.ResponseWriter, r *http.Request) {
		dropped.Store(r.Header.Get("X-Drop"))
		echoHandler("orders")(w, r)
	})
	r := do(t, g, "POST", "/orders/17?q=1", strings.NewReader(`{"note":"say \"hi\"\n"}`), "X-Drop", "secret")
	if r.status != 201 || r.header.Get("X-Mapped") != "yes" {
		t.Fatalf("mapped answer: status %d headers %v, want 201 and X-Mapped", r.status, r.header)
	}
	m := decode(t, r)
	if m["path"] != "/v2/orders/17" || m["xtest"] != "order-17" || !strings.Contains(m["query"].(string), "source=gatecast") {
		t.Errorf("backend saw path %v, x-test %v, query %v", m["path"], m["xtest"], m["query"])
	}
	if m["body"] != `{"order":"17","note":"say \"hi\"\n"}` {
		t.Errorf("backend saw body %q", m["body"])
	}
	if dropped.Load() != "" {
		t.Errorf("removed header reached the backend: %q", dropped.Load())
	}

	// A mapped value carrying CR/LF from the client (a decoded query
	// parameter) is refused, never written as a header.
	r = do(t, g, "POST", "/orders/1?note=a%0d%0aX-Evil:%201", strings.NewReader(`{}`))
	if r.status != http.StatusBadRequest {
		t.Errorf("header injection through a query parameter: status %d, want 400", r.status)
	}
}

func TestHTTPErrors(t *testing.T) {
	g, nc, _ := httpGateway(t, Config{}, map[string]routes.HTTPRoute{
		"GET /slow":      {Subject: "t.slow", Timeout: 200 * time.Millisecond},
		"GET /none":      {Subject: "t.none"},
		"GET /badstatus": {Subject: "t.badstatus"},
		"GET /badheader": {Subject: "t.badheader"},
		"GET /badstream": {Subject: "t.badstream"},
		"POST /small":    {Subject: "t.none", MaxBodyBytes: 16},
	})
	late := make(chan *nats.Msg, 1)
	subscribe(t, nc, "t.slow", func(m *nats.Msg) { late <- m })
	subscribe(t, nc, "t.badstatus", func(m *nats.Msg) {
		a := nats.NewMsg(m.Reply)
		a.Header.Set(protocol.HeaderStatus, "ok")
		nc.PublishMsg(a)
	})
	subscribe(t, nc, "t.badheader", func(m *nats.Msg) {
		a := nats.NewMsg(m.Reply)
		a.Header["X-Bad"] = []string{"a\x01b"}
		nc.PublishMsg(a)
	})
	subscribe(t, nc, "t.badstream", func(m *nats.Msg) {
		a := nats.NewMsg(m.Reply)
		a.Header.Set(protocol.HeaderStream, protocol.StreamChunk)
		nc.PublishMsg(a)
	})
	nc.Flush()

	r := do(t, g, "GET", "/slow", nil)
	if r.status != http.StatusGatewayTimeout {
		t.Errorf("no answer within the timeout: status %d, want 504", r.status)
	}
	m := <-late
	nc.Publish(m.Reply, []byte("too late"))
	waitFor(t, "the late answer to be counted", func() bool { return g.api.Stats().LateAnswers == 1 })

	for path, want := range map[string]int{"/none": 503, "/badstatus": 502, "/badheader": 502, "/badstream": 502} {
		if r := do(t, g, "GET", path, nil); r.status != want {
			t.Errorf("GET %s: status %d body %q, want %d", path, r.status, r.body, want)
		} else {
			errorMessage(t, r)
		}
	}
	if r := do(t, g, "POST", "/small", strings.NewReader(strings.Repeat("x", 17))); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("body over max_body_bytes: status %d, want 413", r.status)
	}
	st := g.api.Stats()
	if st.Timeouts != 1 || st.NoResponders != 1 || st.BadAnswers != 3 {
		t.Errorf("stats %+v: want 1 timeout, 1 no-responders, 3 bad answers", st)
	}
}

// rawHTTP writes raw bytes to the client listener and returns the status
// line of the answer.
func rawHTTP(t *testing.T, g *Gateway, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", g.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer to %.40q: %v", raw, err)
	}
	return strings.TrimSpace(line)
}

func TestHTTPBadInput(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"POST /in": {Subject: "t.in"}})
	handleHTTP(t, bc, nc, "t.in", echoHandler("in"))
	for name, c := range map[string]struct{ raw, want string }{
		"head over 10 KiB":   {"GET /in HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 11<<10) + "\r\n\r\n", "431"},
		"bad request line":   {"GET\r\nHost: x\r\n\r\n", "400"},
		"bad chunked body":   {"POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "400"},
		"CR in header value": {"POST /in HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", "400"},
		"chunked body ok":    {"POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "200"},
	} {
		if got := rawHTTP(t, g, c.raw); !strings.Contains(got, " "+c.want+" ") {
			t.Errorf("%s: got %q, want status %s", name, got, c.want)
		}
	}
}

func TestHTTPStreamChunked(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"GET /stream": {Subject: "t.stream"}})
	handleHTTP(t, bc, nc, "t.stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 5 {
			fmt.Fprintf(w, "chunk%d;", i)
			http.NewResponseController(w).Flush()
		}
	})
	resp, err := http.Get("http://" + g.Addr().String() + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "chunk0;chunk1;chunk2;chunk3;chunk4;" {
		t.Fatalf("streamed body %q, err %v", body, err)
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("transfer encoding %v, content type %q: want chunked text/plain", resp.TransferEncoding, resp.Header.Get("Content-Type"))
	}
	waitFor(t, "the stream to be counted as ended", func() bool { return g.api.Stats().StreamsEnded == 1 })
}

func TestHTTPStreamSSE(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{HTTP: HTTPConfig{SSEKeepAlive: 20 * time.Millisecond}},
		map[string]routes.HTTPRoute{"GET /events": {Subject: "t.events", Stream: routes.StreamSSE}})
	release := make(chan struct{})
	handleHTTP(t, bc, nc, "t.events", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Write([]byte("one\ntwo"))
		rc.Flush()
		<-release // idle: the gateway sends keep-alive comments
		w.Write([]byte("three"))
		rc.Flush()
	})
	resp, err := http.Get("http://" + g.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	br := bufio.NewReader(resp.Body)
	readEvent := func() string {
		var lines []string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading SSE after %q: %v", lines, err)
			}
			if line == "\n" {
				return strings.Join(lines, "|")
			}
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	if ev := readEvent(); ev != "data: one|data: two" {
		t.Errorf("first event %q: want both lines as data fields", ev)
	}
	if ev := readEvent(); ev != ": keep-alive" {
		t.Errorf("idle stream: got %q, want a keep-alive comment", ev)
	}
	close(release)
	for ev := readEvent(); ev != "data: three"; ev = readEvent() {
		if ev != ": keep-alive" {
			t.Fatalf("got %q, want data: three", ev)
		}
	}
}

func TestHTTPStreamClientGone(t *testing.T) {
	g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"GET /forever": {Subject: "t.forever"}})
	canceled := make(chan error, 1)
	handleHTTP(t, bc, nc, "t.forever", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("first"))
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		canceled <- context.Cause(r.Context())
	})
	c, err := net.Dial("tcp", g.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("status line %q: %v", line, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, "first") {
			break
		}
	}
	c.Close()
	select {
	case err := <-canceled:
		if !errors.Is(err, backend.ErrStreamCanceled) {
			t.Errorf("handler context ended with %v, want ErrStreamCanceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the backend's context was not canceled after the client left")
	}
}

// TestHTTPStreamSlowClient: a client that does not read. Under "wait"
// the backend is held back by flow control (bounded gateway memory);
// under "cut" the stream is cut once the buffer is full.
func TestHTTPStreamSlowClient(t *testing.T) {
	for _, policy := range []string{"wait", "cut"} {
		t.Run("overflow="+policy, func(t *testing.T) {
			g, nc, bc := httpGateway(t, Config{}, map[string]routes.HTTPRoute{"GET /flood": {
				Subject: "t.flood", StreamBuffer: 64 << 10, StreamOverflow: policy, Timeout: 2 * time.Second}})
			var sent atomic.Int64
			ended := make(chan error, 1)
			handleHTTP(t, bc, nc, "t.flood", func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				chunk := []byte(strings.Repeat("x", 16<<10))
				for i := 0; i < 4096; i++ { // 64 MiB: far more than the socket buffers hold
					if _, err := w.Write(chunk); err != nil {
						ended <- err
						return
					}
					if err := rc.Flush(); err != nil {
						ended <- err
						return
					}
					sent.Add(int64(len(chunk)))
				}
				ended <- nil
			})
			c, err := net.Dial("tcp", g.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.(*net.TCPConn).SetReadBuffer(4096)
			io.WriteString(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
			// Never read. The backend must stop or be stopped well before
			// it has sent everything.
			select {
			case err := <-ended:
				if err == nil {
					t.Fatalf("backend sent all 64 MiB to a client that reads nothing")
				}
				if !errors.Is(err, backend.ErrStreamCanceled) {
					t.Errorf("backend stopped with %v, want ErrStreamCanceled", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("backend neither finished nor was stopped; sent %d bytes", sent.Load())
			}
			if n := sent.Load(); n > 32<<20 {
				t.Errorf("backend sent %d MiB before being stopped: flow control is not bounding the stream", n>>20)
			}
			waitFor(t, "the stream to be cut", func() bool { return g.api.Stats().StreamsCut == 1 })
		})
	}
}

func TestHTTPAccessLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	cfg := Config{}
	cfg.AccessLog.Output = path
	g, nc, bc := httpGateway(t, cfg, map[string]routes.HTTPRoute{"GET /logged/{id}": {Subject: "t.logged"}})
	handleHTTP(t, bc, nc, "t.logged", echoHandler("logged"))
	do(t, g, "GET", "/logged/9", nil, "User-Agent", "access-test")
	do(t, g, "GET", "/unlogged", nil)
	g.Shutdown(context.Background())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("access log has %d lines, want 2: %q", len(lines), data)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatalf("access log line %q: %v", lines[0], err)
	}
	if e["routeKey"] != "GET /logged/{id}" || fmt.Sprint(e["status"]) != "200" || e["ip"] != "127.0.0.1" {
		t.Errorf("access log entry %v: want routeKey, status 200 and ip", e)
	}
}

func TestWebSocketAccessLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	cfg := echoConfig()
	cfg.AccessLog.Output = path
	cfg.AccessLog.Format = `{"type":"$context.eventType","conn":"$context.connectionId","route":"$context.routeKey","status":$context.status}`
	g := startGateway(t, cfg)
	c := dial(t, g)
	c.WriteMessage(websocket.TextMessage, []byte("hi"))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c.ReadMessage()
	waitFor(t, "the connection to close", func() bool { return g.Stats().Open == 0 })
	g.Shutdown(context.Background())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var conn string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct {
			Type, Conn, Route string
			Status            int
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if conn == "" {
			conn = e.Conn
		}
		if e.Conn != conn || conn == "" {
			t.Errorf("line %q: connection id %q, want %q on every line", line, e.Conn, conn)
		}
		got = append(got, fmt.Sprintf("%s %s %d", e.Type, e.Route, e.Status))
	}
	want := []string{"CONNECT $connect 101", "MESSAGE $default 200", "DISCONNECT $disconnect 1000"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("access log events %q, want %q", got, want)
	}
}

// TestHTTPConcurrencyOwnPool: long HTTP handlers (streams) do not take
// the slots of WebSocket events: with Concurrency 1, two requests whose
// handlers wait for each other both run.
func TestHTTPConcurrencyOwnPool(t *testing.T) {
	g, nc := natsGateway(t, Config{Routes: routes.Config{HTTP: map[string]routes.HTTPRoute{"GET /pair": {Subject: "t.pair", Timeout: 10 * time.Second}}}})
	bc, err := backend.New(nc, backend.Config{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Drain(context.Background())
	var arrived atomic.Int32
	both := make(chan struct{})
	handleHTTP(t, bc, nc, "t.pair", func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
			w.Write([]byte("both"))
		case <-r.Context().Done():
		}
	})
	bodies := make(chan string, 2)
	for range 2 {
		go func() {
			resp, err := http.Get("http://" + g.Addr().String() + "/pair")
			if err != nil {
				bodies <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			bodies <- fmt.Sprintf("%d %s", resp.StatusCode, b)
		}()
	}
	for range 2 {
		if got := <-bodies; got != "200 both" {
			t.Errorf("got %q: want both handlers running at once", got)
		}
	}
}
