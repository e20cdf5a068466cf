package waf_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/admission/waf"
)

// The admission pipeline (WAF, JWT, throttles) has 5 µs per admitted
// request or message. These benchmarks say what the WAF's share is for
// the traffic a gateway mostly sees: clean. Run with
//
//	go test -run '^$' -bench . -benchmem ./admission/waf/

// chatMessage is a JSON chat message of about size bytes whose text is
// ordinary prose: spaces, commas and apostrophes, so every text string
// goes through libinjection's SQL check (only '<' or '=' would add XSS).
func chatMessage(size int) []byte {
	const prose = "Sure, I'll send the report by Friday. The numbers look good so far and the team is happy with it. "
	head := `{"action":"send","room":"lobby","text":"`
	n := max(size-len(head)-2, 8)
	text := strings.Repeat(prose, n/len(prose)+1)[:n]
	return []byte(head + text + `"}`)
}

// plainMessage is a JSON message of about size bytes with no byte that
// could change a detector's verdict: ids, names, numbers.
func plainMessage(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"action":"tick","items":[`)
	for i := 0; b.Len() < size-8; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"sym":"ABC%d","px":%d.25}`, i, i, 100+i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkCheckMessage(b *testing.B) {
	f := newFirewall(b, waf.Config{})
	for _, tc := range []struct {
		text string
		msg  []byte
	}{
		{"plain", []byte(`{"action":"join","room":"lobby"}`)},
		{"plain", plainMessage(1 << 10)},
		{"chat", chatMessage(64)},
		{"chat", chatMessage(1 << 10)},
		{"chat", chatMessage(8 << 10)},
	} {
		b.Run(fmt.Sprintf("text=%s/size=%s", tc.text, sizeName(len(tc.msg))), func(b *testing.B) {
			if _, ok := f.CheckMessage(tc.msg); ok {
				b.Fatalf("benchmark message flagged: %s", tc.msg)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.msg)))
			for b.Loop() {
				f.CheckMessage(tc.msg)
			}
		})
	}
}

// sizeName rounds n to the nearest named size: 64B, 1KiB, 8KiB.
func sizeName(n int) string {
	switch {
	case n < 512:
		return "64B"
	case n < 4<<10:
		return "1KiB"
	default:
		return "8KiB"
	}
}

// typical requests, as browsers and API clients send them.
var (
	chromeUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

	// upgrade is a browser's WebSocket upgrade: the headers that gobwas/ws
	// does not consume, as conn hands them over.
	upgrade = &waf.Request{
		Path:     []byte("/ws"),
		RawQuery: []byte("room=lobby&v=2"),
		Header: []waf.Header{
			hdr("User-Agent", chromeUA),
			hdr("Origin", "https://app.example.com"),
			hdr("Cookie", "session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark"),
			hdr("Accept-Encoding", "gzip, deflate, br"),
			hdr("Accept-Language", "en-US,en;q=0.9"),
			hdr("Cache-Control", "no-cache"),
			hdr("Pragma", "no-cache"),
		},
	}
	apiGet = &waf.Request{
		Path:     []byte("/v1/orders/12345"),
		RawQuery: []byte("limit=10&cursor=c2VjcmV0&sort=created_at"),
		Header: []waf.Header{
			hdr("User-Agent", "okhttp/4.12.0"),
			hdr("Accept", "application/json"),
			hdr("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"),
		},
	}
	browserGet = &waf.Request{
		Path:     []byte("/v1/search"),
		RawQuery: []byte("q=running+shoes&page=2"),
		Header: []waf.Header{
			hdr("User-Agent", chromeUA),
			hdr("Referer", "https://shop.example.com/search?q=running+shoes&page=1"),
			hdr("Cookie", "session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; consent=yes"),
			hdr("Accept", "application/json"),
		},
	}
	apiPost = &waf.Request{
		Path: []byte("/v1/messages"),
		Header: []waf.Header{
			hdr("User-Agent", "okhttp/4.12.0"),
			hdr("Content-Type", "application/json"),
		},
		Body: []byte(`{"room":"lobby","text":"Sure, I'll send the report by Friday.","attachments":[]}`),
	}
)

func requestBytes(r *waf.Request) int {
	n := len(r.Path) + len(r.RawQuery) + len(r.Body)
	for _, h := range r.Header {
		n += len(h.Name) + len(h.Value)
	}
	return n
}

func BenchmarkCheckRequest(b *testing.B) {
	f := newFirewall(b, waf.Config{})
	for _, tc := range []struct {
		name string
		r    *waf.Request
	}{
		{"typical", upgrade},
		{"api-get", apiGet},
		{"browser-get", browserGet},
		{"api-post-json", apiPost},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if fd, ok := f.CheckRequest(tc.r); ok {
				b.Fatalf("benchmark request flagged: %s", fd)
			}
			b.ReportAllocs()
			b.SetBytes(int64(requestBytes(tc.r)))
			for b.Loop() {
				f.CheckRequest(tc.r)
			}
		})
	}
}

// BenchmarkCheckRequestColdUA is the typical upgrade with a User-Agent
// that the clean-value cache has not seen (1024 distinct ones, cycled
// through 256 slots): the cost a new client pays, and every request
// when User-Agents are random.
func BenchmarkCheckRequestColdUA(b *testing.B) {
	f := newFirewall(b, waf.Config{})
	reqs := make([]waf.Request, 1024)
	for i := range reqs {
		reqs[i] = *upgrade
		reqs[i].Header = slices.Clone(upgrade.Header)
		reqs[i].Header[0] = hdr("User-Agent", strings.Replace(chromeUA, "120.0.0.0", fmt.Sprintf("120.0.%d.%d", i/100, i%100), 1))
		if fd, ok := f.CheckRequest(&reqs[i]); ok {
			b.Fatalf("benchmark request flagged: %s", fd)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(requestBytes(upgrade)))
	i := 0
	for b.Loop() {
		f.CheckRequest(&reqs[i%len(reqs)])
		i++
	}
}

// BenchmarkCheckRequestRules adds the custom rules a route might carry
// (a block list, path and header patterns) to the typical upgrade.
func BenchmarkCheckRequestRules(b *testing.B) {
	cidrs := make([]string, 1000)
	for i := range cidrs {
		cidrs[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	f := newFirewall(b, waf.Config{
		BlockCIDRs:   cidrs,
		BlockPaths:   []string{`^/admin(/|$)`, `\.(env|git|php)$`},
		BlockHeaders: []waf.HeaderRule{{Name: "User-Agent", Pattern: `(?i)sqlmap|nikto|masscan`}},
	})
	r := *upgrade
	r.SourceIP = mustAddr("192.0.2.10")
	if fd, ok := f.CheckRequest(&r); ok {
		b.Fatalf("benchmark request flagged: %s", fd)
	}
	b.ReportAllocs()
	b.SetBytes(int64(requestBytes(&r)))
	for b.Loop() {
		f.CheckRequest(&r)
	}
}
