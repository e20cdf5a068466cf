package admission

import (
	"bytes"
	"net/url"
	"strings"
)

// OriginPolicy guards WebSocket upgrades against cross-site WebSocket
// hijacking: a browser page on another site must not open a connection
// that carries the user's cookies. A request without an Origin header
// comes from a non-browser client and passes.
type OriginPolicy struct {
	any     bool
	allowed map[string]struct{} // lower-case "scheme://host[:port]"
}

// NewOriginPolicy allows the request's own host plus the listed origins
// ("https://app.example.com"); "*" allows any origin.
func NewOriginPolicy(origins []string) *OriginPolicy {
	p := &OriginPolicy{allowed: make(map[string]struct{}, len(origins))}
	for _, o := range origins {
		if o == "*" {
			p.any = true
		}
		p.allowed[strings.ToLower(strings.TrimSuffix(o, "/"))] = struct{}{}
	}
	return p
}

// Allow reports whether an upgrade with this Origin and Host may proceed.
func (p *OriginPolicy) Allow(origin, host []byte) bool {
	if len(origin) == 0 || p.any {
		return true
	}
	if _, ok := p.allowed[strings.ToLower(string(origin))]; ok {
		return true
	}
	u, err := url.Parse(string(origin))
	if err != nil || u.Host == "" {
		return false // "null" (sandboxed frames, file://) and garbage
	}
	return len(host) > 0 && bytes.EqualFold([]byte(u.Host), host)
}
