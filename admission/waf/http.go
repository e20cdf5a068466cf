package waf

import (
	"net/http"
	"net/netip"
	"unsafe"
)

// CheckHTTP inspects an HTTP request as net/http's server hands it to a
// handler, as CheckRequest inspects a Request: ip is the client's address
// (resolved through trusted proxies, for BlockCIDRs), and body what the
// caller has read of the body (at least InspectBytes bytes of a longer
// one), or nil to check it later with CheckBody.
//
// Nothing is copied: the path, query and headers are read where r holds
// them, so a clean request allocates nothing. r must not change during
// the call. net/http keeps Host out of r.Header, so a Config.Headers
// entry "Host" finds nothing here.
func (f *Firewall) CheckHTTP(r *http.Request, ip netip.Addr, body []byte) (Finding, bool) {
	if f == nil || f.mode == ModeOff || r == nil {
		return Finding{}, false
	}
	req := Request{SourceIP: ip, HTTPHeader: r.Header, Body: body}
	if r.URL != nil {
		req.Path = bytesOf(r.URL.EscapedPath())
		req.RawQuery = bytesOf(r.URL.RawQuery)
	}
	return f.CheckRequest(&req)
}

// bytesOf views s as bytes, without a copy. The Firewall never writes to
// what it inspects (decoding goes to scratch buffers; FuzzCheckRequest
// checks it), so the view is never written either.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
