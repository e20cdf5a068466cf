package waf

import (
	"bytes"
	"hash/maphash"
	"net/netip"
	"strings"
	"sync"
	"unicode/utf8"
)

// Rule names, the Finding.Rule values: short and stable, fit for a metric
// label.
const (
	RuleSQLi   = "sqli"   // SQL injection (libinjection)
	RuleXSS    = "xss"    // cross-site scripting (libinjection, and script URLs)
	RuleCIDR   = "cidr"   // Config.BlockCIDRs
	RulePath   = "path"   // Config.BlockPaths
	RuleHeader = "header" // Config.BlockHeaders
)

// Firewall inspects requests and WebSocket messages for one route. It is
// immutable once New returns.
type Firewall struct {
	mode        Mode
	limit       int
	sqli, xss   bool
	cookies     bool              // "Cookie" is among the inspected headers
	headers     []inspectedHeader // the other inspected headers
	cidrs       cidrSet
	paths       []pathRule
	headerRules []headerRule

	// cache holds header values found clean (User-Agent, Referer).
	cache *cleanCache

	// scratch holds *[]byte buffers of 2*limit+2 bytes: two halves that
	// hold a decoded value each (a query value and its name, a path and
	// its cleaned form). Taken only when a value needs decoding.
	scratch sync.Pool
}

// New checks cfg, compiles its patterns and returns the Firewall. Every
// mistake in cfg is reported here, each naming its field and value, so a
// bad pattern fails at load and never at the first request.
func New(cfg Config) (*Firewall, error) {
	f := &Firewall{cache: &cleanCache{seed: maphash.MakeSeed()}}
	if err := f.compile(cfg); err != nil {
		return nil, err
	}
	n := 2*f.limit + 2
	f.scratch.New = func() any {
		b := make([]byte, n)
		return &b
	}
	return f, nil
}

// Mode is the configured mode; a nil Firewall is ModeOff.
func (f *Firewall) Mode() Mode {
	if f == nil {
		return ModeOff
	}
	return f.mode
}

// ModeFor is the mode for a route whose configuration says override
// ("block", "count", "off", or "" for the configured mode).
func (f *Firewall) ModeFor(override string) Mode {
	if override != "" {
		return Mode(override)
	}
	return f.Mode()
}

// InspectBytes is the configured cap on the bytes inspected per value.
func (f *Firewall) InspectBytes() int {
	if f == nil {
		return 0
	}
	return f.limit
}

// Request is what CheckRequest inspects: an HTTP request or a WebSocket
// upgrade, without net/http. Its slices are only read, and only during
// the call; the Firewall keeps none of them.
type Request struct {
	// SourceIP is the client's address, the one BlockCIDRs is matched
	// against (resolved through trusted proxies by the caller). The zero
	// Addr matches no CIDR.
	SourceIP netip.Addr
	// Path is the request path as received: percent-encoded, no query.
	Path []byte
	// RawQuery is the query string after '?', as received.
	RawQuery []byte
	// Header holds the request headers in any order, repeated names
	// allowed. Only Config.Headers, the Cookie header (if among them),
	// Content-Type, Content-Encoding and the BlockHeaders names are read.
	Header []Header
	// HTTPHeader holds request headers as net/http does, for the HTTP
	// side: an http.Header converts to it without a copy. Keys must be
	// in canonical form, as net/http's server gives them (it also keeps
	// Host out of them). It is read as Header is, after Header; either
	// or both may be set.
	HTTPHeader map[string][]string
	// Body is the request body as the backend will read it, or at least
	// its first InspectBytes bytes; nil for a WebSocket upgrade or when
	// the body is checked apart with CheckBody. It is inspected by its
	// Content-Type as CheckBody says; a body with a Content-Encoding
	// other than identity (compressed) is not inspected.
	Body []byte
}

// Header is one request header: the shape of conn.HeaderField, so the
// upgrade path can hand its headers over without copying bytes.
type Header struct {
	Name, Value []byte
}

// Finding says what matched and where, for the log and the metrics.
type Finding struct {
	// Rule is RuleSQLi, RuleXSS, RuleCIDR, RulePath or RuleHeader.
	Rule string
	// Location is where: "ip", "path", "query:<name>", "header:<Name>",
	// "cookie:<name>", "body", "body:<key>", "message", "message:<key>"
	// (the nearest JSON object key or form field, when there is one). The
	// name is client-chosen text, cut to 64 bytes: log it, but never use
	// Location as a metric label.
	Location string
	// Fingerprint is, for RuleSQLi, libinjection's token fingerprint (such
	// as "s&sos" for ' OR '1'='1); for a script URL caught by RuleXSS, its
	// scheme ("javascript:"); otherwise empty.
	Fingerprint string
	// Pattern is, for the custom rules, the configured entry that matched:
	// the CIDR, or the regular expression.
	Pattern string
}

// String is the finding for a log line.
func (fd Finding) String() string {
	s := fd.Rule + " in " + fd.Location
	switch {
	case fd.Fingerprint != "":
		s += " (fingerprint " + fd.Fingerprint + ")"
	case fd.Pattern != "":
		s += " (matches " + fd.Pattern + ")"
	}
	return s
}

// CheckRequest inspects r and returns the first finding. The custom rules
// come first (source address, header patterns, path patterns), then
// SQL injection and XSS in the path, each query parameter (name and
// value), the selected headers, each cookie, and the body. It returns no
// finding when the Firewall is nil or ModeOff; in ModeCount it returns
// findings as in ModeBlock, and the caller lets the request through.
func (f *Firewall) CheckRequest(r *Request) (Finding, bool) {
	if f == nil || f.mode == ModeOff || r == nil {
		return Finding{}, false
	}
	if src, ok := f.cidrs.match(r.SourceIP); ok {
		return Finding{Rule: RuleCIDR, Location: "ip", Pattern: src}, true
	}
	for i := range f.headerRules {
		hr := &f.headerRules[i]
		for _, h := range r.Header {
			if equalFold(h.Name, hr.name) && hr.match(h.Value) {
				return hr.finding(), true
			}
		}
		for _, v := range r.HTTPHeader[hr.key] {
			if hr.match(bytesOf(v)) {
				return hr.finding(), true
			}
		}
	}
	c := checker{f: f}
	fd, ok := c.request(r)
	c.release()
	return fd, ok
}

// CheckMessage inspects a WebSocket message body (text or JSON): a JSON
// object, array or string is inspected one string at a time (keys and
// values, unescaped); anything else, or JSON broken before the cap, as one
// text. Only the first InspectBytes bytes are read. It returns no finding
// when the Firewall is nil or ModeOff.
func (f *Firewall) CheckMessage(body []byte) (Finding, bool) {
	if f == nil || f.mode == ModeOff {
		return Finding{}, false
	}
	c := checker{f: f}
	fd, ok := c.document(body, "message")
	c.release()
	return fd, ok
}

// checker is one check in progress: the Firewall and, once a value has
// needed decoding, a scratch buffer from its pool. It lives on the stack.
type checker struct {
	f   *Firewall
	buf *[]byte
}

// halves returns the two scratch areas, each limit+1 bytes, taking the
// buffer from the pool on first use.
func (c *checker) halves() (a, b []byte) {
	if c.buf == nil {
		c.buf = c.f.scratch.Get().(*[]byte)
	}
	h := c.f.limit + 1
	return (*c.buf)[:h], (*c.buf)[h : 2*h]
}

func (c *checker) release() {
	if c.buf != nil {
		c.f.scratch.Put(c.buf)
		c.buf = nil
	}
}

// capped is b cut to the inspection cap.
func (c *checker) capped(b []byte) []byte {
	return b[:min(len(b), c.f.limit)]
}

func (c *checker) request(r *Request) (Finding, bool) {
	if fd, ok := c.path(r.Path); ok {
		return fd, ok
	}
	if fd, ok := c.pairs(c.capped(r.RawQuery), "query:", ""); ok {
		return fd, ok
	}
	var contentType, encoding []byte
	for _, h := range r.Header {
		switch {
		case equalFold(h.Name, "content-type"):
			contentType = h.Value
		case equalFold(h.Name, "content-encoding"):
			encoding = h.Value
		}
		if c.f.cookies && equalFold(h.Name, "cookie") {
			if fd, ok := c.cookies(c.capped(h.Value)); ok {
				return fd, ok
			}
			continue
		}
		for i := range c.f.headers {
			if ih := &c.f.headers[i]; equalFold(h.Name, ih.name) {
				if fd, ok := c.header(ih.loc, c.capped(h.Value)); ok {
					return fd, ok
				}
				break
			}
		}
	}
	if r.HTTPHeader != nil {
		if fd, ok := c.httpHeader(r.HTTPHeader); ok {
			return fd, ok
		}
		if v := r.HTTPHeader["Content-Type"]; len(v) > 0 && contentType == nil {
			contentType = bytesOf(v[0])
		}
		if v := r.HTTPHeader["Content-Encoding"]; len(v) > 0 && encoding == nil {
			encoding = bytesOf(v[0])
		}
	}
	if len(r.Body) == 0 {
		return Finding{}, false
	}
	if e := bytes.TrimSpace(encoding); len(e) > 0 && !equalFold(e, "identity") {
		return Finding{}, false // compressed: nothing a detector could read
	}
	return c.body(contentType, r.Body)
}

// httpHeader inspects the selected headers and the cookies of a
// Request.HTTPHeader.
func (c *checker) httpHeader(h map[string][]string) (Finding, bool) {
	if c.f.cookies {
		for _, v := range h["Cookie"] {
			if fd, ok := c.cookies(c.capped(bytesOf(v))); ok {
				return fd, ok
			}
		}
	}
	for i := range c.f.headers {
		ih := &c.f.headers[i]
		for _, v := range h[ih.key] {
			if fd, ok := c.header(ih.loc, c.capped(bytesOf(v))); ok {
				return fd, ok
			}
		}
	}
	return Finding{}, false
}

// path decodes the request path and matches the path rules against its
// cleaned form. The detectors see it decoded but not cleaned (a payload in
// a segment that ".." drops still reaches a backend that does not clean),
// one segment at a time: a backend reads /items/{id} as values, and
// libinjection reads a whole "/items/1 OR 1=1" as division and misses it.
// Segments are split before decoding, so an encoded slash (%2F) stays in
// its segment as it does for a router. A SQL comment spans segments
// (/users/1/**/OR/**/1=1), so a path with a '*' and a '/' after it is also
// inspected from the segment before the first '*' to the end.
func (c *checker) path(raw []byte) (Finding, bool) {
	raw = c.capped(raw)
	if len(c.f.paths) > 0 {
		p := raw
		if needsDecode(raw, false) {
			a, _ := c.halves()
			p = percentDecode(a, raw, false)
		}
		_, b := c.halves()
		clean := cleanPath(b, p)
		for i := range c.f.paths {
			if pr := &c.f.paths[i]; pr.match(clean) {
				return Finding{Rule: RulePath, Location: "path", Pattern: pr.src}, true
			}
		}
	}
	return c.segments(raw, "path")
}

// segments runs the detectors on a path, segment by segment (see path);
// loc is the Location of a finding.
func (c *checker) segments(raw []byte, loc string) (Finding, bool) {
	tail := -1 // where the spanning inspection starts, once a '*' is seen
	prev, start := 0, 0
	for start <= len(raw) {
		end := start + bytes.IndexByte(raw[start:], '/')
		if end < start {
			end = len(raw)
		}
		seg := raw[start:end]
		if needsDecode(seg, false) {
			a, _ := c.halves()
			seg = percentDecode(a, seg, false)
		}
		if tail < 0 && bytes.IndexByte(seg, '*') >= 0 {
			tail = prev
		}
		if v := c.f.inspect(seg); v.rule != "" {
			return v.finding(loc), true
		}
		prev, start = start, end+1
	}
	if tail >= 0 {
		p := raw[tail:]
		if needsDecode(p, false) {
			a, _ := c.halves()
			p = percentDecode(a, p, false)
		}
		if i := bytes.IndexByte(p, '*'); i >= 0 && bytes.IndexByte(p[i:], '/') >= 0 {
			if v := c.f.inspect(p); v.rule != "" {
				return v.finding(loc), true
			}
		}
	}
	return Finding{}, false
}

// pairs inspects each name and value of a query string or form body,
// percent-decoded with '+' as space. A finding's Location is prefix and
// the name, or whole for a pair without a name or when prefix is "".
func (c *checker) pairs(s []byte, prefix, whole string) (Finding, bool) {
	for len(s) > 0 {
		var rawName, rawValue []byte
		rawName, rawValue, s = nextPair(s)
		name, value := rawName, rawValue
		if needsDecode(rawName, true) {
			_, b := c.halves()
			name = percentDecode(b, rawName, true)
		}
		if v := c.f.inspect(name); v.rule != "" {
			return v.finding(location(prefix, name, whole)), true
		}
		if needsDecode(rawValue, true) {
			a, _ := c.halves()
			value = percentDecode(a, rawValue, true)
		}
		if v := c.f.inspect(value); v.rule != "" {
			return v.finding(location(prefix, name, whole)), true
		}
	}
	return Finding{}, false
}

// cookies inspects each cookie of one Cookie header: its name and value
// percent-decoded (as PHP and many frameworks decode them; '+' stays '+').
func (c *checker) cookies(s []byte) (Finding, bool) {
	for len(s) > 0 {
		var rawName, raw []byte
		rawName, raw, s = nextCookie(s)
		name := rawName
		if needsDecode(rawName, false) {
			_, b := c.halves()
			name = percentDecode(b, rawName, false)
		}
		if v := c.f.inspect(name); v.rule != "" {
			return v.finding(location("cookie:", name, "cookie")), true
		}
		value := raw
		if needsDecode(raw, false) {
			a, _ := c.halves()
			value = percentDecode(a, raw, false)
		}
		if v := c.f.inspect(value); v.rule != "" {
			return v.finding(location("cookie:", name, "cookie")), true
		}
	}
	return Finding{}, false
}

// header inspects one header value; loc is the Location of any finding,
// "header:<Name>". Values found clean are remembered (cache.go): the same
// few User-Agent and Referer strings arrive on most requests.
func (c *checker) header(loc string, v []byte) (Finding, bool) {
	known, h := c.f.cache.clean(v)
	if known {
		return Finding{}, false
	}
	if fd, ok := c.headerValue(loc, v); ok {
		return fd, ok
	}
	c.f.cache.add(v, h)
	return Finding{}, false
}

// headerValue inspects a header value. An absolute http(s) URL (a Referer)
// is read as one: the host as it is, the path segment by segment as the
// request path, each query parameter and the fragment decoded. Read
// whole, the '=' of its query would put every such URL through the XSS
// detector, and its encoded parameters would hide what the application
// decodes.
func (c *checker) headerValue(loc string, v []byte) (Finding, bool) {
	rest, ok := cutURLScheme(v)
	if !ok {
		if r := c.f.inspect(v); r.rule != "" {
			return r.finding(loc), true
		}
		return Finding{}, false
	}
	end := bytes.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, rest := rest[:end], rest[end:]
	if !isHostPort(authority) {
		if r := c.f.inspect(v[:len(v)-len(rest)]); r.rule != "" {
			return r.finding(loc), true
		}
	}
	var query, fragment []byte
	if i := bytes.IndexByte(rest, '#'); i >= 0 {
		rest, fragment = rest[:i], rest[i+1:]
	}
	if i := bytes.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i+1:]
	}
	if fd, ok := c.segments(rest, loc); ok {
		return fd, ok
	}
	if needsDecode(fragment, false) {
		a, _ := c.halves()
		fragment = percentDecode(a, fragment, false)
	}
	if r := c.f.inspect(fragment); r.rule != "" {
		return r.finding(loc), true
	}
	return c.pairs(query, "", loc)
}

// isHostPort reports whether b is a host name or IPv4 address with an
// optional port: letters, digits, '.', '-' and one ':' before digits. Such
// an authority cannot carry a quote, a space, a bracket or '<', so there is
// nothing in it for the detectors (which would still read "0x41-null" as
// arithmetic).
func isHostPort(b []byte) bool {
	if i := bytes.LastIndexByte(b, ':'); i >= 0 {
		for _, c := range b[i+1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
		b = b[:i]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// cutURLScheme returns what follows "http://" or "https://" in v.
func cutURLScheme(v []byte) ([]byte, bool) {
	for _, s := range [...]string{"https://", "http://"} {
		if hasPrefixFold(v, s) {
			return v[len(s):], true
		}
	}
	return nil, false
}

// document inspects a body or a message: JSON string by string, anything
// else (or JSON that breaks before the cap) whole. where is "body" or
// "message".
func (c *checker) document(doc []byte, where string) (Finding, bool) {
	truncated := len(doc) > c.f.limit
	doc = c.capped(doc)
	if isJSON(doc) {
		s := jsonScanner{src: doc, truncated: truncated}
		for {
			t, ok, err := s.next()
			if err != nil {
				// Not JSON after all. What broke it is often a value
				// written without quotes ({"id": 1 OR 1=1}): inspect from
				// that value on, then the whole text below.
				if r := c.f.inspect(doc[s.valueStart:]); r.rule != "" {
					return r.finding(location(where+":", s.key, where)), true
				}
				break
			}
			if !ok {
				return Finding{}, false
			}
			v := t.raw
			if t.escaped {
				a, _ := c.halves()
				if v, err = t.value(a); err != nil {
					break
				}
			}
			if r := c.f.inspect(v); r.rule != "" {
				return r.finding(location(where+":", s.key, where)), true
			}
		}
	}
	if r := c.f.inspect(doc); r.rule != "" {
		return r.finding(where), true
	}
	return Finding{}, false
}

func (v verdict) finding(loc string) Finding {
	return Finding{Rule: v.rule, Location: loc, Fingerprint: strings.Clone(v.fingerprint)}
}

// maxNameInLocation bounds the client-chosen part of Finding.Location.
const maxNameInLocation = 64

// location is prefix+name, name cut to maxNameInLocation bytes and made
// valid UTF-8; whole when name is empty.
func location(prefix string, name []byte, whole string) string {
	if len(name) == 0 || prefix == "" {
		return whole
	}
	if len(name) > maxNameInLocation {
		name = name[:maxNameInLocation]
	}
	if !utf8.Valid(name) {
		return prefix + strings.ToValidUTF8(string(name), "\uFFFD")
	}
	return prefix + string(name)
}

// equalFold compares the header name b with name, ignoring ASCII case.
func equalFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := range b {
		x, y := b[i], name[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether b starts with prefix, ignoring ASCII case.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFold(b[:len(prefix)], prefix)
}
