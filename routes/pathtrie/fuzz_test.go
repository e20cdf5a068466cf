package pathtrie_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

// FuzzMatch checks New and Match against the reference matcher.
//
// The input is a route set, one "METHOD /template" per line, a method and a
// path.
//
//   - New never panics, and fails exactly when a route is invalid on its own
//     or has the same method and shape as an earlier one.
//   - For the fuzzed request, and for one request built from each valid
//     route's template, Match returns the route the reference matcher
//     chooses (so the route's template really matches the path and no
//     matching route is more specific), with the same parameters, and
//     MatchPath agrees with the reference ignoring methods.
func FuzzMatch(f *testing.F) {
	for _, s := range []struct{ routes, method, path string }{
		{"GET /a/b/c\nGET /a/{x}/d", "GET", "/a/b/d"},
		{"GET /users/me\nGET /users/{id}\nGET /users/{proxy+}", "GET", "/users/me/x"},
		{"POST /a/b\nANY /a/{x}\nGET /{p+}", "GET", "/a/b"},
		{"ANY /a\nGET /a\nHEAD /b", "HEAD", "/a"},
		{"GET /\nANY /{proxy+}", "GET", "//"},
		{"GET /a/{x}\nGET /a/{y}\nget /a\nGET /a/", "GET", "/a/"},
		{"GET /{a}/{b}/x\nGET /{c}/{d+}\nGET /{a}/b/{c}", "GET", "/1/b/x"},
		{"GET /f/{p+}\nGET /f/{a}/{b}\nANY /f/a/{c+}", "PUT", "/f/a/b/"},
		{"GET /a%20b/{x}\nGET /a{b}\nGET /{p+}/x", "GET", "/a%20b/%2F"},
	} {
		f.Add(s.routes, s.method, s.path)
	}
	f.Fuzz(func(t *testing.T, spec, method, path string) {
		lines := strings.Split(spec, "\n")
		if len(lines) > 32 {
			lines = lines[:32]
		}
		routes := parseRoutes(lines...)

		// Which routes should New keep? Each valid on its own, and no two
		// with the same method and shape.
		var kept []pathtrie.Route
		shapes := map[string]bool{}
		for _, r := range routes {
			if _, err := pathtrie.New([]pathtrie.Route{r}); err != nil {
				if errors.Is(err, pathtrie.ErrConflict) {
					t.Fatalf("New(%q) alone = %v", r, err)
				}
				continue
			}
			if key := r.Method + " " + shape(r.Path); !shapes[key] {
				shapes[key] = true
				kept = append(kept, r)
			}
		}
		if _, err := pathtrie.New(routes); (err == nil) != (len(kept) == len(routes)) {
			t.Fatalf("New(%q) = %v, but %d of %d routes are valid and distinct", routes, err, len(kept), len(routes))
		}
		tr, err := pathtrie.New(kept)
		if err != nil {
			t.Fatalf("New(%q) = %v", kept, err)
		}

		check := func(method, path string) {
			var p pathtrie.Params
			got := tr.Match(method, path, &p)
			want, wantParams := refMatch(kept, method, path, false)
			if got != want || formatParams(&p) != wantParams {
				t.Fatalf("routes %q: Match(%q, %q) = %d [%s]; reference %d [%s]",
					kept, method, path, got, formatParams(&p), want, wantParams)
			}
			if !valuesInOrder(&p, path) {
				t.Fatalf("parameter values [%s] are not in path %q in order", formatParams(&p), path)
			}
			anyRoute, _ := refMatch(kept, "", path, true)
			if tr.MatchPath(path) != (anyRoute >= 0) {
				t.Fatalf("routes %q: MatchPath(%q) = %v; reference %d", kept, path, !(anyRoute >= 0), anyRoute)
			}
		}
		check(method, path)
		for i, r := range kept {
			m := r.Method
			if m == pathtrie.MethodAny {
				m = method
			}
			check(m, instantiate(r.Path, i))
		}
	})
}

// shape is a template with its parameter names removed: templates with the
// same shape are the same route.
func shape(path string) string {
	var b strings.Builder
	for _, s := range refTemplate(path) {
		b.WriteString("/" + [...]string{"=" + s.text, "{}", "{+}"}[s.kind])
	}
	return b.String()
}

// instantiate fills a template's parameters with short values that are
// often also static segments of other routes.
func instantiate(path string, i int) string {
	values := []string{"a", "b", "x", "1", "a/b", "b/"}
	segs := strings.Split(path, "/")
	for j, s := range segs {
		if strings.HasPrefix(s, "{") {
			v := values[(i+j)%len(values)]
			if !strings.HasSuffix(s, "+}") {
				v, _, _ = strings.Cut(v, "/")
				if v == "" {
					v = "b"
				}
			}
			segs[j] = v
		}
	}
	return strings.Join(segs, "/")
}

// valuesInOrder reports whether p's values occur in path one after the
// other, each after a '/'.
func valuesInOrder(p *pathtrie.Params, path string) bool {
	for i := range p.Len() {
		j := strings.Index(path, "/"+p.Value(i))
		if j < 0 {
			return false
		}
		path = path[j+1+len(p.Value(i)):]
	}
	return true
}
