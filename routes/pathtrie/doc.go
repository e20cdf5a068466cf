// Package pathtrie matches an HTTP request's method and path against route
// templates such as "GET /users/{id}" or "ANY /files/{proxy+}", with the
// rules of Amazon API Gateway HTTP APIs: when several routes match, the most
// specific one wins.
//
//	t, err := pathtrie.New([]pathtrie.Route{
//		{Method: "GET", Path: "/users/{id}"},      // 0
//		{Method: "GET", Path: "/users/me"},        // 1
//		{Method: "ANY", Path: "/files/{proxy+}"},  // 2
//	})
//	...
//	var p pathtrie.Params
//	switch i := t.Match(r.Method, r.URL.EscapedPath(), &p); {
//	case i >= 0:
//		id, _ := p.Get("id") // still percent-encoded
//		...
//	case t.MatchPath(r.URL.EscapedPath()):
//		// a route has this path but not this method
//	default:
//		// no route: $default, if the caller has one, or 404
//	}
//
// # Templates
//
// A template is "/" or a sequence of "/segment" parts. A segment is static
// text, a parameter "{name}" or, as the last segment only, a greedy
// parameter "{name+}". Names are ASCII letters, digits and '_', unique
// within a template. A template has no empty segments, no trailing slash,
// no "." or ".." segments and at most MaxParams parameters. Static text is
// compared byte for byte with the raw (still percent-encoded) request path,
// so write it as it appears on the wire. Parameter names do not make two
// templates different: "GET /a/{x}" and "GET /a/{y}" are the same route and
// New rejects the pair. A method is an upper-case HTTP token or ANY.
//
// # Matching
//
// A path is matched one segment at a time, from the left:
//
//   - "/" matches only the template "/". A path that does not start with '/'
//     matches nothing.
//   - A static segment matches the same bytes. A {param} matches exactly one
//     non-empty segment; its value is that segment. A {greedy+} matches the
//     rest of the path after the slash if that rest is non-empty; its value
//     may contain '/'. A trailing slash is significant: "/users/" ends in an
//     empty segment, so it matches neither "/users" nor "/users/{id}", only
//     a greedy parameter such as "/{proxy+}" (value "users/").
//   - At each segment a static segment beats a {param}, which beats a
//     {greedy+}. Matching backtracks when the more specific branch fails
//     further on: with "GET /a/b/c" and "GET /a/{x}/d", the path /a/b/d
//     matches the second.
//   - Where a template ends, a route with exactly the request's method beats
//     the route with ANY. Methods are case-sensitive and compared exactly;
//     HEAD does not fall back to GET. If neither exists there (the template
//     only has POST, say, and the request is a GET), matching backtracks to
//     less specific templates that allow the method.
//
// Put another way: of all routes whose template matches the path and whose
// method is the request's or ANY, Match returns the one whose sequence of
// segment kinds (static < param < greedy) is smallest when compared segment
// by segment, preferring the exact method over ANY on the same template.
// That choice is unique, because New rejects duplicate routes.
//
// $default is not a template here: when Match returns -1 the caller decides
// between its $default route, 405 (MatchPath is true) and 404.
//
// # Concurrency
//
// A Trie is immutable once New returns and safe for concurrent use by any
// number of goroutines, including event-loop goroutines: Match and MatchPath
// never block, never lock and never allocate. A Params is not safe for
// concurrent use; give each request its own, typically on the stack.
package pathtrie
