package mapping

import (
	"cmp"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// action is what a parameter mapping does to its target, in the order
// ApplyRequest and ApplyResponse carry them out.
type action uint8

const (
	actRemove action = iota
	actOverwrite
	actAppend
)

var actionNames = [...]string{actRemove: "remove", actOverwrite: "overwrite", actAppend: "append"}

// target is what a parameter mapping changes.
type target uint8

const (
	tgtHeader target = iota
	tgtQuery
	tgtPath
	tgtStatus
)

// op is one compiled parameter mapping.
type op struct {
	key    string // as configured, for errors
	action action
	target target
	name   string // canonical header name or query name
	value  *expr  // nil for remove
}

// reservedHeaders may not be mapped: they describe one connection or the
// message framing (which the gateway sets), carry the client's identity as
// the gateway saw it, or belong to CORS and to the gateway's and NATS'
// metadata. Amazon's list, without Authorization (a backend credential is
// what mappings often set) and its own apigw-/x-amz- names, plus the
// gateway's and NATS' headers.
var reservedHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Trailers": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true, "Content-Encoding": true,
	"Host": true, "Forwarded": true, "Via": true, "X-Forwarded-For": true, "X-Forwarded-Host": true,
	"X-Forwarded-Proto": true, "Origin": true, "Status": true, "Description": true,
}

var reservedPrefixes = []string{"Access-Control-", "Gatecast-", "Nats-"}

// reserved reports whether a header (canonical name) may not be mapped.
func reserved(name string) bool {
	if reservedHeaders[name] {
		return true
	}
	for _, p := range reservedPrefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// compileParams compiles one parameter map; response selects
// response_parameters. Ops come out in the order they are applied.
func compileParams(section string, params map[string]string, response bool) ([]op, []error) {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ops []op
	var errs []error
	seen := make(map[string]string, len(keys)) // action + target -> key
	for _, k := range keys {
		fail := func(format string, args ...any) {
			errs = append(errs, &configError{section: section, key: k, reason: fmt.Sprintf(format, args...)})
		}
		o, reason := parseKey(k, response)
		if reason != "" {
			fail("%s", reason)
			continue
		}
		id := actionNames[o.action] + ":" + strconv.Itoa(int(o.target)) + ":" + o.name
		if prev, dup := seen[id]; dup {
			fail("maps the same %s as %q; keep one of them", targetNoun(o.target), prev)
			continue
		}
		seen[id] = k
		if o.action == actRemove {
			ops = append(ops, o)
			continue
		}
		e, err := parseExpr(params[k], response)
		if err != nil {
			fail("%v", err)
			continue
		}
		if reason := checkStatic(o.target, e); reason != "" {
			fail("%s", reason)
			continue
		}
		o.value = e
		ops = append(ops, o)
	}
	slices.SortStableFunc(ops, func(a, b op) int {
		return cmp.Or(cmp.Compare(a.action, b.action), cmp.Compare(a.target, b.target), strings.Compare(a.name, b.name))
	})
	return ops, errs
}

func targetNoun(t target) string {
	switch t {
	case tgtHeader:
		return "header"
	case tgtQuery:
		return "query string parameter"
	case tgtPath:
		return "path"
	}
	return "status code"
}

// parseKey reads "action:target"; reason is what is wrong, or "".
func parseKey(k string, response bool) (op, string) {
	o := op{key: k}
	act, tgt, ok := strings.Cut(k, ":")
	if !ok {
		if response {
			return o, `a key is "action:target", such as "overwrite:header.Cache-Control" or "overwrite:statuscode"`
		}
		return o, `a key is "action:target", such as "overwrite:header.X-Api-Key", "append:querystring.tag" or "overwrite:path"`
	}
	switch act {
	case "remove":
		o.action = actRemove
	case "overwrite":
		o.action = actOverwrite
	case "append":
		o.action = actAppend
	default:
		return o, fmt.Sprintf("unknown action %q: want append, overwrite or remove", act)
	}
	kind, name, hasName := strings.Cut(tgt, ".")
	switch {
	case kind == "header" && hasName:
		o.target = tgtHeader
		if !validToken(name) {
			return o, fmt.Sprintf("%q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~)", name)
		}
		o.name = textproto.CanonicalMIMEHeaderKey(name)
		if reserved(o.name) {
			return o, fmt.Sprintf("header %s is reserved: the gateway or the connection sets it (see the reserved headers in the mapping package documentation)", o.name)
		}
	case kind == "querystring" && hasName && !response:
		o.target = tgtQuery
		if err := checkName(name); err != nil {
			return o, "query string parameter: " + err.Error()
		}
		o.name = name
	case tgt == "path" && !response:
		o.target = tgtPath
		if o.action != actOverwrite {
			return o, "the path can only be overwritten: use overwrite:path"
		}
	case tgt == "statuscode" && response:
		o.target = tgtStatus
		if o.action != actOverwrite {
			return o, "the status code can only be overwritten: use overwrite:statuscode"
		}
	case response:
		return o, fmt.Sprintf("unknown target %q: response_parameters map header.<name> or statuscode", tgt)
	default:
		return o, fmt.Sprintf("unknown target %q: request_parameters map header.<name>, querystring.<name> or path", tgt)
	}
	return o, ""
}

// checkStatic finds at load time what a value will be refused for at
// request time.
func checkStatic(t target, e *expr) string {
	v, static := e.static()
	switch {
	case static && v == "":
		return "the value is empty; to delete the parameter use remove:"
	case static && len(v) > MaxValueBytes:
		return fmt.Sprintf("the value is over %d bytes", MaxValueBytes)
	}
	switch t {
	case tgtHeader:
		for _, p := range e.parts {
			if p.kind == kLiteral && !validHeaderValue(p.text) {
				return "the value contains a control character"
			}
		}
	case tgtQuery:
		for _, p := range e.parts {
			if p.kind == kLiteral && !validQueryValue(p.text) {
				return "the value contains CR, LF or NUL"
			}
		}
	case tgtPath:
		if p := e.parts[0]; p.kind == kLiteral && !strings.HasPrefix(p.text, "/") {
			return `the path must start with "/"`
		}
		for _, p := range e.parts {
			if p.kind == kLiteral && !validPathText(p.text) {
				return "the path has a character that must be percent-encoded, or a bad % escape"
			}
		}
		if static {
			if reason := pathProblem(v); reason != "" {
				return reason
			}
		}
	case tgtStatus:
		if static {
			if _, ok := parseStatus(v); !ok {
				return fmt.Sprintf("status %q: want a number from 100 to 599", v)
			}
		}
	}
	return ""
}

// validHeaderValue accepts field content: no control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validQueryValue refuses CR, LF and NUL, which have no business in a
// query string even though encoding would make them harmless.
func validQueryValue(v string) bool { return !strings.ContainsAny(v, "\r\n\x00") }

// pathChar reports whether c may appear unescaped in a raw path: an RFC
// 3986 pchar or '/'.
func pathChar(c byte) bool {
	if isLetter(c) || isDigit(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// validPathText accepts raw path characters and well-formed % escapes.
func validPathText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		case !pathChar(c):
			return false
		}
	}
	return true
}

// appendPathEscaped appends v as one path segment: every byte that is not
// a pchar ('/' and '%' included) percent-encoded.
func appendPathEscaped(dst []byte, v string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if pathChar(c) && c != '/' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// pathProblem says why p may not be a backend path, or "". A path is
// absolute, raw (percent-encoded), without "." or ".." segments (even
// encoded as %2e, or between encoded slashes), and does not start with
// "//", which a URL resolver would read as a host.
func pathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return `the path does not start with "/"`
	case strings.HasPrefix(p, "//"):
		return `the path starts with "//"`
	case len(p) > MaxValueBytes:
		return fmt.Sprintf("the path is over %d bytes", MaxValueBytes)
	case !validPathText(p):
		return "the path has a character that must be percent-encoded, or a bad % escape"
	}
	// Segments end at '/' and also at %2F and %5C, which a backend that
	// decodes before it resolves dot segments would read as separators.
	start := 1
	for i := 1; i <= len(p); i++ {
		sep := 0
		switch {
		case i == len(p) || p[i] == '/':
			sep = 1
		case p[i] == '%' && (strings.EqualFold(p[i:i+3], "%2F") || strings.EqualFold(p[i:i+3], "%5C")):
			sep = 3
		default:
			continue
		}
		if dotSegment(p[start:i]) {
			return `the path has a "." or ".." segment`
		}
		i += sep - 1
		start = i + 1
	}
	return ""
}

// dotSegment reports whether seg is "." or "..", dots maybe written %2e.
func dotSegment(seg string) bool {
	n := 0
	for i := 0; i < len(seg); {
		switch {
		case seg[i] == '.':
			i++
		case strings.HasPrefix(seg[i:], "%2e") || strings.HasPrefix(seg[i:], "%2E"):
			i += 3
		default:
			return false
		}
		n++
	}
	return n == 1 || n == 2
}

// parseStatus reads an HTTP status of three digits, 100 to 599.
func parseStatus(s string) (int, bool) {
	if len(s) != 3 || !allDigits(s) {
		return 0, false
	}
	n := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	return n, n >= 100 && n <= 599
}

// evalOps computes every op's value before anything changes, so that all
// values see the request as it came and a refusal leaves it untouched.
// vals[i] is op i's value; status is the Error status of a bad value.
func evalOps(ops []op, st *state, vals []string, status int) ([]string, error) {
	vals = vals[:0]
	for _, o := range ops {
		if o.value == nil {
			vals = append(vals, "")
			continue
		}
		v := o.value.value(st, o.target == tgtPath)
		if len(v) > MaxValueBytes {
			return vals, badValue(status, o.key, fmt.Sprintf("the value is over %d bytes", MaxValueBytes))
		}
		switch o.target {
		case tgtHeader:
			if !validHeaderValue(v) {
				return vals, badValue(status, o.key, "the value contains a control character (CR, LF, NUL or another but tab)")
			}
		case tgtQuery:
			if !validQueryValue(v) {
				return vals, badValue(status, o.key, "the value contains CR, LF or NUL")
			}
		case tgtPath:
			if reason := pathProblem(v); reason != "" {
				return vals, badValue(status, o.key, reason)
			}
		case tgtStatus:
			if _, ok := parseStatus(v); !ok && v != "" {
				return vals, badValue(status, o.key, "the value is not a status from 100 to 599")
			}
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// applyHeader carries out a header op with its value. An empty value
// removes the header (overwrite) or adds nothing (append).
func applyHeader(h http.Header, o *op, v string) {
	switch {
	case o.action == actRemove || o.action == actOverwrite && v == "":
		delete(h, o.name)
	case o.action == actOverwrite:
		h[o.name] = []string{v}
	case v != "":
		h[o.name] = append(slices.Clip(h[o.name]), v) // never into an array the caller shares
	}
}

// applyQuery is applyHeader for a query string parameter.
func applyQuery(q map[string][]string, o *op, v string) {
	switch {
	case o.action == actRemove || o.action == actOverwrite && v == "":
		delete(q, o.name)
	case o.action == actOverwrite:
		q[o.name] = []string{v}
	case v != "":
		q[o.name] = append(slices.Clip(q[o.name]), v)
	}
}
