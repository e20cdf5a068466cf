package mapping_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatecast/gatecast/mapping"
)

// TestExpressions maps each expression into a query string parameter
// (which takes any value without CR, LF or NUL) of the sample request.
func TestExpressions(t *testing.T) {
	for _, tc := range []struct {
		name, expr, want string
	}{
		{"static", "hello world", "hello world"},
		{"header", "$request.header.x-token", "tok-123"},
		{"header any case", "$request.header.X-TOKEN", "tok-123"},
		{"header values joined", "$request.header.accept", "text/html,application/json"},
		{"missing header", "[$request.header.x-missing]", "[]"},
		{"header in text", "Bearer $request.header.x-token!", "Bearer tok-123!"},
		{"trailing dot is text", "id=$request.header.x-token.", "id=tok-123."},
		{"braces delimit", "${request.header.x-token}abc", "tok-123abc"},
		{"braces side by side", "${request.querystring.page}${request.path.id}", "242"},
		{"query", "$request.querystring.page", "2"},
		{"query values joined", "$request.querystring.tag", "a,b"},
		{"query decoded", "$request.querystring.q", "x y"},
		{"whole path", "$request.path", "/users/42/files/a%20b/c.txt"},
		{"path then slash", "$request.path/x", "/users/42/files/a%20b/c.txt/x"},
		{"path param", "user $request.path.id", "user 42"},
		{"greedy path param", "$request.path.proxy", "a%20b/c.txt"},
		{"missing path param", "[$request.path.nope]", "[]"},
		{"body string", "$request.body.name", `Bob "the" builder`},
		{"body number as written", "$request.body.price", "1.50"},
		{"body integer", "$request.body.age", "42"},
		{"body bool", "$request.body.ok", "true"},
		{"body null", "[$request.body.nil]", "[]"},
		{"body object", "$request.body.user", `{"name":"bob","tags":["x"]}`},
		{"body nested", "$request.body.user.name", "bob"},
		{"body array dotted index", "$request.body.items.1.id", "i2"},
		{"body array bracket index", "$request.body.items[0].id", "i1"},
		{"body index out of range", "[$request.body.items[9].id]", "[]"},
		{"body unicode", "$request.body.uni", "héllo 😀"},
		{"body missing", "[$request.body.nope.deeper]", "[]"},
		{"body key of a string", "[$request.body.name.x]", "[]"},
		{"context", "$context.requestId", "req-1"},
		{"dotted context", "$context.identity.sourceIp", "192.0.2.1"},
		{"missing context", "[$context.nope]", "[]"},
		{"claim string", "$context.authorizer.claims.sub", "user-7"},
		{"claim bool", "$context.authorizer.claims.admin", "true"},
		{"claim number", "$context.authorizer.claims.iat", "1700000000"},
		{"claim array", "$context.authorizer.claims.groups", `["a","b"]`},
		{"nested claim", "$context.authorizer.claims.realm_access.roles", `["r1"]`},
		{"claim with URL name", "${context.authorizer.claims.https://example.com/tenant}", "acme"},
		{"missing claim", "[$context.authorizer.claims.nope]", "[]"},
		{"double dollar", "$$request.path", "$request.path"},
		{"dollar digit", "$5", "$5"},
		{"final dollar", "costs $", "costs $"},
		{"dollar space", "$ x", "$ x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"overwrite:querystring.out": tc.expr}})
			r := sampleRequest()
			if err := m.ApplyRequest(r); err != nil {
				t.Fatal(err)
			}
			if got := r.Query.Get("out"); got != tc.want {
				t.Errorf("%q = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestExpressionsWithoutAuthorizationOrBody(t *testing.T) {
	m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{
		"overwrite:querystring.out": "[$context.authorizer.claims.sub][$request.body.a][$request.body]",
	}})
	for _, body := range []string{"", "not json", `{"a":1} trailing`, `{"a":`} {
		r := &mapping.Request{Body: []byte(body)}
		if err := m.ApplyRequest(r); err != nil {
			t.Fatal(err)
		}
		if want := "[][][" + body + "]"; r.Query.Get("out") != want {
			t.Errorf("body %q: out = %q, want %q", body, r.Query.Get("out"), want)
		}
	}
}

func TestApplyRequestParameters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		check  func(t *testing.T, r *mapping.Request)
	}{
		{"overwrite header", map[string]string{"overwrite:header.Authorization": "Bearer $request.header.x-token"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "Authorization", r.Header["Authorization"], []string{"Bearer tok-123"})
			}},
		{"overwrite new header lower case key", map[string]string{"overwrite:header.x-user": "$context.authorizer.claims.sub"},
			func(t *testing.T, r *mapping.Request) { equal(t, "X-User", r.Header["X-User"], []string{"user-7"}) }},
		{"append header", map[string]string{"append:header.Accept": "text/plain"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "Accept", r.Header["Accept"], []string{"text/html", "application/json", "text/plain"})
			}},
		{"append new header", map[string]string{"append:header.X-New": "1"},
			func(t *testing.T, r *mapping.Request) { equal(t, "X-New", r.Header["X-New"], []string{"1"}) }},
		{"remove header", map[string]string{"remove:header.x-remove-me": "''"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "X-Remove-Me", r.Header["X-Remove-Me"], []string(nil))
			}},
		{"overwrite with missing value removes", map[string]string{"overwrite:header.Authorization": "$request.header.x-missing"},
			func(t *testing.T, r *mapping.Request) {
				if _, ok := r.Header["Authorization"]; ok {
					t.Error("Authorization still there")
				}
			}},
		{"append missing value adds nothing", map[string]string{"append:header.Accept": "$request.header.x-missing"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "Accept", r.Header["Accept"], []string{"text/html", "application/json"})
			}},
		{"values see the request as it came", map[string]string{
			"overwrite:header.X-Token": "new", "overwrite:header.X-Old": "$request.header.x-token", "remove:header.Content-Type": "",
			"overwrite:header.X-Type": "$request.header.content-type"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "X-Token", r.Header["X-Token"], []string{"new"})
				equal(t, "X-Old", r.Header["X-Old"], []string{"tok-123"})
				equal(t, "X-Type", r.Header["X-Type"], []string{"application/json"})
				equal(t, "Content-Type", r.Header["Content-Type"], []string(nil))
			}},
		{"remove then append", map[string]string{"remove:header.Accept": "", "append:header.Accept": "a/b"},
			func(t *testing.T, r *mapping.Request) { equal(t, "Accept", r.Header["Accept"], []string{"a/b"}) }},
		{"overwrite then append", map[string]string{"overwrite:header.Accept": "a/b", "append:header.accept": "c/d"},
			func(t *testing.T, r *mapping.Request) { equal(t, "Accept", r.Header["Accept"], []string{"a/b", "c/d"}) }},
		{"overwrite query", map[string]string{"overwrite:querystring.page": "$request.header.x-token"},
			func(t *testing.T, r *mapping.Request) { equal(t, "page", r.Query["page"], []string{"tok-123"}) }},
		{"append query", map[string]string{"append:querystring.tag": "$request.path.id"},
			func(t *testing.T, r *mapping.Request) { equal(t, "tag", r.Query["tag"], []string{"a", "b", "42"}) }},
		{"remove query", map[string]string{"remove:querystring.tag": ""},
			func(t *testing.T, r *mapping.Request) { equal(t, "tag", r.Query["tag"], []string(nil)) }},
		{"query names are case sensitive", map[string]string{"remove:querystring.Tag": ""},
			func(t *testing.T, r *mapping.Request) { equal(t, "tag", r.Query["tag"], []string{"a", "b"}) }},
		{"overwrite query with missing removes", map[string]string{"overwrite:querystring.page": "$request.querystring.nope"},
			func(t *testing.T, r *mapping.Request) { equal(t, "page", r.Query["page"], []string(nil)) }},
		{"query value with unicode and ampersand", map[string]string{"overwrite:querystring.a": "é&b=c $request.body.uni"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "a", r.Query["a"], []string{"é&b=c héllo 😀"})
			}},
		{"static path", map[string]string{"overwrite:path": "/health"},
			func(t *testing.T, r *mapping.Request) { equal(t, "Path", r.Path, "/health") }},
		{"path with parameter", map[string]string{"overwrite:path": "/v2/users/$request.path.id"},
			func(t *testing.T, r *mapping.Request) { equal(t, "Path", r.Path, "/v2/users/42") }},
		{"path with raw greedy parameter", map[string]string{"overwrite:path": "/store/$request.path.proxy"},
			func(t *testing.T, r *mapping.Request) { equal(t, "Path", r.Path, "/store/a%20b/c.txt") }},
		{"whole path", map[string]string{"overwrite:path": "/v1$request.path"},
			func(t *testing.T, r *mapping.Request) { equal(t, "Path", r.Path, "/v1/users/42/files/a%20b/c.txt") }},
		{"dots inside segments", map[string]string{"overwrite:path": "/$request.path.id/.../a..b/.c/$request.querystring.q"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "Path", r.Path, "/42/.../a..b/.c/x%20y")
			}},
		{"path escapes decoded values into one segment", map[string]string{"overwrite:path": "/search/$request.querystring.q/$request.body.name"},
			func(t *testing.T, r *mapping.Request) {
				equal(t, "Path", r.Path, "/search/x%20y/Bob%20%22the%22%20builder")
			}},
		{"path from a header", map[string]string{"overwrite:path": "$request.header.x-token"},
			func(t *testing.T, r *mapping.Request) { t.Fatal("want an error") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{RequestParameters: tc.params})
			r := sampleRequest()
			before := cloneRequest(r)
			err := m.ApplyRequest(r)
			if tc.name == "path from a header" {
				wantApplyError(t, err, mapping.ErrBadValue, http.StatusBadRequest)
				equal(t, "request", r, before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
			equal(t, "Body", r.Body, before.Body)
		})
	}
}

func TestApplyRequestNilMaps(t *testing.T) {
	m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{
		"overwrite:header.X-A": "a", "append:querystring.b": "b", "remove:header.X-C": "", "remove:querystring.d": "",
	}})
	r := &mapping.Request{}
	if err := m.ApplyRequest(r); err != nil {
		t.Fatal(err)
	}
	equal(t, "Header", r.Header, http.Header{"X-A": {"a"}})
	equal(t, "Query", r.Query, url.Values{"b": {"b"}})
	if err := m.ApplyRequest(nil); err != nil {
		t.Errorf("ApplyRequest(nil): %v", err)
	}
}

// TestApplyRequestAppendDoesNotShare checks that append never writes into
// a backing array the caller's other slices share.
func TestApplyRequestAppendDoesNotShare(t *testing.T) {
	m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"append:header.Accept": "x", "append:querystring.tag": "y"}})
	shared := make([]string, 1, 4)
	shared[0] = "a"
	r := &mapping.Request{Header: http.Header{"Accept": shared}, Query: url.Values{"tag": shared}}
	if err := m.ApplyRequest(r); err != nil {
		t.Fatal(err)
	}
	equal(t, "Accept", r.Header["Accept"], []string{"a", "x"})
	equal(t, "tag", r.Query["tag"], []string{"a", "y"})
	if extra := shared[:2][1]; extra != "" {
		t.Errorf("append wrote %q into the caller's array", extra)
	}
}

// TestHeaderInjection sends line breaks and NULs from every source a
// client controls into every target: each must be refused with
// ErrBadValue, and leave the request as it was.
func TestHeaderInjection(t *testing.T) {
	evil := []string{"a\r\nSet-Cookie: admin=1", "a\nX: y", "a\rb", "a\x00b"}
	sources := []struct {
		name, expr string
		put        func(r *mapping.Request, v string)
	}{
		{"query", "$request.querystring.q", func(r *mapping.Request, v string) { r.Query.Set("q", v) }},
		{"header", "$request.header.x-in", func(r *mapping.Request, v string) { r.Header.Set("X-In", v) }},
		{"claim", "$context.authorizer.claims.name", func(r *mapping.Request, v string) { r.Claims["name"] = v }},
		{"nested claim", "$context.authorizer.claims.a.b", func(r *mapping.Request, v string) { r.Claims["a"] = map[string]any{"b": v} }},
		{"body field", "$request.body.v", func(r *mapping.Request, v string) {
			r.Body = []byte(`{"v":` + strings.NewReplacer("\r", `\r`, "\n", `\n`, "\x00", `\u0000`).Replace(`"`+v+`"`) + `}`)
		}},
		{"whole body", "$request.body", func(r *mapping.Request, v string) { r.Body = []byte(v) }},
		{"path parameter", "$request.path.id", func(r *mapping.Request, v string) { r.PathParams["id"] = v }},
		{"context", "$context.requestId", func(r *mapping.Request, v string) { r.Context["requestId"] = v }},
	}
	targets := []struct{ name, key, prefix string }{
		{"header", "overwrite:header.X-Out", "Bearer "},
		{"append header", "append:header.X-Out", ""},
		{"query", "overwrite:querystring.out", ""},
		{"path", "overwrite:path", "/x/"},
	}
	for _, src := range sources {
		for _, tgt := range targets {
			if tgt.name == "path" && src.name != "path parameter" {
				continue // other sources are escaped into a path segment
			}
			for _, v := range evil {
				t.Run(src.name+"/"+tgt.name+"/"+url.QueryEscape(v), func(t *testing.T) {
					m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{tgt.key: tgt.prefix + src.expr}})
					r := sampleRequest()
					src.put(r, v)
					before := cloneRequest(r)
					err := m.ApplyRequest(r)
					wantApplyError(t, err, mapping.ErrBadValue, http.StatusBadRequest)
					if strings.ContainsAny(err.Error(), "\r\n\x00") {
						t.Errorf("error text %q carries the value", err)
					}
					equal(t, "request", r, before)
				})
			}
		}
	}
	t.Run("escaped into path", func(t *testing.T) {
		m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"overwrite:path": "/x/$request.querystring.q"}})
		r := sampleRequest()
		r.Query.Set("q", "a\r\n/b?c#d")
		if err := m.ApplyRequest(r); err != nil {
			t.Fatal(err)
		}
		equal(t, "Path", r.Path, "/x/a%0D%0A%2Fb%3Fc%23d")
	})
	t.Run("tab is allowed", func(t *testing.T) {
		m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"overwrite:header.X-Out": "$request.querystring.q"}})
		r := sampleRequest()
		r.Query.Set("q", "a\tb")
		if err := m.ApplyRequest(r); err != nil {
			t.Fatal(err)
		}
		equal(t, "X-Out", r.Header["X-Out"], []string{"a\tb"})
	})
	t.Run("other control characters", func(t *testing.T) {
		m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"overwrite:header.X-Out": "$request.querystring.q"}})
		for _, v := range []string{"\x01", "\x1f", "\x7f"} {
			r := sampleRequest()
			r.Query.Set("q", v)
			wantApplyError(t, m.ApplyRequest(r), mapping.ErrBadValue, http.StatusBadRequest)
		}
	})
}

func TestApplyRequestBadPath(t *testing.T) {
	for _, tc := range []struct{ name, expr, param, want string }{
		{"dot dot parameter", "/a/$request.path.id/b", "..", `"." or ".." segment`},
		{"encoded dot dot", "/a/$request.path.id", "%2E%2e", `"." or ".." segment`},
		{"single dot", "/a/$request.path.id", ".", `"." or ".." segment`},
		{"traversal in greedy", "/a/$request.path.id", "x/../../admin", `"." or ".." segment`},
		{"dot dot behind encoded slash", "/a/$request.path.id", "..%2fadmin", `"." or ".." segment`},
		{"dot dot before encoded backslash", "/a/$request.path.id", "x%5C..%5Cadmin", `"." or ".." segment`},
		{"decoded dot dot from a query", "/a/$request.querystring.q", "", `"." or ".." segment`},
		{"host switch", "$request.path.id", "//evil.example/x", `starts with "//"`},
		{"empty first segment", "/$request.path.id", "/evil.example", `starts with "//"`},
		{"relative", "$request.path.id", "relative", `does not start with "/"`},
		{"missing", "$request.path.nope", "", `does not start with "/"`},
		{"query in raw parameter", "/a/$request.path.id", "x?admin=1", "must be percent-encoded"},
		{"bad escape", "/a/$request.path.id", "%zz", "bad % escape"},
		{"too long", "/a/$request.path.id", strings.Repeat("a", mapping.MaxValueBytes), "over 16384 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"overwrite:path": tc.expr}})
			r := sampleRequest()
			r.PathParams["id"] = tc.param
			r.Query.Set("q", "../admin")
			err := m.ApplyRequest(r)
			wantApplyError(t, err, mapping.ErrBadValue, http.StatusBadRequest)
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "overwrite:path") {
				t.Errorf("error %q does not name the key and contain %q", err, tc.want)
			}
			equal(t, "Path", r.Path, sampleRequest().Path)
		})
	}
}

func TestApplyRequestValueTooLong(t *testing.T) {
	m := mustCompile(t, mapping.Config{RequestParameters: map[string]string{"overwrite:header.X-Body": "$request.body"}})
	r := sampleRequest()
	r.Body = []byte(strings.Repeat("a", mapping.MaxValueBytes+1))
	wantApplyError(t, m.ApplyRequest(r), mapping.ErrBadValue, http.StatusBadRequest)
}

func TestApplyResponse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		check  func(t *testing.T, resp *mapping.Response)
	}{
		{"overwrite header from request", map[string]string{"overwrite:header.X-Request-Id": "$context.requestId"},
			func(t *testing.T, resp *mapping.Response) {
				equal(t, "X-Request-Id", resp.Header["X-Request-Id"], []string{"req-1"})
			}},
		{"header from response body", map[string]string{"overwrite:header.X-Order": "order $response.body.id, $response.body.error.code"},
			func(t *testing.T, resp *mapping.Response) {
				equal(t, "X-Order", resp.Header["X-Order"], []string{"order o-1, E1"})
			}},
		{"header from response header", map[string]string{"append:header.Via-Backend": "$response.header.server"},
			func(t *testing.T, resp *mapping.Response) {
				equal(t, "Via-Backend", resp.Header["Via-Backend"], []string{"backend/1.0"})
			}},
		{"header from status", map[string]string{"overwrite:header.X-Backend-Status": "$response.statuscode"},
			func(t *testing.T, resp *mapping.Response) {
				equal(t, "X-Backend-Status", resp.Header["X-Backend-Status"], []string{"200"})
			}},
		{"remove header", map[string]string{"remove:header.Server": ""},
			func(t *testing.T, resp *mapping.Response) { equal(t, "Server", resp.Header["Server"], []string(nil)) }},
		{"static status", map[string]string{"overwrite:statuscode": "204"},
			func(t *testing.T, resp *mapping.Response) { equal(t, "Status", resp.Status, 204) }},
		{"dynamic status", map[string]string{"overwrite:statuscode": "$response.header.x-status"},
			func(t *testing.T, resp *mapping.Response) { equal(t, "Status", resp.Status, 201) }},
		{"dynamic status from body", map[string]string{"overwrite:statuscode": "4${response.body.error.code}"},
			func(t *testing.T, resp *mapping.Response) { t.Fatal("want an error") }},
		{"missing dynamic status leaves it", map[string]string{"overwrite:statuscode": "$response.header.x-missing"},
			func(t *testing.T, resp *mapping.Response) { equal(t, "Status", resp.Status, 200) }},
		{"set-cookie appends lines", map[string]string{"append:header.Set-Cookie": "sid=$context.requestId"},
			func(t *testing.T, resp *mapping.Response) {
				equal(t, "Set-Cookie", resp.Header["Set-Cookie"], []string{"sid=req-1"})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{ResponseParameters: tc.params})
			resp := sampleResponse()
			err := m.ApplyResponse(resp, sampleRequest())
			if tc.name == "dynamic status from body" {
				wantApplyError(t, err, mapping.ErrBadValue, http.StatusBadGateway)
				equal(t, "response", resp, sampleResponse())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, resp)
			equal(t, "Body", resp.Body, sampleResponse().Body)
		})
	}
}

func TestApplyResponseInjection(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		put        func(req *mapping.Request, resp *mapping.Response)
	}{
		{"from a response header", "$response.header.x-in", func(_ *mapping.Request, resp *mapping.Response) { resp.Header["X-In"] = []string{"a\r\nb"} }},
		{"from the response body", "$response.body.v", func(_ *mapping.Request, resp *mapping.Response) { resp.Body = []byte(`{"v":"a\nb"}`) }},
		{"from the request query", "$request.querystring.q", func(req *mapping.Request, _ *mapping.Response) { req.Query.Set("q", "a\rb") }},
		{"from a claim", "$context.authorizer.claims.sub", func(req *mapping.Request, _ *mapping.Response) { req.Claims["sub"] = "a\x00b" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{ResponseParameters: map[string]string{"overwrite:header.X-Out": tc.expr}})
			req, resp := sampleRequest(), sampleResponse()
			tc.put(req, resp)
			before := *resp
			before.Header = resp.Header.Clone()
			wantApplyError(t, m.ApplyResponse(resp, req), mapping.ErrBadValue, http.StatusBadGateway)
			equal(t, "response", *resp, before)
		})
	}
}

func TestApplyResponseNilRequest(t *testing.T) {
	m := mustCompile(t, mapping.Config{
		ResponseParameters: map[string]string{"overwrite:header.X-A": "[$request.header.x][$context.requestId]$response.statuscode"},
		ResponseTemplate:   `{{.Method}}|{{header "x"}}|{{field "a"}}|{{rfield "id"}}`,
	})
	resp := sampleResponse()
	if err := m.ApplyResponse(resp, nil); err != nil {
		t.Fatal(err)
	}
	equal(t, "X-A", resp.Header["X-A"], []string{"[][]200"})
	equal(t, "Body", string(resp.Body), "|||o-1")
	if err := m.ApplyResponse(nil, nil); err != nil {
		t.Errorf("ApplyResponse(nil): %v", err)
	}
}

// TestConcurrent runs one Mapping from many goroutines; go test -race
// checks that sessions are not shared.
func TestConcurrent(t *testing.T) {
	m := mustCompile(t, mapping.Config{
		RequestParameters:  map[string]string{"overwrite:header.X-User": "$request.body.name", "overwrite:path": "/v2/$request.path.id"},
		RequestTemplate:    `{"n":{{fieldjson "name"}},"id":{{json (path "id")}}}`,
		ResponseParameters: map[string]string{"overwrite:header.X-Id": "$response.body.id"},
		ResponseTemplate:   `{{rfield "id"}}/{{field "name"}}`,
	})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := strings.Repeat("x", g) + string(rune('a'+i%26))
				r := &mapping.Request{PathParams: map[string]string{"id": id}, Body: []byte(`{"name":"` + id + `"}`)}
				if err := m.ApplyRequest(r); err != nil {
					t.Error(err)
					return
				}
				if want := `{"n":"` + id + `","id":"` + id + `"}`; string(r.Body) != want || r.Path != "/v2/"+id || r.Header.Get("X-User") != id {
					t.Errorf("request %q: body %s, path %s, X-User %s", id, r.Body, r.Path, r.Header.Get("X-User"))
					return
				}
				resp := &mapping.Response{Body: []byte(`{"id":"` + id + `"}`)}
				if err := m.ApplyResponse(resp, &mapping.Request{Body: []byte(`{"name":"` + id + `"}`)}); err != nil {
					t.Error(err)
					return
				}
				if string(resp.Body) != id+"/"+id || resp.Header.Get("X-Id") != id {
					t.Errorf("response %q: body %s, X-Id %s", id, resp.Body, resp.Header.Get("X-Id"))
					return
				}
			}
		})
	}
	wg.Wait()
}
