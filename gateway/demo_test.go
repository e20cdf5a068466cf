package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestDemoPage checks that demo mode serves the page at GET and HEAD / ahead
// of the HTTP routes, and that everything else still reaches them.
func TestDemoPage(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("demo_page=%v", on), func(t *testing.T) {
			cfg := echoConfig()
			cfg.HTTP.DemoPage = on
			g, nc, bc := httpGateway(t, cfg, nil) // $default → gatecast.http.default
			handleHTTP(t, bc, nc, "gatecast.http.default", echoHandler("default"))

			for _, tc := range []struct {
				method, path string
				page         bool // served by the demo in demo mode
				contentType  string
			}{
				{"GET", "/", true, "text/html; charset=utf-8"},
				{"GET", "/?name=ann", true, "text/html; charset=utf-8"},
				{"HEAD", "/", true, "text/html; charset=utf-8"},
				{"GET", "/@demo/chat.js", true, "text/javascript; charset=utf-8"},
				{"POST", "/", false, ""},
				{"GET", "/users/1", false, ""},
			} {
				r := do(t, g, tc.method, tc.path, nil)
				if on && tc.page {
					if r.status != 200 || r.header.Get("Content-Type") != tc.contentType || r.header.Get("X-Handler") != "" {
						t.Errorf("%s %s: %d %q from %q, want the demo's %s", tc.method, tc.path, r.status, r.header.Get("Content-Type"), r.header.Get("X-Handler"), tc.contentType)
					}
					if tc.path == "/" && tc.method == "GET" && !strings.Contains(r.body, "gatecast chat demo") {
						t.Errorf("GET /: not the demo page:\n%s", r.body)
					}
					continue
				}
				if r.status != 200 || r.header.Get("X-Handler") != "default" {
					t.Errorf("%s %s: %d from %q, want the $default route", tc.method, tc.path, r.status, r.header.Get("X-Handler"))
				}
			}

			// The page's WebSocket shares its path.
			c := dial(t, g)
			if err := c.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c.ReadMessage(); err != nil || string(got) != "hi" {
				t.Fatalf("echo over the WebSocket at /: %q, %v", got, err)
			}
		})
	}
}

func TestDemoPageNeedsHTTP(t *testing.T) {
	cfg, err := ParseConfig([]byte("http:\n  enabled: false\n  demo_page: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "http.demo_page") {
		t.Fatalf("New: %v, want an error about http.demo_page", err)
	}
}
