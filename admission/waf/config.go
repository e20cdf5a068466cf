package waf

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strings"

	"github.com/gatecast/gatecast/internal/httpsyntax"
)

// Mode says what the caller does with a finding. The Firewall reports
// findings the same way in ModeBlock and ModeCount; acting on them is the
// caller's part (see the package example).
type Mode string

const (
	// ModeBlock refuses: HTTP 403 (StatusBlocked), or for a WebSocket
	// message a close with 1008 (CloseBlocked). The default.
	ModeBlock Mode = "block"
	// ModeCount lets the request through and counts and logs the finding:
	// a dry run, to learn a route's false positives before blocking. It
	// applies to every rule, the custom rules included.
	ModeCount Mode = "count"
	// ModeOff inspects nothing: CheckRequest and CheckMessage return at
	// once with no finding.
	ModeOff Mode = "off"
)

// DefaultInspectBytes is what a zero Config.InspectBytes means.
const DefaultInspectBytes = 8 << 10

// MaxInspectBytes bounds Config.InspectBytes: each check in flight may hold
// a scratch buffer of twice that.
const MaxInspectBytes = 1 << 20

// DefaultHeaders are the request headers inspected when Config.Headers is
// nil: the ones that applications commonly store or print back (analytics
// and logs keep User-Agent and Referer; cookies are read like parameters).
func DefaultHeaders() []string { return []string{"User-Agent", "Referer", "Cookie"} }

// Config is a route's firewall. Every field's zero value means the default
// in its comment, so the zero Config blocks SQL injection and XSS.
type Config struct {
	// Mode is "block", "count" or "off". Zero means "block".
	Mode Mode `yaml:"mode"`

	// InspectBytes caps what is inspected of each value: the path, the
	// query string, each selected header, the body, a WebSocket message.
	// Bytes past the cap are not read, and a check never allocates in
	// proportion to them. Zero means DefaultInspectBytes (8 KiB); at most
	// MaxInspectBytes.
	InspectBytes int `yaml:"inspect_bytes"`

	// SQLi turns SQL injection detection on or off. Nil means on.
	SQLi *bool `yaml:"sqli"`
	// XSS turns cross-site scripting detection on or off. Nil means on.
	XSS *bool `yaml:"xss"`

	// Headers names the request headers whose values are inspected for
	// SQL injection and XSS (case-insensitive). "Cookie" means each
	// cookie's name and value, percent-decoded, one by one. A value that
	// is an absolute http(s) URL (a Referer) is inspected as a URL: its
	// path and each query parameter, decoded. Nil means DefaultHeaders();
	// an empty, non-nil list inspects no header. Authorization and
	// Proxy-Authorization are refused: credentials are admission/jwtauth's
	// to judge, and would only make false positives.
	Headers []string `yaml:"headers"`

	// BlockCIDRs lists client addresses that are always refused: an IPv4
	// or IPv6 address or a CIDR ("203.0.113.7", "198.51.100.0/24",
	// "2001:db8::/32"). Matched against Request.SourceIP. Zero blocks none.
	BlockCIDRs []string `yaml:"block_cidrs"`

	// BlockPaths lists Go regular expressions (RE2 syntax, see
	// regexp/syntax) matched against the request path once it is
	// percent-decoded and cleaned (duplicate slashes collapsed, "." and
	// ".." resolved as path.Clean does), so "/%61dmin" and "//x/../admin"
	// both read "/admin". A pattern matches anywhere unless anchored:
	// write "^/admin(/|$)", not "/admin". Like the detectors, the rules
	// see the first InspectBytes bytes of the path. A pattern that names
	// a literal ("/admin") costs a substring search on requests without
	// it; one that does not (".*x") runs Go's regexp on every request, a
	// few µs on a long value. Zero blocks none.
	BlockPaths []string `yaml:"block_paths"`

	// BlockHeaders refuses requests that carry a header whose value
	// matches a pattern (the whole value as received, not decoded). Zero
	// blocks none.
	BlockHeaders []HeaderRule `yaml:"block_headers"`
}

// HeaderRule blocks requests whose header Name (case-insensitive) has a
// value matching Pattern, a Go regular expression that matches anywhere
// unless anchored: {Name: "User-Agent", Pattern: "(?i)sqlmap|nikto"}.
type HeaderRule struct {
	Name    string `yaml:"name"`
	Pattern string `yaml:"pattern"`
}

// inspectedHeader is a Config.Headers entry with its Finding.Location
// made once, so that a clean check builds no string, and its canonical
// form, the key of Request.HTTPHeader.
type inspectedHeader struct {
	name, loc, key string
}

// headerRule is a HeaderRule compiled; lits are the literals one of
// which any match contains (literal.go), nil if unknown.
type headerRule struct {
	name string
	key  string // canonical, for Request.HTTPHeader
	re   *regexp.Regexp
	lits []string
}

// pathRule is a BlockPaths entry compiled; src is kept for Finding.Pattern.
type pathRule struct {
	src  string
	re   *regexp.Regexp
	lits []string
}

func (r *pathRule) match(b []byte) bool   { return mayMatch(b, r.lits) && r.re.Match(b) }
func (r *headerRule) match(b []byte) bool { return mayMatch(b, r.lits) && r.re.Match(b) }

func (r *headerRule) finding() Finding {
	return Finding{Rule: RuleHeader, Location: "header:" + r.name, Pattern: r.re.String()}
}

// compile checks cfg and fills in f. Every fault is reported, not just the
// first, so one reload fixes a config.
func (f *Firewall) compile(cfg Config) error {
	var errs []error

	switch cfg.Mode {
	case "":
		f.mode = ModeBlock
	case ModeBlock, ModeCount, ModeOff:
		f.mode = cfg.Mode
	default:
		errs = append(errs, configError(ErrMode, "mode", string(cfg.Mode), ""))
	}

	switch {
	case cfg.InspectBytes == 0:
		f.limit = DefaultInspectBytes
	case cfg.InspectBytes < 0 || cfg.InspectBytes > MaxInspectBytes:
		errs = append(errs, configError(ErrInspectBytes, "inspect_bytes", fmt.Sprint(cfg.InspectBytes),
			fmt.Sprintf("want 1 to %d, or 0 for %d", MaxInspectBytes, DefaultInspectBytes)))
	default:
		f.limit = cfg.InspectBytes
	}

	f.sqli = cfg.SQLi == nil || *cfg.SQLi
	f.xss = cfg.XSS == nil || *cfg.XSS

	headers := cfg.Headers
	if headers == nil {
		headers = DefaultHeaders()
	}
	for _, h := range headers {
		switch {
		case !httpsyntax.IsToken(h):
			errs = append(errs, configError(ErrHeader, "headers", h, "not a header name"))
		case strings.EqualFold(h, "Authorization"), strings.EqualFold(h, "Proxy-Authorization"):
			errs = append(errs, configError(ErrHeader, "headers", h, "credentials are never inspected; admission/jwtauth checks them"))
		case strings.EqualFold(h, "Cookie"):
			f.cookies = true
		default:
			f.headers = append(f.headers, inspectedHeader{name: h, loc: "header:" + h, key: textproto.CanonicalMIMEHeaderKey(h)})
		}
	}

	for i, s := range cfg.BlockCIDRs {
		p, err := parsePrefix(s)
		if err != nil {
			errs = append(errs, configError(ErrCIDR, fmt.Sprintf("block_cidrs[%d]", i), s, "want an address (192.0.2.1, 2001:db8::1) or a CIDR (192.0.2.0/24)"))
			continue
		}
		f.cidrs.add(p, s)
	}
	f.cidrs.build()

	for i, s := range cfg.BlockPaths {
		re, err := regexp.Compile(s)
		if err != nil {
			errs = append(errs, configError(ErrPattern, fmt.Sprintf("block_paths[%d]", i), s, reason(err)))
			continue
		}
		f.paths = append(f.paths, pathRule{src: s, re: re, lits: requiredLiterals(s)})
	}

	for i, r := range cfg.BlockHeaders {
		field := fmt.Sprintf("block_headers[%d]", i)
		if !httpsyntax.IsToken(r.Name) {
			errs = append(errs, configError(ErrHeader, field+".name", r.Name, "not a header name"))
			continue
		}
		re, err := regexp.Compile(r.Pattern)
		if err != nil {
			errs = append(errs, configError(ErrPattern, field+".pattern", r.Pattern, reason(err)))
			continue
		}
		f.headerRules = append(f.headerRules, headerRule{name: r.Name, key: textproto.CanonicalMIMEHeaderKey(r.Name), re: re, lits: requiredLiterals(r.Pattern)})
	}

	return errors.Join(errs...)
}

// reason is a regexp error without its "error parsing regexp: " prefix,
// which would repeat what the wrapping error already says.
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}
