package waf_test

import (
	"fmt"
	"net/netip"

	"github.com/gatecast/gatecast/admission/waf"
)

func Example() {
	fw, err := waf.New(waf.Config{
		Mode:         waf.ModeBlock,
		BlockCIDRs:   []string{"203.0.113.0/24"},
		BlockPaths:   []string{`^/admin(/|$)`},
		BlockHeaders: []waf.HeaderRule{{Name: "User-Agent", Pattern: `(?i)sqlmap|nikto`}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// An upgrade or an HTTP request.
	req := &waf.Request{
		SourceIP: netip.MustParseAddr("192.0.2.10"),
		Path:     []byte("/v1/items"),
		RawQuery: []byte("id=1%27%20OR%20%271%27%3D%271"),
		Header:   []waf.Header{{Name: []byte("User-Agent"), Value: []byte("curl/8.5.0")}},
	}
	if fd, hit := fw.CheckRequest(req); hit && fw.Mode() == waf.ModeBlock {
		fmt.Println(waf.StatusBlocked, fd)
	}

	// A WebSocket message: JSON strings are unescaped before inspection.
	msg := []byte(`{"action":"send","text":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`)
	if fd, hit := fw.CheckMessage(msg); hit && fw.Mode() == waf.ModeBlock {
		fmt.Println(waf.CloseBlocked, fd)
	}

	// Benign text that looks like SQL is let through.
	_, hit := fw.CheckMessage([]byte(`{"action":"send","text":"I'll be there at 5 -- see you"}`))
	fmt.Println(hit)

	// Output:
	// 403 sqli in query:id (fingerprint s&sos)
	// 1008 xss in message:text
	// false
}

// A bad pattern fails New, with the field and the pattern named.
func ExampleNew_error() {
	_, err := waf.New(waf.Config{BlockPaths: []string{`^/admin(`}})
	fmt.Println(err)
	// Output:
	// waf.block_paths[0] "^/admin(": waf: invalid pattern: missing closing ): `^/admin(`
}
