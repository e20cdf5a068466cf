package waf_test

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatecast/gatecast/admission/waf"
)

// The fuzz targets check that no input panics a Firewall, that a check is
// deterministic, and that a finding is well formed. Seeds are in
// testdata/fuzz/<target>; run longer with
//
//	go test -run '^$' -fuzz FuzzCheckMessage -fuzztime 1m ./admission/waf/

// fuzzFirewalls: the default, and a small cap with every custom rule, so
// that the cap's edges are reached by short inputs.
func fuzzFirewalls(t testing.TB) []*waf.Firewall {
	return []*waf.Firewall{
		newFirewall(t, waf.Config{}),
		newFirewall(t, waf.Config{
			InspectBytes: 24,
			Headers:      []string{"User-Agent", "Referer", "Cookie", "X-Forwarded-For"},
			BlockCIDRs:   []string{"10.0.0.0/8", "2001:db8::/32"},
			BlockPaths:   []string{`^/admin(/|$)`, `(?i)\.(env|git)$`},
			BlockHeaders: []waf.HeaderRule{{Name: "User-Agent", Pattern: `(?i)sqlmap|nikto`}},
		}),
	}
}

var rules = map[string]bool{waf.RuleSQLi: true, waf.RuleXSS: true, waf.RuleCIDR: true, waf.RulePath: true, waf.RuleHeader: true}

func checkFinding(t *testing.T, fd waf.Finding, ok bool) {
	t.Helper()
	if !ok {
		if fd != (waf.Finding{}) {
			t.Fatalf("no match but a finding: %+v", fd)
		}
		return
	}
	if !rules[fd.Rule] || fd.Location == "" || !utf8.ValidString(fd.Location) {
		t.Fatalf("malformed finding %+v", fd)
	}
	if _, name, found := strings.Cut(fd.Location, ":"); found && len(name) > 64+len("\uFFFD") {
		t.Fatalf("Location name not cut: %q", fd.Location)
	}
}

func FuzzCheckMessage(f *testing.F) {
	f.Add([]byte(`{"action":"send","text":"hello"}`))
	fws := fuzzFirewalls(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := string(msg)
		for _, fw := range fws {
			fd, ok := fw.CheckMessage(msg)
			checkFinding(t, fd, ok)
			if fd2, ok2 := fw.CheckMessage(msg); fd2 != fd || ok2 != ok {
				t.Fatalf("not deterministic: %+v %v, then %+v %v", fd, ok, fd2, ok2)
			}
		}
		if string(msg) != orig {
			t.Fatal("CheckMessage modified its input")
		}
	})
}

func FuzzCheckRequest(f *testing.F) {
	f.Add("/api/items/1", "a=1&b=%20c", "User-Agent", "curl/8.5.0", "session=abc; theme=dark", "application/json", []byte(`{"q":"x"}`), "192.0.2.1")
	fws := fuzzFirewalls(f)
	f.Fuzz(func(t *testing.T, path, query, name, value, cookie, contentType string, body []byte, ip string) {
		r := &waf.Request{
			Path:     []byte(path),
			RawQuery: []byte(query),
			Header: []waf.Header{
				{Name: []byte(name), Value: []byte(value)},
				{Name: []byte("Cookie"), Value: []byte(cookie)},
				{Name: []byte("Content-Type"), Value: []byte(contentType)},
				{Name: []byte("Referer"), Value: []byte(value)},
			},
			Body: body,
		}
		r.SourceIP, _ = netip.ParseAddr(ip)
		before := string(r.Path) + string(r.RawQuery) + string(body) + value + cookie
		for _, fw := range fws {
			fd, ok := fw.CheckRequest(r)
			checkFinding(t, fd, ok)
			if fd2, ok2 := fw.CheckRequest(r); fd2 != fd || ok2 != ok {
				t.Fatalf("not deterministic: %+v %v, then %+v %v", fd, ok, fd2, ok2)
			}
		}
		if after := string(r.Path) + string(r.RawQuery) + string(r.Body) + string(r.Header[0].Value) + string(r.Header[1].Value); after != before {
			t.Fatal("CheckRequest modified its input")
		}
	})
}
