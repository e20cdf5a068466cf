package pathtrie

import (
	"fmt"
	"slices"
	"strings"
)

// Trie matches requests against a fixed set of routes. Build one with New;
// the zero Trie matches nothing.
type Trie struct {
	root   node
	routes []Route
	names  [][]string // names[i]: route i's parameter names, in path order
}

// node is where a template prefix ends. Its children continue the prefix by
// one segment: a static segment, any one segment (param) or the rest of
// the path (greedy, which never has children of its own).
type node struct {
	statics statics
	param   *node
	greedy  *node

	// The routes whose template ends here. An exact method beats any.
	methods []methodRoute // in route order; a few entries at most
	any     int           // index+1 of the ANY route; 0 if none, so the zero node is empty
}

type methodRoute struct {
	method string
	index  int
}

// New builds a Trie from routes; Match reports routes[i] as i. It returns
// an error wrapping ErrMethod, ErrPath, ErrParam, ErrGreedy,
// ErrTooManyParams or ErrConflict for the first route that is invalid or
// the same as an earlier one.
func New(routes []Route) (*Trie, error) {
	t := &Trie{routes: slices.Clone(routes), names: make([][]string, len(routes))}
	b := builder{}
	for i, r := range routes {
		if reason := checkMethod(r.Method); reason != "" {
			return nil, &routeError{err: ErrMethod, index: i, route: r, reason: reason}
		}
		segs, err := parseTemplate(r.Path)
		if err != nil {
			err.index, err.route = i, r
			return nil, err
		}
		n := &t.root
		for _, s := range segs {
			switch s.kind {
			case kindStatic:
				n = b.static(n, s.text)
			case kindParam:
				if n.param == nil {
					n.param = &node{}
				}
				n = n.param
			case kindGreedy:
				if n.greedy == nil {
					n.greedy = &node{}
				}
				n = n.greedy
			}
			if s.kind != kindStatic {
				t.names[i] = append(t.names[i], s.text)
			}
		}
		if prev := n.route(r.Method); prev >= 0 && t.routes[prev].Method == r.Method {
			return nil, &routeError{err: ErrConflict, index: i, route: r,
				reason: fmt.Sprintf("is the same as route %d %q (parameter names do not make routes different); remove one, or change its method or path", prev, t.routes[prev].String())}
		}
		if r.Method == MethodAny {
			n.any = i + 1
		} else {
			n.methods = append(n.methods, methodRoute{r.Method, i})
		}
	}
	b.freeze(&t.root)
	return t, nil
}

// Routes returns a copy of the routes, in index order.
func (t *Trie) Routes() []Route { return slices.Clone(t.routes) }

// Match returns the index of the most specific route that matches method
// and path, or -1. Path is the raw, still percent-encoded path without the
// query. On a match Match fills p, unless p is nil; otherwise it leaves p
// empty. Match never allocates.
func (t *Trie) Match(method, path string, p *Params) int {
	m := matcher{method: method}
	if p != nil {
		m.values = &p.values
	}
	i := m.match(&t.root, path)
	if p != nil {
		p.n = 0
		if i >= 0 {
			p.n = copy(p.names[:], t.names[i])
		}
	}
	return i
}

// MatchPath reports whether a route with any method matches path: when
// Match fails, true means "405 Method Not Allowed" (or a CORS preflight to
// answer) and false "404 Not Found". MatchPath never allocates.
func (t *Trie) MatchPath(path string) bool {
	m := matcher{anyMethod: true}
	return m.match(&t.root, path) >= 0
}

// matcher is one walk of the trie.
type matcher struct {
	method    string
	anyMethod bool               // accept a route with any method (MatchPath)
	values    *[MaxParams]string // nil: the caller wants no values
}

func (m *matcher) match(root *node, path string) int {
	switch {
	case path == "/":
		return m.end(root)
	case strings.HasPrefix(path, "/"):
		return m.walk(root, path[1:], 0)
	}
	return -1
}

// walk matches rest, the path after a '/', against n's children, trying
// them in order of precedence and backtracking when a branch fails. k
// values are already set. Every trie node is visited at most once, so a
// walk takes at most as many steps as the trie has nodes, and recurses at
// most as deep as the longest template.
func (m *matcher) walk(n *node, rest string, k int) int {
	seg, tail, more := cutSegment(rest)
	if c := n.statics.get(seg); c != nil {
		if i := m.next(c, tail, more, k); i >= 0 {
			return i
		}
	}
	// A param node exists only on the way to a template with at most
	// MaxParams parameters, so k < MaxParams here.
	if n.param != nil && seg != "" {
		if m.values != nil {
			m.values[k] = seg
		}
		if i := m.next(n.param, tail, more, k+1); i >= 0 {
			return i
		}
	}
	if n.greedy != nil && rest != "" {
		if i := m.end(n.greedy); i >= 0 {
			if m.values != nil {
				m.values[k] = rest
			}
			return i
		}
	}
	return -1
}

// next continues the walk at c, which matched the segment before tail.
func (m *matcher) next(c *node, tail string, more bool, k int) int {
	if !more {
		return m.end(c)
	}
	if c.statics.empty() && c.param == nil && c.greedy == nil {
		return -1
	}
	return m.walk(c, tail, k)
}

// end picks the route ending at n for the request's method, or -1.
func (m *matcher) end(n *node) int {
	if m.anyMethod && len(n.methods) > 0 {
		return n.methods[0].index
	}
	return n.route(m.method)
}

// route returns the route ending at n with method, else the ANY route,
// else -1.
func (n *node) route(method string) int {
	for _, r := range n.methods {
		if r.method == method {
			return r.index
		}
	}
	return n.any - 1
}

// cutSegment is strings.Cut(rest, "/"). Segments are short, so a plain loop
// beats the call into the vectorized IndexByte.
func cutSegment(rest string) (seg, tail string, more bool) {
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i], rest[i+1:], true
		}
	}
	return rest, "", false
}
