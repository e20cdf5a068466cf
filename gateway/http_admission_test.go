package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/admission/jwtauth"
	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/backend"
	"github.com/gatecast/gatecast/routes"
)

func TestHTTPAuth(t *testing.T) {
	cfg := Config{}
	cfg.Auth.JWT = &jwtauth.Config{Issuer: "test-issuer", Keys: []jwtauth.KeyConfig{{Algorithm: "HS256", Secret: testSecret}}}
	g, nc, bc := httpGateway(t, cfg, map[string]routes.HTTPRoute{
		"GET /private": {Subject: "t.private", Authorization: "jwt", Scopes: []string{"reports:read"}},
		"GET /public":  {Subject: "t.private"},
	})
	handleHTTP(t, bc, nc, "t.private", func(w http.ResponseWriter, r *http.Request) {
		info, _ := backend.HTTPInfo(r)
		w.Write(info.Claims)
	})
	r := do(t, g, "GET", "/private", nil)
	if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", r.status, r.header.Get("WWW-Authenticate"))
	}
	if r := do(t, g, "GET", "/private", nil, "Authorization", "Bearer "+token(t, "ann", "other")); r.status != http.StatusForbidden {
		t.Errorf("token without the scope: status %d, want 403", r.status)
	}
	r = do(t, g, "GET", "/private", nil, "Authorization", "Bearer "+token(t, "ann", "reports:read"))
	var claims map[string]any
	if r.status != 200 || json.Unmarshal([]byte(r.body), &claims) != nil || claims["sub"] != "ann" {
		t.Errorf("good token: status %d body %q; want 200 and the claims at the backend", r.status, r.body)
	}
	if r := do(t, g, "GET", "/public", nil); r.status != 200 || r.body != "" {
		t.Errorf("route without authorization: status %d body %q, want 200 and no claims", r.status, r.body)
	}
	if n := g.api.Stats().Refused["auth"]; n != 2 {
		t.Errorf("auth refusals counted %d, want 2", n)
	}
}

func TestHTTPThrottlesAndKeys(t *testing.T) {
	const key = "k-0123456789abcdefghij"
	cfg := Config{Admission: admission.Config{UsagePlans: []admission.UsagePlan{{
		Name: "basic", Quota: admission.Quota{Limit: 1, Period: admission.PeriodDay}, Keys: []string{key},
	}}}}
	g, nc, bc := httpGateway(t, cfg, map[string]routes.HTTPRoute{
		"GET /throttled": {Subject: "t.ok", Throttle: admission.Rate{PerSecond: 0.001, Burst: 2}},
		"GET /keyed":     {Subject: "t.ok", APIKeyRequired: true},
	})
	handleHTTP(t, bc, nc, "t.ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	for i, want := range []int{200, 200, 429} {
		r := do(t, g, "GET", "/throttled", nil)
		if r.status != want {
			t.Errorf("throttled request %d: status %d, want %d", i, r.status, want)
		}
		if want == 429 && r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if r := do(t, g, "GET", "/keyed", nil); r.status != http.StatusForbidden {
		t.Errorf("no API key: status %d, want 403", r.status)
	}
	if r := do(t, g, "GET", "/keyed", nil, "X-Api-Key", "wrong-0123456789abcdefgh"); r.status != http.StatusForbidden {
		t.Errorf("unknown API key: status %d, want 403", r.status)
	}
	if r := do(t, g, "GET", "/keyed", nil, "X-Api-Key", key); r.status != 200 {
		t.Errorf("good API key: status %d, want 200", r.status)
	}
	r := do(t, g, "GET", "/keyed", nil, "X-Api-Key", key)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("over the daily quota: status %d Retry-After %q, want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	st := g.api.Stats().Refused
	if st["route_rate"] != 1 || st["api_key"] != 2 || st["quota"] != 1 {
		t.Errorf("refusals %v: want route_rate 1, api_key 2, quota 1", st)
	}
}

func TestHTTPCORS(t *testing.T) {
	cfg := Config{HTTP: HTTPConfig{CORS: &admission.CORSConfig{
		AllowOrigins: []string{"https://app.example.com"}, AllowMethods: []string{"GET", "PUT"}}}}
	g, nc, bc := httpGateway(t, cfg, map[string]routes.HTTPRoute{"ANY /data": {Subject: "t.data"}})
	handleHTTP(t, bc, nc, "t.data", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.Method)) })
	r := do(t, g, "OPTIONS", "/data", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT")
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Errorf("preflight: status %d headers %v; want 204 allowing the origin and PUT", r.status, r.header)
	}
	r = do(t, g, "PUT", "/data", nil, "Origin", "https://app.example.com")
	if r.body != "PUT" || r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("actual request: body %q, Allow-Origin %q", r.body, r.header.Get("Access-Control-Allow-Origin"))
	}
	r = do(t, g, "PUT", "/data", nil, "Origin", "https://evil.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin got Access-Control-Allow-Origin %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	// OPTIONS without CORS headers is an ordinary request for the route.
	if r := do(t, g, "OPTIONS", "/data", nil); r.body != "OPTIONS" {
		t.Errorf("plain OPTIONS: body %q, want it routed to the backend", r.body)
	}
}

func TestHTTPWAF(t *testing.T) {
	for _, mode := range []waf.Mode{waf.ModeBlock, waf.ModeCount} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := Config{WAF: &waf.Config{Mode: mode}}
			g, nc, bc := httpGateway(t, cfg, map[string]routes.HTTPRoute{
				"ANY /search": {Subject: "t.search"},
				"ANY /code":   {Subject: "t.search", WAF: "off"},
			})
			handleHTTP(t, bc, nc, "t.search", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
			attacks := []func() httpResult{
				func() httpResult { return do(t, g, "GET", "/search?q=1%27%20OR%20%271%27%3D%271", nil) },
				func() httpResult {
					return do(t, g, "POST", "/search", strings.NewReader(`{"text":"<script>alert(1)</script>"}`), "Content-Type", "application/json")
				},
				func() httpResult {
					return do(t, g, "POST", "/search", strings.NewReader("name=x&bio=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"), "Content-Type", "application/x-www-form-urlencoded")
				},
				func() httpResult {
					return do(t, g, "GET", "/search", nil, "Cookie", "sid=1' UNION SELECT password FROM users--")
				},
			}
			want := http.StatusForbidden
			if mode == waf.ModeCount {
				want = 200
			}
			for i, attack := range attacks {
				if r := attack(); r.status != want {
					t.Errorf("attack %d: status %d, want %d", i, r.status, want)
				}
			}
			benign := []func() httpResult{
				func() httpResult { return do(t, g, "GET", "/search?q=O%27Brien%27s%20pub", nil) },
				func() httpResult {
					return do(t, g, "POST", "/search", strings.NewReader(`{"text":"it's 5 o'clock, see <b>you</b>"}`), "Content-Type", "application/json")
				},
				func() httpResult {
					return do(t, g, "POST", "/code", strings.NewReader(`{"snippet":"SELECT * FROM t WHERE a='1' OR '1'='1'"}`), "Content-Type", "application/json")
				},
			}
			for i, ok := range benign {
				if r := ok(); r.status != 200 {
					t.Errorf("benign request %d: status %d, want 200", i, r.status)
				}
			}
			if hits := g.api.Stats().WAFHits; hits != uint64(len(attacks)) {
				t.Errorf("WAF findings %d, want %d", hits, len(attacks))
			}
		})
	}
}
