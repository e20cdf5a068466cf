package pathtrie

import (
	"fmt"
	"strings"
)

// MaxParams is the most parameters a template may have, greedy included.
const MaxParams = 16

// MethodAny is the method of a route that matches every method no other
// route on the same template names.
const MethodAny = "ANY"

// Route is one route: a method and a path template.
type Route struct {
	// Method is an upper-case HTTP method token ("GET", "POST", "PURGE")
	// or MethodAny.
	Method string
	// Path is a template such as "/", "/users", "/users/{id}" or
	// "/files/{proxy+}"; see the package documentation.
	Path string
}

// String returns the route as a route key, "GET /users/{id}".
func (r Route) String() string { return r.Method + " " + r.Path }

type segKind uint8

// The order of the kinds is their precedence: lower wins.
const (
	kindStatic segKind = iota
	kindParam
	kindGreedy
)

// segment is one parsed template segment.
type segment struct {
	kind segKind
	text string // the static text, or the parameter's name
}

// parseTemplate splits path into segments. Its error lacks the route and
// its index, which New fills in.
func parseTemplate(path string) ([]segment, *routeError) {
	if !strings.HasPrefix(path, "/") {
		return nil, &routeError{err: ErrPath, reason: `does not start with '/'; write the path as "/users", or "/" for the root`}
	}
	if path == "/" {
		return nil, nil
	}
	rest := path[1:]
	var segs []segment
	nparams := 0
	for {
		seg, tail, more := strings.Cut(rest, "/")
		switch {
		case seg == "" && !more:
			return nil, &routeError{err: ErrPath, reason: "ends with '/'; remove the trailing slash (a request path's trailing slash is kept, so /users/ never matches /users)"}
		case seg == "":
			return nil, &routeError{err: ErrPath, reason: `has an empty segment ("//"); remove the extra '/'`}
		case seg[0] == '{' && seg[len(seg)-1] == '}':
			name, greedy := strings.CutSuffix(seg[1:len(seg)-1], "+")
			if !validName(name) {
				return nil, &routeError{err: ErrParam, reason: fmt.Sprintf("has parameter %q whose name is not ASCII letters, digits and '_'; rename it, as in {id} or {proxy+}", seg)}
			}
			for _, s := range segs {
				if s.kind != kindStatic && s.text == name {
					return nil, &routeError{err: ErrParam, reason: fmt.Sprintf("uses the parameter name %q twice; give each parameter its own name", name)}
				}
			}
			if greedy && more {
				return nil, &routeError{err: ErrGreedy, reason: fmt.Sprintf("has greedy parameter %q before the last segment; it takes the rest of the path, so it must end the template", seg)}
			}
			if nparams++; nparams > MaxParams {
				return nil, &routeError{err: ErrTooManyParams, reason: fmt.Sprintf("has more than %d parameters; use a greedy {name+} parameter for the rest of the path", MaxParams)}
			}
			kind := kindParam
			if greedy {
				kind = kindGreedy
			}
			segs = append(segs, segment{kind, name})
		case strings.ContainsAny(seg, "{}"):
			return nil, &routeError{err: ErrParam, reason: fmt.Sprintf("has '{' or '}' inside segment %q; a parameter must be a whole segment, as in /a/{b}", seg)}
		case seg == "." || seg == "..":
			return nil, &routeError{err: ErrPath, reason: fmt.Sprintf("has a %q segment; write the path without dot segments", seg)}
		default:
			if reason := checkStatic(seg); reason != "" {
				return nil, &routeError{err: ErrPath, reason: reason}
			}
			segs = append(segs, segment{kindStatic, seg})
		}
		if !more {
			return segs, nil
		}
		rest = tail
	}
}

// checkStatic rejects static text that no raw request path contains.
func checkStatic(seg string) string {
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; {
		case c <= ' ' || c == 0x7f:
			return fmt.Sprintf("has a space or control character in segment %q; percent-encode it as it appears in request paths (a space is %%20)", seg)
		case c == '?' || c == '#':
			return fmt.Sprintf("has %q in segment %q; a template is a path only, without query or fragment", c, seg)
		case c == '%' && (i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2])):
			return fmt.Sprintf("has a '%%' that does not start a %%XX escape in segment %q; write a literal '%%' as %%25", seg)
		}
	}
	return ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkMethod returns why method is not an upper-case token, or "".
func checkMethod(method string) string {
	if method == "" {
		return "has no method; use an HTTP method such as GET, or ANY for every method"
	}
	for i := 0; i < len(method); i++ {
		c := method[i]
		if 'a' <= c && c <= 'z' {
			return fmt.Sprintf("has a lower-case method; methods are case-sensitive, so write %q", strings.ToUpper(method))
		}
		if !isTchar(c) {
			return "has a method that is not an HTTP token; use letters such as GET, or ANY for every method"
		}
	}
	return ""
}

// isTchar reports whether c may appear in an HTTP token (RFC 9110, 5.6.2).
func isTchar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
