package admission

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func newCORS(t testing.TB, cfg CORSConfig) *CORS {
	t.Helper()
	c, err := NewCORS(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.Fatal("NewCORS returned nil")
	}
	return c
}

func TestNewCORSErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     CORSConfig
		mention string
	}{
		{"any origin with credentials", CORSConfig{AllowOrigins: []string{"*"}, AllowCredentials: true}, `allow_origins "*": browsers refuse`},
		{"null", CORSConfig{AllowOrigins: []string{"null"}}, `"null" is the origin`},
		{"trailing slash", CORSConfig{AllowOrigins: []string{"https://app.example.com/"}}, "no path"},
		{"path", CORSConfig{AllowOrigins: []string{"https://app.example.com/app"}}, "no path"},
		{"no scheme", CORSConfig{AllowOrigins: []string{"app.example.com"}}, "want scheme://host"},
		{"user", CORSConfig{AllowOrigins: []string{"https://u@app.example.com"}}, "want scheme://host"},
		{"port", CORSConfig{AllowOrigins: []string{"https://app.example.com:70000"}}, "port out of range"},
		{"wildcard tld", CORSConfig{AllowOrigins: []string{"https://*.com"}}, "top-level domain"},
		{"wildcard inside", CORSConfig{AllowOrigins: []string{"https://app.*.example.com"}}, "only for subdomains"},
		{"wildcard no dot", CORSConfig{AllowOrigins: []string{"https://*example.com"}}, "only for subdomains"},
		{"two wildcards", CORSConfig{AllowOrigins: []string{"https://*.*.example.com"}}, "one wildcard"},
		{"method", CORSConfig{AllowOrigins: []string{"*"}, AllowMethods: []string{"GE T"}}, `allow_methods "GE T"`},
		{"method star", CORSConfig{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}}, `allow_methods "*"`},
		{"header", CORSConfig{AllowOrigins: []string{"*"}, AllowHeaders: []string{"X Bad"}}, `allow_headers "X Bad"`},
		{"expose star with credentials", CORSConfig{AllowOrigins: []string{"https://a.example"}, AllowCredentials: true, ExposeHeaders: []string{"*"}}, `expose_headers "*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCORS(tt.cfg)
			if err == nil {
				t.Fatalf("NewCORS = %v, nil; want an error", c)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
	t.Run("every fault at once", func(t *testing.T) {
		_, err := NewCORS(CORSConfig{AllowOrigins: []string{"null", "https://ok.example", "x"}, AllowMethods: []string{"a b"}})
		for _, s := range []string{`"null"`, `"x"`, `"a b"`} {
			if err == nil || !strings.Contains(err.Error(), s) {
				t.Errorf("error %v does not mention %s", err, s)
			}
		}
	})
	for _, ok := range []string{"http://localhost:3000", "https://[::1]:8443", "capacitor://localhost", "https://*.example.com:8443", "HTTPS://App.Example.com"} {
		if _, err := NewCORS(CORSConfig{AllowOrigins: []string{ok}}); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}

func TestCORSNil(t *testing.T) {
	c, err := NewCORS(CORSConfig{AllowMethods: []string{"PUT"}, AllowCredentials: true})
	if c != nil || err != nil {
		t.Fatalf("no origins: %v, %v; want nil, nil", c, err)
	}
	w := httptest.NewRecorder()
	r := preflight("https://app.example.com", "PUT", "")
	if c.Handle(w, r) || len(w.Header()) != 0 || w.Code != 200 {
		t.Fatalf("nil CORS acted: %v %d", w.Header(), w.Code)
	}
}

func preflight(origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/orders", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if method != "" {
		r.Header.Set("Access-Control-Request-Method", method)
	}
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

var testCORS = CORSConfig{
	AllowOrigins:     []string{"https://app.example.com", "https://*.example.org", "http://localhost:3000"},
	AllowMethods:     []string{"GET", "post", "PUT"},
	ExposeHeaders:    []string{"x-request-id", "Retry-After"},
	AllowCredentials: true,
	MaxAge:           90 * time.Second,
}

func TestCORSPreflight(t *testing.T) {
	c := newCORS(t, testCORS)
	tests := []struct {
		name     string
		r        *http.Request
		answered bool
		allowed  bool   // the CORS headers are there
		methods  string // Access-Control-Allow-Methods when allowed
		headers  string // Access-Control-Allow-Headers when allowed
	}{
		{"allowed", preflight("https://app.example.com", "PUT", "content-type,x-api-key"), true, true, "PUT", "content-type,x-api-key"},
		{"origin case", preflight("https://APP.example.com", "PUT", ""), true, true, "PUT", ""},
		{"lower-case method in config", preflight("https://app.example.com", "POST", ""), true, true, "POST", ""},
		{"subdomain", preflight("https://a.b.example.org", "GET", "authorization"), true, true, "GET", "authorization"},
		{"localhost port", preflight("http://localhost:3000", "GET", ""), true, true, "GET", ""},
		{"wildcard is not the domain", preflight("https://example.org", "GET", ""), true, false, "", ""},
		{"wildcard is not a suffix", preflight("https://evilexample.org", "GET", ""), true, false, "", ""},
		{"other port", preflight("http://localhost:3001", "GET", ""), true, false, "", ""},
		{"other scheme", preflight("http://app.example.com", "GET", ""), true, false, "", ""},
		{"other origin", preflight("https://evil.example", "PUT", ""), true, false, "", ""},
		{"null origin", preflight("null", "GET", ""), true, false, "", ""},
		{"method", preflight("https://app.example.com", "DELETE", ""), true, false, "", ""},
		{"header", preflight("https://app.example.com", "PUT", "x-secret"), true, false, "", ""},
		{"no origin: the route's OPTIONS", preflight("", "PUT", ""), false, false, "", ""},
		{"no request method: the route's OPTIONS", preflight("https://app.example.com", "", ""), false, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			answered := c.Handle(w, tt.r)
			h := w.Header()
			if answered != tt.answered {
				t.Fatalf("answered = %v, want %v", answered, tt.answered)
			}
			if answered && w.Code != http.StatusNoContent {
				t.Errorf("status %d, want 204", w.Code)
			}
			if !answered && w.Code != 200 {
				t.Errorf("wrote status %d for a request it did not answer", w.Code)
			}
			if got := h.Get("Access-Control-Allow-Origin"); (got != "") != tt.allowed || tt.allowed && got != tt.r.Header.Get("Origin") {
				t.Fatalf("Access-Control-Allow-Origin %q, allowed = %v (headers %v)", got, tt.allowed, h)
			}
			if !strings.Contains(strings.Join(h["Vary"], ","), "Origin") {
				t.Errorf("Vary %q lacks Origin", h["Vary"])
			}
			if !tt.allowed || !tt.answered {
				return
			}
			for name, want := range map[string]string{
				"Access-Control-Allow-Methods":     tt.methods,
				"Access-Control-Allow-Headers":     tt.headers,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age":           "90",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestCORSActual(t *testing.T) {
	withCreds := newCORS(t, testCORS)
	anyOrigin := newCORS(t, CORSConfig{AllowOrigins: []string{"*"}})
	get := func(method, origin string) *http.Request {
		r := httptest.NewRequest(method, "/orders", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	tests := []struct {
		name string
		c    *CORS
		r    *http.Request
		vary string // set before
		want http.Header
	}{
		{"allowed", withCreds, get("GET", "https://app.example.com"), "", http.Header{
			"Vary":                             {"Origin"},
			"Access-Control-Allow-Origin":      {"https://app.example.com"},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {"X-Request-Id, Retry-After"},
		}},
		{"other origin", withCreds, get("GET", "https://evil.example"), "", http.Header{"Vary": {"Origin"}}},
		{"method not allowed", withCreds, get("DELETE", "https://app.example.com"), "", http.Header{"Vary": {"Origin"}}},
		{"no origin", withCreds, get("GET", ""), "", http.Header{"Vary": {"Origin"}}},
		{"no origin, vary kept", withCreds, get("GET", ""), "Accept-Encoding", http.Header{"Vary": {"Accept-Encoding", "Origin"}}},
		{"vary kept", withCreds, get("POST", "https://app.example.com"), "Accept-Encoding", http.Header{
			"Vary":                             {"Accept-Encoding", "Origin"},
			"Access-Control-Allow-Origin":      {"https://app.example.com"},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {"X-Request-Id, Retry-After"},
		}},
		{"any origin", anyOrigin, get("GET", "https://whoever.example"), "", http.Header{
			"Vary":                        {"Origin"},
			"Access-Control-Allow-Origin": {"*"},
		}},
		{"any origin, default methods", anyOrigin, get("PATCH", "https://whoever.example"), "", http.Header{"Vary": {"Origin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if tt.vary != "" {
				w.Header().Set("Vary", tt.vary)
			}
			if tt.c.Handle(w, tt.r) {
				t.Fatal("an actual request was answered")
			}
			if w.Code != 200 {
				t.Errorf("wrote status %d", w.Code)
			}
			got := w.Header()
			if len(got) != len(tt.want) {
				t.Fatalf("headers %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if strings.Join(got[k], "|") != strings.Join(v, "|") {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestCORSMaxAge(t *testing.T) {
	for _, tt := range []struct {
		maxAge time.Duration
		want   []string
	}{
		{0, nil},
		{1500 * time.Millisecond, []string{"2"}},
		{2 * time.Hour, []string{"7200"}},
		{-1, []string{"0"}},
	} {
		c := newCORS(t, CORSConfig{AllowOrigins: []string{"*"}, MaxAge: tt.maxAge})
		w := httptest.NewRecorder()
		c.Handle(w, preflight("https://a.example", "GET", ""))
		if got := w.Header()["Access-Control-Max-Age"]; strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("MaxAge %v: Access-Control-Max-Age %q, want %q", tt.maxAge, got, tt.want)
		}
	}
}

func TestCORSConfigYAML(t *testing.T) {
	const doc = `
allow_origins: ["https://app.example.com"]
allow_methods: [GET, PUT]
allow_headers: [Content-Type]
expose_headers: [X-Request-Id]
allow_credentials: true
max_age: 10m
`
	var cfg CORSConfig
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	want := CORSConfig{
		AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type"}, ExposeHeaders: []string{"X-Request-Id"},
		AllowCredentials: true, MaxAge: 10 * time.Minute,
	}
	if strings.Join(cfg.AllowOrigins, ",") != "https://app.example.com" || strings.Join(cfg.AllowMethods, ",") != "GET,PUT" ||
		strings.Join(cfg.AllowHeaders, ",") != "Content-Type" || strings.Join(cfg.ExposeHeaders, ",") != "X-Request-Id" ||
		cfg.AllowCredentials != want.AllowCredentials || cfg.MaxAge != want.MaxAge {
		t.Fatalf("decoded %+v, want %+v", cfg, want)
	}
	newCORS(t, cfg)
}

// headerWriter is a ResponseWriter that keeps one header map, emptied
// between requests, so that a measurement sees what Handle costs.
type headerWriter struct {
	h    http.Header
	code int
}

func (w *headerWriter) Header() http.Header         { return w.h }
func (w *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *headerWriter) WriteHeader(code int)        { w.code = code }

// TestCORSAllocs guards what an actual request costs: nothing without an
// Origin, and no more than rs/cors's debug-log calls (which box their
// arguments even with logging off) with one.
func TestCORSAllocs(t *testing.T) {
	c := newCORS(t, testCORS)
	w := &headerWriter{h: http.Header{}}
	for _, tt := range []struct {
		origin string
		max    float64
	}{
		{"", 0},
		{"https://app.example.com", 1},
		{"https://a.example.org", 1},
		{"https://evil.example", 2},
	} {
		r := httptest.NewRequest("GET", "/orders", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if n := testing.AllocsPerRun(100, func() {
			clear(w.h)
			c.Handle(w, r)
		}); n > tt.max {
			t.Errorf("origin %q: %v allocations, want at most %v", tt.origin, n, tt.max)
		}
	}
}

func BenchmarkCORSActual(b *testing.B) {
	c := newCORS(b, testCORS)
	for _, bc := range []struct{ name, origin string }{
		{"origin=listed", "https://app.example.com"},
		{"origin=wildcard", "https://api.eu.example.org"},
		{"origin=refused", "https://evil.example"},
		{"origin=none", ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/orders", nil)
			if bc.origin != "" {
				r.Header.Set("Origin", bc.origin)
			}
			w := &headerWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				if c.Handle(w, r) {
					b.Fatal("answered")
				}
			}
		})
	}
}
