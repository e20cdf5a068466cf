package pathtrie_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

type matchCase struct {
	method, path string
	want         int    // route index, or -1
	params       string // "name=value name=value"
}

// TestMatch checks each matching rule of the package documentation on its
// own route set, and every answer against the reference matcher too.
func TestMatch(t *testing.T) {
	tests := []struct {
		rule   string
		routes []string
		cases  []matchCase
	}{
		{
			rule:   "static beats param beats greedy",
			routes: []string{"GET /users/{id}", "GET /users/{proxy+}", "GET /users/me"},
			cases: []matchCase{
				{"GET", "/users/me", 2, ""},
				{"GET", "/users/42", 0, "id=42"},
				{"GET", "/users/42/posts", 1, "proxy=42/posts"},
				{"GET", "/users/me/posts", 1, "proxy=me/posts"},
			},
		},
		{
			rule:   "the leftmost differing segment decides",
			routes: []string{"GET /{a}/b/c", "GET /x/{b}/{c}"},
			cases: []matchCase{
				{"GET", "/x/b/c", 1, "b=b c=c"},
				{"GET", "/y/b/c", 0, "a=y"},
			},
		},
		{
			rule:   "backtrack when a static branch fails deeper down",
			routes: []string{"GET /a/b/c", "GET /a/{x}/d"},
			cases: []matchCase{
				{"GET", "/a/b/d", 1, "x=b"},
				{"GET", "/a/b/c", 0, ""},
				{"GET", "/a/z/d", 1, "x=z"},
				{"GET", "/a/b/e", -1, ""},
				{"GET", "/a/b", -1, ""},
			},
		},
		{
			rule:   "backtrack from params to greedy",
			routes: []string{"GET /a/{x}/c", "GET /a/b/c/d", "GET /a/{rest+}"},
			cases: []matchCase{
				{"GET", "/a/b/c", 0, "x=b"},
				{"GET", "/a/b/c/d", 1, ""},
				{"GET", "/a/b/c/e", 2, "rest=b/c/e"},
				{"GET", "/a/b", 2, "rest=b"},
			},
		},
		{
			rule:   "parameter values of a failed branch do not leak",
			routes: []string{"GET /{a}/{b}/x", "GET /{c}/{d+}"},
			cases: []matchCase{
				{"GET", "/1/2/y", 1, "c=1 d=2/y"},
				{"GET", "/1/2/x", 0, "a=1 b=2"},
			},
		},
		{
			rule:   "exact method beats ANY on the same template",
			routes: []string{"ANY /a", "GET /a", "POST /a"},
			cases: []matchCase{
				{"GET", "/a", 1, ""},
				{"POST", "/a", 2, ""},
				{"DELETE", "/a", 0, ""},
				{"PURGE", "/a", 0, ""},
			},
		},
		{
			rule:   "a template without the method backtracks to one that allows it",
			routes: []string{"POST /a/b", "ANY /a/{x}", "GET /{p+}"},
			cases: []matchCase{
				{"POST", "/a/b", 0, ""},
				{"GET", "/a/b", 1, "x=b"},
				{"DELETE", "/a/c", 1, "x=c"},
				{"GET", "/z", 2, "p=z"},
				{"PUT", "/z", -1, ""},
			},
		},
		{
			rule:   "a template without the method and nothing less specific",
			routes: []string{"POST /a"},
			cases:  []matchCase{{"GET", "/a", -1, ""}},
		},
		{
			rule:   "an exact method deeper does not beat a more specific ANY",
			routes: []string{"ANY /a/b", "GET /a/{x}"},
			cases: []matchCase{
				{"GET", "/a/b", 0, ""},
				{"GET", "/a/c", 1, "x=c"},
			},
		},
		{
			rule:   "methods are case-sensitive",
			routes: []string{"GET /a"},
			cases: []matchCase{
				{"GET", "/a", 0, ""},
				{"get", "/a", -1, ""},
				{"Get", "/a", -1, ""},
			},
		},
		{
			rule:   "HEAD does not fall back to GET",
			routes: []string{"GET /a", "ANY /b"},
			cases: []matchCase{
				{"HEAD", "/a", -1, ""},
				{"HEAD", "/b", 1, ""},
			},
		},
		{
			rule:   "any valid token is a method",
			routes: []string{"PURGE /cache/{key}", "M-SEARCH /"},
			cases: []matchCase{
				{"PURGE", "/cache/k", 0, "key=k"},
				{"M-SEARCH", "/", 1, ""},
				{"GET", "/cache/k", -1, ""},
			},
		},
		{
			rule:   "a param matches exactly one non-empty segment",
			routes: []string{"GET /u/{id}"},
			cases: []matchCase{
				{"GET", "/u/x", 0, "id=x"},
				{"GET", "/u/", -1, ""},
				{"GET", "/u", -1, ""},
				{"GET", "/u/x/", -1, ""},
				{"GET", "/u/x/y", -1, ""},
				{"GET", "/u//", -1, ""},
			},
		},
		{
			rule:   "a greedy param matches a non-empty rest",
			routes: []string{"ANY /f/{p+}"},
			cases: []matchCase{
				{"GET", "/f/a", 0, "p=a"},
				{"GET", "/f/a/b/c", 0, "p=a/b/c"},
				{"GET", "/f/a/", 0, "p=a/"},
				{"GET", "/f//a", 0, "p=/a"},
				{"GET", "/f/", -1, ""},
				{"GET", "/f", -1, ""},
				{"GET", "/fa", -1, ""},
			},
		},
		{
			rule:   "/ matches only the root",
			routes: []string{"GET /"},
			cases: []matchCase{
				{"GET", "/", 0, ""},
				{"GET", "/a", -1, ""},
				{"GET", "//", -1, ""},
				{"GET", "", -1, ""},
			},
		},
		{
			rule:   "a greedy param at the root matches everything but the root",
			routes: []string{"ANY /{proxy+}"},
			cases: []matchCase{
				{"GET", "/", -1, ""},
				{"GET", "/a", 0, "proxy=a"},
				{"GET", "/a/b/", 0, "proxy=a/b/"},
				{"GET", "//", 0, "proxy=/"},
			},
		},
		{
			rule:   "a trailing slash is significant",
			routes: []string{"GET /users", "GET /users/{id}"},
			cases: []matchCase{
				{"GET", "/users", 0, ""},
				{"GET", "/users/", -1, ""},
				{"GET", "/users/7", 1, "id=7"},
				{"GET", "/users/7/", -1, ""},
			},
		},
		{
			rule:   "a path that does not start with a slash matches nothing",
			routes: []string{"ANY /{proxy+}", "OPTIONS /"},
			cases: []matchCase{
				{"OPTIONS", "*", -1, ""},
				{"GET", "a/b", -1, ""},
				{"GET", "", -1, ""},
			},
		},
		{
			rule:   "the raw path is compared byte for byte",
			routes: []string{"GET /a%20b", "GET /caf%C3%A9", "GET /f/{name}", "GET /v1/users:batch"},
			cases: []matchCase{
				{"GET", "/a%20b", 0, ""},
				{"GET", "/a b", -1, ""},
				{"GET", "/caf%C3%A9", 1, ""},
				{"GET", "/caf%c3%a9", -1, ""},
				{"GET", "/f/a%2Fb", 2, "name=a%2Fb"},
				{"GET", "/f/%7Bx%7D", 2, "name=%7Bx%7D"},
				{"GET", "/v1/users:batch", 3, ""},
				{"GET", "/a?x=1", -1, ""},
			},
		},
		{
			rule:   "parameter names belong to each route",
			routes: []string{"GET /a/{x}/b", "GET /a/{y}/c", "POST /a/{z}/b"},
			cases: []matchCase{
				{"GET", "/a/1/b", 0, "x=1"},
				{"GET", "/a/1/c", 1, "y=1"},
				{"POST", "/a/1/b", 2, "z=1"},
			},
		},
		{
			rule:   "params after statics and before greedy",
			routes: []string{"GET /r/{a}/s/{b}/{rest+}"},
			cases: []matchCase{
				{"GET", "/r/1/s/2/3/4", 0, "a=1 b=2 rest=3/4"},
				{"GET", "/r/1/s/2", -1, ""},
			},
		},
		{
			rule:   "MaxParams parameters",
			routes: []string{"GET " + manyParams(pathtrie.MaxParams-1) + "/{z+}"},
			cases: []matchCase{
				{"GET", "/0/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", 0,
					"p0=0 p1=1 p2=2 p3=3 p4=4 p5=5 p6=6 p7=7 p8=8 p9=9 p10=10 p11=11 p12=12 p13=13 p14=14 z=15/16"},
			},
		},
		{
			rule:   "no routes",
			routes: nil,
			cases:  []matchCase{{"GET", "/", -1, ""}, {"GET", "/a", -1, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			routes := parseRoutes(tt.routes...)
			tr := mustNew(t, tt.routes...)
			for _, c := range tt.cases {
				var p pathtrie.Params
				got := tr.Match(c.method, c.path, &p)
				if got != c.want || formatParams(&p) != c.params {
					t.Errorf("Match(%q, %q) = %d [%s]; want %d [%s]", c.method, c.path, got, formatParams(&p), c.want, c.params)
				}
				if ref, refParams := refMatch(routes, c.method, c.path, false); ref != c.want || refParams != c.params {
					t.Errorf("reference matcher for (%q, %q) = %d [%s]; the test is wrong", c.method, c.path, ref, refParams)
				}
				if got := tr.Match(c.method, c.path, nil); got != c.want {
					t.Errorf("Match(%q, %q, nil) = %d; want %d", c.method, c.path, got, c.want)
				}
			}
		})
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "/{p%d}", i)
	}
	return b.String()
}

func TestMatchPath(t *testing.T) {
	tr := mustNew(t, "POST /a", "ANY /b/{x}", "GET /c/{p+}", "DELETE /")
	tests := []struct {
		path string
		want bool
	}{
		{"/a", true},
		{"/b/1", true},
		{"/c/1/2", true},
		{"/", true},
		{"/a/", false},
		{"/b", false},
		{"/c/", false},
		{"/d", false},
		{"", false},
		{"*", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("path=%q", tt.path), func(t *testing.T) {
			if got := tr.MatchPath(tt.path); got != tt.want {
				t.Fatalf("MatchPath(%q) = %v; want %v", tt.path, got, tt.want)
			}
		})
	}
	var zero pathtrie.Trie
	if zero.MatchPath("/") || zero.Match("GET", "/", nil) != -1 {
		t.Fatal("the zero Trie matched")
	}
}

func TestParams(t *testing.T) {
	tr := mustNew(t, "GET /u/{user}/p/{post}", "GET /x")
	var p pathtrie.Params
	if tr.Match("GET", "/u/ann/p/7", &p) != 0 {
		t.Fatal("no match")
	}
	t.Run("Get", func(t *testing.T) {
		for _, c := range []struct {
			name, want string
			ok         bool
		}{{"user", "ann", true}, {"post", "7", true}, {"id", "", false}, {"", "", false}, {"User", "", false}} {
			if v, ok := p.Get(c.name); v != c.want || ok != c.ok {
				t.Errorf("Get(%q) = %q, %v; want %q, %v", c.name, v, ok, c.want, c.ok)
			}
		}
	})
	t.Run("Name and Value", func(t *testing.T) {
		if p.Len() != 2 || p.Name(1) != "post" || p.Value(1) != "7" {
			t.Fatalf("params = %d [%s]", p.Len(), formatParams(&p))
		}
		defer func() {
			if recover() == nil {
				t.Fatal("Value(Len()) did not panic")
			}
		}()
		p.Value(p.Len())
	})
	t.Run("match without params empties p", func(t *testing.T) {
		q := p
		if tr.Match("GET", "/x", &q) != 1 || q.Len() != 0 {
			t.Fatalf("Len() = %d after matching a static route", q.Len())
		}
	})
	t.Run("no match empties p", func(t *testing.T) {
		q := p
		if tr.Match("GET", "/nope", &q) != -1 || q.Len() != 0 {
			t.Fatalf("Len() = %d after a miss", q.Len())
		}
	})
	t.Run("Reset", func(t *testing.T) {
		q := p
		q.Reset()
		if q != (pathtrie.Params{}) {
			t.Fatal("Reset left data behind")
		}
	})
}

func TestRoutes(t *testing.T) {
	keys := []string{"GET /a", "ANY /b/{x}"}
	tr := mustNew(t, keys...)
	got := tr.Routes()
	if fmt.Sprint(got) != fmt.Sprint(parseRoutes(keys...)) {
		t.Fatalf("Routes() = %v", got)
	}
	got[0].Path = "/changed"
	if tr.Routes()[0].Path != "/a" {
		t.Fatal("Routes() returned the trie's own slice")
	}
	if tr.Routes()[1].String() != "ANY /b/{x}" {
		t.Fatalf("String() = %q", tr.Routes()[1].String())
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	tr := mustNew(t, "GET /users/me", "GET /users/{id}", "GET /users/{id}/posts/{post}", "ANY /files/{proxy+}", "POST /users")
	tests := []struct {
		kind, method, path string
		want               int
	}{
		{"static", "GET", "/users/me", 0},
		{"param", "GET", "/users/7/posts/9", 2},
		{"greedy", "PUT", "/files/a/b/c", 3},
		{"miss", "GET", "/users/7/posts", -1},
		{"wrong method", "GET", "/users", -1},
	}
	for _, tt := range tests {
		t.Run("kind="+tt.kind, func(t *testing.T) {
			var p pathtrie.Params
			if got := tr.Match(tt.method, tt.path, &p); got != tt.want {
				t.Fatalf("Match = %d; want %d", got, tt.want)
			}
			if n := testing.AllocsPerRun(100, func() { tr.Match(tt.method, tt.path, &p) }); n != 0 {
				t.Errorf("Match allocated %v times", n)
			}
			if n := testing.AllocsPerRun(100, func() { tr.Match(tt.method, tt.path, nil) }); n != 0 {
				t.Errorf("Match with nil Params allocated %v times", n)
			}
			if n := testing.AllocsPerRun(100, func() { tr.MatchPath(tt.path) }); n != 0 {
				t.Errorf("MatchPath allocated %v times", n)
			}
		})
	}
}
