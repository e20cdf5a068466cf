package pathtrie_test

import (
	"strings"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

// The reference matcher states the matching rules as directly as it can,
// without a trie and without backtracking: it checks every route on its
// own, then picks the most specific of those that match.

type refSeg struct {
	kind int // 0 static, 1 param, 2 greedy: the order of precedence
	text string
}

// refTemplate splits a template New accepted into segments.
func refTemplate(path string) []refSeg {
	if path == "/" {
		return nil
	}
	var segs []refSeg
	for _, s := range strings.Split(path[1:], "/") {
		switch {
		case strings.HasSuffix(s, "+}"):
			segs = append(segs, refSeg{2, s[1 : len(s)-2]})
		case strings.HasPrefix(s, "{"):
			segs = append(segs, refSeg{1, s[1 : len(s)-1]})
		default:
			segs = append(segs, refSeg{0, s})
		}
	}
	return segs
}

// refMatchTemplate reports whether segs match path, and the parameters as
// "name=value name=value".
func refMatchTemplate(segs []refSeg, path string) (bool, string) {
	if !strings.HasPrefix(path, "/") {
		return false, ""
	}
	var parts []string // the path's segments; none for "/"
	if path != "/" {
		parts = strings.Split(path[1:], "/")
	}
	var params []string
	for i, s := range segs {
		if s.kind == 2 {
			if i >= len(parts) {
				return false, ""
			}
			rest := strings.Join(parts[i:], "/")
			if rest == "" {
				return false, ""
			}
			return true, strings.Join(append(params, s.text+"="+rest), " ")
		}
		if i >= len(parts) {
			return false, ""
		}
		if s.kind == 0 && parts[i] != s.text || s.kind == 1 && parts[i] == "" {
			return false, ""
		}
		if s.kind == 1 {
			params = append(params, s.text+"="+parts[i])
		}
	}
	if len(parts) != len(segs) {
		return false, ""
	}
	return true, strings.Join(params, " ")
}

// moreSpecific reports whether route a beats route b when both match the
// same path: the first segment whose kinds differ decides, and on the same
// template an exact method beats ANY.
func moreSpecific(a, b []refSeg, aMethod, bMethod string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].kind != b[i].kind {
			return a[i].kind < b[i].kind
		}
	}
	return aMethod != pathtrie.MethodAny && bMethod == pathtrie.MethodAny
}

// refMatch returns the route the rules choose for method and path, and its
// parameters; -1 if there is none. anyMethod ignores methods (MatchPath).
func refMatch(routes []pathtrie.Route, method, path string, anyMethod bool) (int, string) {
	best, bestParams := -1, ""
	var bestSegs []refSeg
	for i, r := range routes {
		if !anyMethod && r.Method != method && r.Method != pathtrie.MethodAny {
			continue
		}
		segs := refTemplate(r.Path)
		ok, params := refMatchTemplate(segs, path)
		if !ok {
			continue
		}
		if best < 0 || moreSpecific(segs, bestSegs, r.Method, routes[best].Method) {
			best, bestParams, bestSegs = i, params, segs
		}
	}
	return best, bestParams
}
