package demo_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/demo"
)

func TestHandler(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("next"))
	})
	h := demo.Handler("", next)
	for _, tc := range []struct {
		name, method, target string
		header               []string
		status               int
		contentType, body    string // body: a substring
	}{
		{"page", "GET", "/", nil, 200, "text/html; charset=utf-8", `<meta name="gatecast-websocket-path" content="/">`},
		{"page with a query", "GET", "/?name=ann", nil, 200, "text/html; charset=utf-8", "chat demo"},
		{"page HEAD", "HEAD", "/", nil, 200, "text/html; charset=utf-8", ""},
		{"script", "GET", "/@demo/chat.js", nil, 200, "text/javascript; charset=utf-8", "new WebSocket"},
		{"style sheet", "GET", "/@demo/chat.css", nil, 200, "text/css; charset=utf-8", ".latency"},
		{"no directory listing", "GET", "/@demo/", nil, 418, "", "next"},
		{"template not served", "GET", "/@demo/index.html", nil, 418, "", "next"},
		{"other paths", "GET", "/users/1", nil, 418, "", "next"},
		{"other methods", "POST", "/", nil, 418, "", "next"},
		{"upgrades", "GET", "/", []string{"Upgrade", "websocket"}, 418, "", "next"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.contentType != "" && rec.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tc.contentType)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body does not contain %q:\n%s", tc.body, rec.Body)
			}
			if tc.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD has a body of %d bytes", rec.Body.Len())
			}
		})
	}
}

func TestPageHeaders(t *testing.T) {
	h := demo.Handler("/ws", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), `content="/ws"`) {
		t.Errorf("the page does not name the WebSocket path /ws")
	}
	for name, want := range map[string]string{
		"Cache-Control":           "no-cache",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'self'",
	} {
		if got := rec.Header().Get(name); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	// A reload revalidates with the ETag and gets 304.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", rec.Code)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/elsewhere", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("without next: status %d, want 404", rec.Code)
	}
}
