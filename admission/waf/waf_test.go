package waf_test

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gatecast/gatecast/admission/waf"
)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func boolp(b bool) *bool { return &b }

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		cfg      waf.Config
		sentinel error
		mention  string // the message must name the value at fault
	}{
		{"mode", waf.Config{Mode: "deny"}, waf.ErrMode, `"deny"`},
		{"negative inspect_bytes", waf.Config{InspectBytes: -1}, waf.ErrInspectBytes, `"-1"`},
		{"huge inspect_bytes", waf.Config{InspectBytes: waf.MaxInspectBytes + 1}, waf.ErrInspectBytes, "inspect_bytes"},
		{"authorization", waf.Config{Headers: []string{"User-Agent", "authorization"}}, waf.ErrHeader, `"authorization"`},
		{"proxy-authorization", waf.Config{Headers: []string{"Proxy-Authorization"}}, waf.ErrHeader, `"Proxy-Authorization"`},
		{"header name", waf.Config{Headers: []string{"User Agent"}}, waf.ErrHeader, `"User Agent"`},
		{"cidr", waf.Config{BlockCIDRs: []string{"10.0.0.0/8", "10.0.0.300/24"}}, waf.ErrCIDR, `block_cidrs[1] "10.0.0.300/24"`},
		{"cidr bits", waf.Config{BlockCIDRs: []string{"2001:db8::/129"}}, waf.ErrCIDR, `"2001:db8::/129"`},
		{"cidr hostname", waf.Config{BlockCIDRs: []string{"example.com"}}, waf.ErrCIDR, `"example.com"`},
		{"path pattern", waf.Config{BlockPaths: []string{`^/ok$`, `^/admin(`}}, waf.ErrPattern, "block_paths[1] \"^/admin(\""},
		{"header pattern", waf.Config{BlockHeaders: []waf.HeaderRule{{Name: "User-Agent", Pattern: `[a-`}}}, waf.ErrPattern, `block_headers[0].pattern "[a-"`},
		{"header rule name", waf.Config{BlockHeaders: []waf.HeaderRule{{Name: "", Pattern: `x`}}}, waf.ErrHeader, `block_headers[0].name ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := waf.New(tt.cfg)
			if err == nil {
				t.Fatalf("New = %v, nil; want an error", f)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q is not %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %s", err, tt.mention)
			}
		})
	}

	t.Run("all faults at once", func(t *testing.T) {
		_, err := waf.New(waf.Config{Mode: "x", BlockCIDRs: []string{"nope"}, BlockPaths: []string{"("}})
		for _, s := range []error{waf.ErrMode, waf.ErrCIDR, waf.ErrPattern} {
			if !errors.Is(err, s) {
				t.Errorf("error %q does not report %v", err, s)
			}
		}
	})
}

func TestDefaults(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	if f.Mode() != waf.ModeBlock {
		t.Errorf("zero Mode = %q, want block", f.Mode())
	}
	if f.InspectBytes() != waf.DefaultInspectBytes {
		t.Errorf("zero InspectBytes = %d, want %d", f.InspectBytes(), waf.DefaultInspectBytes)
	}
	var nilF *waf.Firewall
	if nilF.Mode() != waf.ModeOff {
		t.Errorf("nil Firewall Mode = %q, want off", nilF.Mode())
	}
	if _, ok := nilF.CheckMessage([]byte("<script>alert(1)</script>")); ok {
		t.Error("nil Firewall found something")
	}
	if _, ok := nilF.CheckRequest(&waf.Request{RawQuery: []byte("q=%27+OR+1%3D1--")}); ok {
		t.Error("nil Firewall found something")
	}
}

// TestConfigYAML: the yaml tags are the documented names, and an empty
// headers list is told apart from a missing one.
func TestConfigYAML(t *testing.T) {
	const doc = `
mode: count
inspect_bytes: 4096
sqli: false
headers: []
block_cidrs: ["192.0.2.0/24"]
block_paths: ["^/admin"]
block_headers:
  - name: User-Agent
    pattern: sqlmap
`
	var cfg waf.Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != waf.ModeCount || cfg.InspectBytes != 4096 || cfg.SQLi == nil || *cfg.SQLi || cfg.XSS != nil ||
		cfg.Headers == nil || len(cfg.Headers) != 0 || len(cfg.BlockCIDRs) != 1 || len(cfg.BlockPaths) != 1 ||
		len(cfg.BlockHeaders) != 1 || cfg.BlockHeaders[0].Pattern != "sqlmap" {
		t.Fatalf("decoded %+v", cfg)
	}
	f := newFirewall(t, cfg)
	if _, ok := f.CheckRequest(&waf.Request{Header: []waf.Header{hdr("Referer", "<script>alert(1)</script>")}}); ok {
		t.Error("headers: [] still inspects Referer")
	}
}

func TestBlockCIDRs(t *testing.T) {
	f := newFirewall(t, waf.Config{BlockCIDRs: []string{
		"198.51.100.0/24",
		"198.51.100.128/25", // inside the one above
		"203.0.113.7",
		"10.0.0.0/8",
		"2001:db8::/32",
		"2001:db8:1::/48", // inside the one above
		"fd00::1",
		"::ffff:192.0.2.0/120", // IPv4-mapped: 192.0.2.0/24
	}})
	tests := []struct {
		ip      string
		blocked bool
		entry   string
	}{
		{"198.51.100.1", true, "198.51.100.0/24"},
		{"198.51.100.200", true, "198.51.100.0/24"},
		{"198.51.101.1", false, ""},
		{"203.0.113.7", true, "203.0.113.7"},
		{"203.0.113.8", false, ""},
		{"203.0.113.6", false, ""},
		{"10.255.255.255", true, "10.0.0.0/8"},
		{"11.0.0.0", false, ""},
		{"9.255.255.255", false, ""},
		{"::ffff:10.1.2.3", true, "10.0.0.0/8"}, // a dual-stack socket's view of an IPv4 client
		{"192.0.2.77", true, "::ffff:192.0.2.0/120"},
		{"2001:db8:1::5", true, "2001:db8::/32"},
		{"2001:db9::1", false, ""},
		{"fd00::1", true, "fd00::1"},
		{"fd00::1%eth0", true, "fd00::1"},
		{"fd00::2", false, ""},
		{"::a00:1", false, ""}, // 10.0.0.1's bits as IPv6, not an IPv4 client
		{"0.0.0.0", false, ""},
		{"255.255.255.255", false, ""},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			fd, ok := f.CheckRequest(&waf.Request{SourceIP: mustAddr(tt.ip), Path: []byte("/")})
			if ok != tt.blocked {
				t.Fatalf("blocked = %v (%s), want %v", ok, fd, tt.blocked)
			}
			if ok && (fd.Rule != waf.RuleCIDR || fd.Location != "ip" || fd.Pattern != tt.entry) {
				t.Errorf("finding %+v, want cidr/ip/%s", fd, tt.entry)
			}
		})
	}
	if _, ok := f.CheckRequest(&waf.Request{Path: []byte("/")}); ok {
		t.Error("a request without a source address matched a CIDR")
	}
}

func TestBlockPaths(t *testing.T) {
	f := newFirewall(t, waf.Config{BlockPaths: []string{`^/admin(/|$)`, `(?i)\.(env|git)(/|$)`}})
	tests := []struct {
		path    string
		blocked bool
	}{
		{"/admin", true},
		{"/admin/users", true},
		{"/%61dmin", true},        // percent-encoded letter
		{"/%2561dmin", true},      // double-encoded
		{"//admin", true},         // duplicate slash
		{"/x/../admin", true},     // dot-dot
		{"/./admin/./", true},     // dot segments
		{"/x/%2e%2e/admin", true}, // encoded dot-dot
		{"/../../admin", true},    // dot-dot past the root
		{"/administrator", false},
		{"/api/admin", false},
		{"/.env", true},
		{"/app/.ENV", true},
		{"/app/.git/config", true},
		{"/app/.environment", false},
		{"/", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			fd, ok := f.CheckRequest(&waf.Request{Path: []byte(tt.path)})
			if ok != tt.blocked {
				t.Fatalf("blocked = %v (%s), want %v", ok, fd, tt.blocked)
			}
			if ok && (fd.Rule != waf.RulePath || fd.Location != "path" || fd.Pattern == "") {
				t.Errorf("finding %+v", fd)
			}
		})
	}
}

func TestBlockHeaders(t *testing.T) {
	f := newFirewall(t, waf.Config{
		Headers:      []string{}, // only the rules
		BlockHeaders: []waf.HeaderRule{{Name: "User-Agent", Pattern: `(?i)sqlmap|nikto`}, {Name: "X-Debug", Pattern: `^1$`}},
	})
	tests := []struct {
		name    string
		headers []waf.Header
		blocked bool
		loc     string
	}{
		{"ua", []waf.Header{hdr("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)")}, true, "header:User-Agent"},
		{"ua case", []waf.Header{hdr("user-agent", "Mozilla/5.0 Nikto/2.5.0")}, true, "header:User-Agent"},
		{"ua clean", []waf.Header{hdr("User-Agent", "curl/8.5.0")}, false, ""},
		{"second value", []waf.Header{hdr("X-Debug", "0"), hdr("X-DEBUG", "1")}, true, "header:X-Debug"},
		{"anchored", []waf.Header{hdr("X-Debug", "10")}, false, ""},
		{"other header", []waf.Header{hdr("Referer", "sqlmap")}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, ok := f.CheckRequest(&waf.Request{Path: []byte("/"), Header: tt.headers})
			if ok != tt.blocked {
				t.Fatalf("blocked = %v (%s), want %v", ok, fd, tt.blocked)
			}
			if ok && (fd.Rule != waf.RuleHeader || fd.Location != tt.loc) {
				t.Errorf("finding %+v, want header at %s", fd, tt.loc)
			}
		})
	}
}

func TestModes(t *testing.T) {
	attack := &waf.Request{Path: []byte("/"), RawQuery: []byte("id=1%27+OR+%271%27%3D%271")}
	msg := []byte(`{"text":"<script>alert(1)</script>"}`)
	for _, tt := range []struct {
		mode  waf.Mode
		finds bool
	}{
		{"", true},
		{waf.ModeBlock, true},
		{waf.ModeCount, true}, // findings as in block: letting through is the caller's part
		{waf.ModeOff, false},
	} {
		t.Run(string(tt.mode), func(t *testing.T) {
			f := newFirewall(t, waf.Config{Mode: tt.mode, BlockCIDRs: []string{"192.0.2.1"}})
			want := tt.mode
			if want == "" {
				want = waf.ModeBlock
			}
			if f.Mode() != want {
				t.Errorf("Mode() = %q, want %q", f.Mode(), want)
			}
			if _, ok := f.CheckRequest(attack); ok != tt.finds {
				t.Errorf("CheckRequest found = %v, want %v", ok, tt.finds)
			}
			if _, ok := f.CheckMessage(msg); ok != tt.finds {
				t.Errorf("CheckMessage found = %v, want %v", ok, tt.finds)
			}
			if _, ok := f.CheckRequest(&waf.Request{SourceIP: mustAddr("192.0.2.1")}); ok != tt.finds {
				t.Errorf("CIDR rule found = %v, want %v", ok, tt.finds)
			}
		})
	}
}

func TestDetectorSwitches(t *testing.T) {
	sqli := []byte(`{"q":"1' OR '1'='1"}`)
	xss := []byte(`{"q":"<img src=x onerror=alert(1)>"}`)
	js := []byte(`{"q":"javascript:alert(1)"}`)
	for _, tt := range []struct {
		name              string
		cfg               waf.Config
		wantSQLi, wantXSS bool
	}{
		{"both", waf.Config{}, true, true},
		{"sqli off", waf.Config{SQLi: boolp(false)}, false, true},
		{"xss off", waf.Config{XSS: boolp(false)}, true, false},
		{"both off", waf.Config{SQLi: boolp(false), XSS: boolp(false)}, false, false},
		{"explicit on", waf.Config{SQLi: boolp(true), XSS: boolp(true)}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFirewall(t, tt.cfg)
			if fd, ok := f.CheckMessage(sqli); ok != tt.wantSQLi || ok && fd.Rule != waf.RuleSQLi {
				t.Errorf("sqli: %v %+v, want %v", ok, fd, tt.wantSQLi)
			}
			for _, m := range [][]byte{xss, js} {
				if fd, ok := f.CheckMessage(m); ok != tt.wantXSS || ok && fd.Rule != waf.RuleXSS {
					t.Errorf("xss %s: %v %+v, want %v", m, ok, fd, tt.wantXSS)
				}
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	const payload = "' OR '1'='1"
	tests := []struct {
		name    string
		headers []string // Config.Headers
		header  waf.Header
		want    bool
	}{
		{"default user-agent", nil, hdr("User-Agent", payload), true},
		{"default referer", nil, hdr("referer", payload), true},
		{"default cookie", nil, hdr("Cookie", "a=1; b="+payload), true},
		{"default skips x-forwarded-for", nil, hdr("X-Forwarded-For", payload), false},
		{"listed x-forwarded-for", []string{"X-Forwarded-For"}, hdr("x-forwarded-for", payload), true},
		{"listed list skips user-agent", []string{"X-Forwarded-For"}, hdr("User-Agent", payload), false},
		{"authorization never", nil, hdr("Authorization", "Bearer "+payload), false},
		{"empty list", []string{}, hdr("User-Agent", payload), false},
		{"listed content-type", []string{"Content-Type"}, hdr("Content-Type", "text/plain; "+payload), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFirewall(t, waf.Config{Headers: tt.headers})
			fd, ok := f.CheckRequest(&waf.Request{Path: []byte("/"), Header: []waf.Header{tt.header}})
			if ok != tt.want {
				t.Fatalf("found = %v (%s), want %v", ok, fd, tt.want)
			}
		})
	}
}

func TestLocations(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	long := strings.Repeat("n", 100)
	tests := []struct {
		name string
		r    *waf.Request
		msg  string
		want waf.Finding
	}{
		{"path", &waf.Request{Path: []byte("/items/1%27%20OR%20%271%27%3D%271")}, "",
			waf.Finding{Rule: "sqli", Location: "path", Fingerprint: "s&sos"}},
		{"query value", &waf.Request{RawQuery: []byte("a=1&id=1%27+OR+%271%27%3D%271")}, "",
			waf.Finding{Rule: "sqli", Location: "query:id", Fingerprint: "s&sos"}},
		{"query name", &waf.Request{RawQuery: []byte("%3Cscript%3Ealert(1)%3C/script%3E=1")}, "",
			waf.Finding{Rule: "xss", Location: "query:<script>alert(1)</script>"}},
		{"long name cut", &waf.Request{RawQuery: []byte(long + "=javascript:alert(1)")}, "",
			waf.Finding{Rule: "xss", Location: "query:" + long[:64], Fingerprint: "javascript:"}},
		{"header", &waf.Request{Header: []waf.Header{hdr("user-agent", "<script>alert(1)</script>")}}, "",
			waf.Finding{Rule: "xss", Location: "header:User-Agent"}},
		{"referer query", &waf.Request{Header: []waf.Header{hdr("Referer", "https://x.example/?q=%3Csvg%20onload%3Dalert(1)%3E")}}, "",
			waf.Finding{Rule: "xss", Location: "header:Referer"}},
		{"referer path", &waf.Request{Header: []waf.Header{hdr("Referer", "https://x.example:8443/items/1%20OR%201=1?a=b")}}, "",
			waf.Finding{Rule: "sqli", Location: "header:Referer", Fingerprint: "1&1"}},
		{"cookie", &waf.Request{Header: []waf.Header{hdr("Cookie", "a=1; theme=%3Cscript%3E")}}, "",
			waf.Finding{Rule: "xss", Location: "cookie:theme"}},
		{"form body", &waf.Request{Header: []waf.Header{hdr("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")},
			Body: []byte("user=admin%27--&pw=x")}, "",
			waf.Finding{Rule: "sqli", Location: "body:user", Fingerprint: "sc"}},
		{"json body", &waf.Request{Body: []byte(`{"user":{"name":"admin'--"}}`)}, "",
			waf.Finding{Rule: "sqli", Location: "body:name", Fingerprint: "sc"}},
		{"text body", &waf.Request{Body: []byte(`<script>alert(1)</script>`)}, "",
			waf.Finding{Rule: "xss", Location: "body"}},
		{"message key", nil, `{"action":"send","data":{"text":"<script>alert(1)</script>"}}`,
			waf.Finding{Rule: "xss", Location: "message:text"}},
		{"message array after object", nil, `[{"k":"v"},"<script>alert(1)</script>"]`,
			waf.Finding{Rule: "xss", Location: "message"}},
		{"message text", nil, `<script>alert(1)</script>`,
			waf.Finding{Rule: "xss", Location: "message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fd waf.Finding
			var ok bool
			if tt.r != nil {
				fd, ok = f.CheckRequest(tt.r)
			} else {
				fd, ok = f.CheckMessage([]byte(tt.msg))
			}
			if !ok || fd != tt.want {
				t.Fatalf("got %+v, %v; want %+v", fd, ok, tt.want)
			}
		})
	}
}

func TestFindingString(t *testing.T) {
	for _, tt := range []struct {
		fd   waf.Finding
		want string
	}{
		{waf.Finding{Rule: "sqli", Location: "query:id", Fingerprint: "s&sos"}, "sqli in query:id (fingerprint s&sos)"},
		{waf.Finding{Rule: "cidr", Location: "ip", Pattern: "10.0.0.0/8"}, "cidr in ip (matches 10.0.0.0/8)"},
		{waf.Finding{Rule: "xss", Location: "message"}, "xss in message"},
	} {
		if got := tt.fd.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// TestInspectBytes: what lies past the cap is not inspected, what lies
// before it is, in every place the cap applies.
func TestInspectBytes(t *testing.T) {
	const limit = 256
	f := newFirewall(t, waf.Config{InspectBytes: limit})
	pad := func(n int) string { return strings.Repeat("a", n) }
	const attack = "<script>alert(1)</script>"
	tests := []struct {
		name  string
		check func(before int) (waf.Finding, bool)
	}{
		{"message text", func(n int) (waf.Finding, bool) {
			return f.CheckMessage([]byte(pad(n) + " " + attack))
		}},
		{"message json", func(n int) (waf.Finding, bool) {
			return f.CheckMessage([]byte(`{"p":"` + pad(n) + `","t":"` + attack + `"}`))
		}},
		{"body", func(n int) (waf.Finding, bool) {
			return f.CheckRequest(&waf.Request{Body: []byte(`{"p":"` + pad(n) + `","t":"` + attack + `"}`)})
		}},
		{"query", func(n int) (waf.Finding, bool) {
			return f.CheckRequest(&waf.Request{RawQuery: []byte("p=" + pad(n) + "&t=%3Cscript%3Ealert(1)%3C/script%3E")})
		}},
		{"header", func(n int) (waf.Finding, bool) {
			return f.CheckRequest(&waf.Request{Header: []waf.Header{hdr("User-Agent", pad(n)+" "+attack)}})
		}},
		{"path", func(n int) (waf.Finding, bool) {
			return f.CheckRequest(&waf.Request{Path: []byte("/" + pad(n) + "/%3Cscript%3Ealert(1)%3C/script%3E")})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.check(10); !ok {
				t.Error("attack inside the cap not found")
			}
			if fd, ok := tt.check(limit); ok {
				t.Errorf("attack past the cap found: %s", fd)
			}
		})
	}
}

// TestInspectBytesAllocs: a body far over the cap costs what a body at the
// cap costs; nothing is allocated in proportion to the part not read. The
// clean paths that meet no detector allocate nothing at all.
func TestInspectBytesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	f := newFirewall(t, waf.Config{})
	big := plainMessage(1 << 20)
	atCap := plainMessage(waf.DefaultInspectBytes)
	encoded := []byte(`{"action":"join","room":"lobby\u0031"}`)
	small := []byte(`{"action":"join","room":"lobby","n":1}`)
	bigBody := &waf.Request{Path: []byte("/x"), Body: big}
	plainReq := &waf.Request{Path: []byte("/v1/orders/12345"), RawQuery: []byte("limit=10&cursor=abc%3F"),
		Header: []waf.Header{hdr("User-Agent", "okhttp/4.12.0"), hdr("Cookie", "session=9f8e7d6c5b4a39281706f5e4d3c2b1a0")}}
	for _, tt := range []struct {
		name string
		run  func()
	}{
		{"small plain message", func() { f.CheckMessage(small) }},
		{"1 MiB message", func() { f.CheckMessage(big) }},
		{"message at the cap", func() { f.CheckMessage(atCap) }},
		{"escaped message (pool)", func() { f.CheckMessage(encoded) }},
		{"1 MiB body", func() { f.CheckRequest(bigBody) }},
		{"plain request", func() { f.CheckRequest(plainReq) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.run() // fill the pool
			if got := testing.AllocsPerRun(100, tt.run); got != 0 {
				t.Errorf("%.1f allocations per check, want 0", got)
			}
		})
	}
}

// TestConcurrent runs checks from many goroutines at once; with -race it
// checks that a Firewall shares nothing mutable but its pool.
func TestConcurrent(t *testing.T) {
	f := newFirewall(t, waf.Config{BlockPaths: []string{"^/admin"}, BlockCIDRs: []string{"10.0.0.0/8"}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, ok := f.CheckMessage(chatMessage(64 + g*i%512)); ok {
					t.Error("chat message flagged")
					return
				}
				if _, ok := f.CheckMessage([]byte(`{"t":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`)); !ok {
					t.Error("escaped attack missed")
					return
				}
				if _, ok := f.CheckRequest(&waf.Request{Path: []byte("/%61dmin"), RawQuery: []byte("a=%20b")}); !ok {
					t.Error("path rule missed")
					return
				}
				if _, ok := f.CheckRequest(browserGet); ok {
					t.Error("browser request flagged")
					return
				}
			}
		}()
	}
	wg.Wait()
}
