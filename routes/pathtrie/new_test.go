package pathtrie_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		routes []pathtrie.Route
		want   error
		msg    string // the error names the route and says this
	}{
		{"no leading slash", parseRoutes("GET users"), pathtrie.ErrPath, `route 0 "GET users" does not start with '/'`},
		{"empty path", []pathtrie.Route{{Method: "GET"}}, pathtrie.ErrPath, `route 0 "GET " does not start with '/'`},
		{"empty segment", parseRoutes("GET /a//b"), pathtrie.ErrPath, `has an empty segment ("//"); remove the extra '/'`},
		{"empty first segment", parseRoutes("GET //a"), pathtrie.ErrPath, `has an empty segment`},
		{"trailing slash", parseRoutes("GET /users/"), pathtrie.ErrPath, "ends with '/'; remove the trailing slash"},
		{"only slashes", parseRoutes("GET //"), pathtrie.ErrPath, "has an empty segment"},
		{"dot segment", parseRoutes("GET /a/./b"), pathtrie.ErrPath, `has a "." segment`},
		{"dot-dot segment", parseRoutes("GET /a/.."), pathtrie.ErrPath, `has a ".." segment`},
		{"space", parseRoutes("GET /a b"), pathtrie.ErrPath, "percent-encode it"},
		{"control character", parseRoutes("GET /a\x00"), pathtrie.ErrPath, "control character"},
		{"query", parseRoutes("GET /a?b=1"), pathtrie.ErrPath, "without query or fragment"},
		{"fragment", parseRoutes("GET /a#b"), pathtrie.ErrPath, "without query or fragment"},
		{"bad percent escape", parseRoutes("GET /100%"), pathtrie.ErrPath, "write a literal '%' as %25"},
		{"bad percent hex", parseRoutes("GET /a%zz"), pathtrie.ErrPath, "%XX escape"},
		{"param inside segment", parseRoutes("GET /a{b}"), pathtrie.ErrParam, `a parameter must be a whole segment, as in /a/{b}`},
		{"param then text", parseRoutes("GET /{b}.json"), pathtrie.ErrParam, "must be a whole segment"},
		{"lone brace", parseRoutes("GET /a/{"), pathtrie.ErrParam, "must be a whole segment"},
		{"nested braces", parseRoutes("GET /{{a}}"), pathtrie.ErrParam, "is not ASCII letters, digits and '_'"},
		{"empty name", parseRoutes("GET /{}"), pathtrie.ErrParam, `parameter "{}" whose name is not`},
		{"empty greedy name", parseRoutes("GET /{+}"), pathtrie.ErrParam, `parameter "{+}" whose name is not`},
		{"dash in name", parseRoutes("GET /{user-id}"), pathtrie.ErrParam, "rename it"},
		{"plus inside name", parseRoutes("GET /{a+b}"), pathtrie.ErrParam, "rename it"},
		{"non-ASCII name", parseRoutes("GET /{café}"), pathtrie.ErrParam, "rename it"},
		{"duplicate name", parseRoutes("GET /{id}/x/{id}"), pathtrie.ErrParam, `uses the parameter name "id" twice`},
		{"duplicate greedy name", parseRoutes("GET /{p}/{p+}"), pathtrie.ErrParam, `"p" twice`},
		{"greedy not last", parseRoutes("GET /{proxy+}/x"), pathtrie.ErrGreedy, `greedy parameter "{proxy+}" before the last segment`},
		{"two greedy", parseRoutes("GET /{a+}/{b+}"), pathtrie.ErrGreedy, "must end the template"},
		{"too many params", parseRoutes("GET " + manyParams(pathtrie.MaxParams+1)), pathtrie.ErrTooManyParams, "more than 16 parameters"},
		{"too many with greedy", parseRoutes("GET " + manyParams(pathtrie.MaxParams) + "/{r+}"), pathtrie.ErrTooManyParams, "more than 16"},
		{"empty method", parseRoutes(" /a"), pathtrie.ErrMethod, "has no method"},
		{"lower-case method", parseRoutes("get /a"), pathtrie.ErrMethod, `methods are case-sensitive, so write "GET"`},
		{"lower-case any", parseRoutes("any /a"), pathtrie.ErrMethod, `write "ANY"`},
		{"method with space", []pathtrie.Route{{"GE T", "/a"}}, pathtrie.ErrMethod, "not an HTTP token"},
		{"method with slash", parseRoutes("GET/ /a"), pathtrie.ErrMethod, "not an HTTP token"},
		{"same route twice", parseRoutes("GET /a", "GET /a"), pathtrie.ErrConflict, `route 1 "GET /a" is the same as route 0 "GET /a"`},
		{"same shape, other names", parseRoutes("GET /a/{x}", "POST /a/{x}", "GET /a/{y}"), pathtrie.ErrConflict,
			`route 2 "GET /a/{y}" is the same as route 0 "GET /a/{x}" (parameter names do not make routes different)`},
		{"ANY twice", parseRoutes("ANY /f/{a+}", "ANY /f/{b+}"), pathtrie.ErrConflict, `is the same as route 0 "ANY /f/{a+}"`},
		{"root twice", parseRoutes("GET /", "GET /"), pathtrie.ErrConflict, "remove one"},
		{"first error wins", parseRoutes("GET /ok", "GET bad", "get /worse"), pathtrie.ErrPath, `route 1 "GET bad"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := pathtrie.New(tt.routes)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New = %v; want %v", err, tt.want)
			}
			if tr != nil {
				t.Fatal("New returned a Trie with its error")
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), tt.want.Error()+": route ") {
				t.Fatalf("error %q does not start with %q and say %q", err, tt.want.Error()+": route ", tt.msg)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name   string
		routes []string
	}{
		{"root", []string{"GET /"}},
		{"same template, different methods", []string{"GET /a/{x}", "POST /a/{y}", "ANY /a/{z}"}},
		{"prefix templates", []string{"GET /a", "GET /a/{x}", "GET /a/{x}/b", "GET /a/{p+}", "GET /{p+}"}},
		{"param and greedy with one name in different routes", []string{"GET /a/{x}", "GET /b/{x+}"}},
		{"sub-delims and colon in static text", []string{"GET /v1/users:batch", "GET /a;b=c/@x/~u/!$&'()*+,="}},
		{"percent escapes", []string{"GET /a%20b/%7B"}},
		{"non-ASCII static text", []string{"GET /café"}},
		{"dots inside a segment", []string{"GET /a.json", "GET /.well-known/x", "GET /..."}},
		{"custom methods", []string{"PURGE /a", "M-SEARCH /a", "X_Y.Z /a"}},
		{"name starting with a digit", []string{"GET /{1}/{_}"}},
		{"MaxParams params", []string{"GET " + manyParams(pathtrie.MaxParams)}},
		{"no routes", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := mustNew(t, tt.routes...)
			if len(tr.Routes()) != len(tt.routes) {
				t.Fatalf("Routes() has %d routes; want %d", len(tr.Routes()), len(tt.routes))
			}
		})
	}
}
