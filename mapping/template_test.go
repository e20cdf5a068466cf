package mapping_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/mapping"
)

func TestRequestTemplate(t *testing.T) {
	for _, tc := range []struct {
		name, tmpl string
		put        func(r *mapping.Request) // changes the sample request first
		want       string
	}{
		{"static", "hello", nil, "hello"},
		{"empty output", "{{/* nothing */}}", nil, ""},
		{"data fields", "{{.Method}} {{.Path}} {{.Header.Get `x-token`}} {{.Query.Get `page`}} {{.Query.Has `nope`}} {{.PathParams.id}} {{.Context.requestId}}", nil,
			"POST /users/42/files/a%20b/c.txt tok-123 2 false 42 req-1"},
		{"body", "[{{.Body}}]", func(r *mapping.Request) { r.Body = []byte("raw\n") }, "[raw\n]"},
		{"functions", `{{header "accept"}}|{{query "tag"}}|{{path "proxy"}}|{{context "sourceIp"}}|{{claim "sub"}}|{{claim "groups"}}|{{claim "realm_access.roles"}}`, nil,
			`text/html,application/json|a,b|a%20b/c.txt|192.0.2.1|user-7|["a","b"]|["r1"]`},
		{"field", `{{field "name"}}|{{field "age"}}|{{field "items[1].id"}}|{{field "items.0.id"}}|{{field "user"}}|[{{field "nope"}}]|[{{field "nil"}}]`, nil,
			`Bob "the" builder|42|i2|i1|{"name":"bob","tags":["x"]}|[]|[]`},
		{"fieldjson", `{{fieldjson "name"}}|{{fieldjson "price"}}|{{fieldjson "user"}}|{{fieldjson "nope"}}|{{fieldjson "nil"}}|{{fieldjson "ok"}}`, nil,
			`"Bob \"the\" builder"|1.50|{"name":"bob","tags":["x"]}|null|null|true`},
		{"fieldjson of the whole body", `{{fieldjson ""}}`, func(r *mapping.Request) { r.Body = []byte(` {"b":1, "a":[true]} `) }, `{"a":[true],"b":1}`},
		{"field of a body that is not JSON", `[{{field "a"}}][{{fieldjson "a"}}]`, func(r *mapping.Request) { r.Body = []byte("a=1") }, "[][null]"},
		{"json escapes quotes and newlines", `{"q":{{json (query "q")}}}`, func(r *mapping.Request) { r.Query.Set("q", "say \"hi\"\n\tbye\\") },
			`{"q":"say \"hi\"\n\tbye\\"}`},
		{"json keeps unicode and html", `{{json (field "uni")}} {{json "<a&b>"}}`, nil, `"héllo 😀" "<a&b>"`},
		{"json escapes line separators and controls", `{{json (query "q")}}`, func(r *mapping.Request) { r.Query.Set("q", "a\u2028b\x01") },
			`"a\u2028b\u0001"`},
		{"json of invalid UTF-8", `{{json (query "q")}}`, func(r *mapping.Request) { r.Query.Set("q", "a\xffb") }, `"a\ufffdb"`},
		{"json of values", `{{json .Method}} {{json .PathParams}} {{json (index .Claims "iat")}} {{json .Query.tag}} {{json nil}}`, nil,
			`"POST" {"id":"42","proxy":"a%20b/c.txt"} 1700000000 ["a","b"] null`},
		{"default", `{{default "anon" (claim "nope")}} {{default "anon" (claim "sub")}} {{query "nope" | default "1"}} {{default "x" .Query.nope}}`, nil,
			"anon user-7 1 x"},
		{"lower upper base64", `{{lower "AbC"}} {{upper (field "user.name")}} {{base64 (header "x-token")}}`, nil, "abc BOB dG9rLTEyMw=="},
		{"builtins", `{{if eq .Method "POST"}}{{len .Query.tag}}{{end}} {{urlquery (query "q")}} {{printf "%s-%s" (path "id") (claim "sub")}}`, nil, "2 x+y 42-user-7"},
		{"missing map keys print nothing", `[{{.Context.nope}}][{{.PathParams.nope}}]`, nil, "[][]"},
		{"range over query", `{{range $k, $v := .Query}}{{$k}}={{index $v 0}};{{end}}`, nil, "page=2;q=x y;tag=a;"},
		{"range over body items", `{{range $i, $e := .Query.tag}}{{$i}}{{$e}}{{end}}`, nil, "0a1b"},
		{"no authorization", `[{{claim "sub"}}][{{default "anon" (claim "sub")}}]`, func(r *mapping.Request) { r.Claims = nil }, "[][anon]"},
		{"json document", `{"user":{{fieldjson "user"}},"by":{{json (claim "sub")}},"id":{{json (path "id")}},"n":{{fieldjson "age"}}}`, nil,
			`{"user":{"name":"bob","tags":["x"]},"by":"user-7","id":"42","n":42}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{RequestTemplate: tc.tmpl})
			r := sampleRequest()
			if tc.put != nil {
				tc.put(r)
			}
			if err := m.ApplyRequest(r); err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != tc.want {
				t.Errorf("body\n\t%s\nwant\n\t%s", r.Body, tc.want)
			}
		})
	}
}

// TestTemplateJSONRoundTrip checks that a json template is valid JSON for
// hostile values, and decodes back to them.
func TestTemplateJSONRoundTrip(t *testing.T) {
	m := mustCompile(t, mapping.Config{RequestTemplate: `{"q":{{json (query "q")}},"h":{{json (header "x-in")}},"f":{{fieldjson "v"}}}`})
	for _, v := range []string{`"`, `\`, "\n\r\t", "</script>", "\u2028\u2029", "😀é", "\x00\x1f", `{"a":1}`, "'", ""} {
		r := sampleRequest()
		r.Query.Set("q", v)
		r.Header.Set("X-In", v)
		b, _ := json.Marshal(map[string]string{"v": v})
		r.Body = b
		if err := m.ApplyRequest(r); err != nil {
			t.Fatal(err)
		}
		var got struct{ Q, H, F string }
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatalf("value %q: output %s is not JSON: %v", v, r.Body, err)
		}
		if got.Q != v || got.H != v || got.F != v {
			t.Errorf("value %q came back as %q, %q, %q", v, got.Q, got.H, got.F)
		}
	}
}

func TestRequestTemplateReplacesBody(t *testing.T) {
	m := mustCompile(t, mapping.Config{
		RequestTemplate:   `{{field "name"}}`,
		RequestParameters: map[string]string{"overwrite:header.X-Name": "$request.body.name"},
	})
	r := sampleRequest()
	r.Header.Set("Content-Length", "999")
	old := r.Body
	oldCopy := string(old)
	if err := m.ApplyRequest(r); err != nil {
		t.Fatal(err)
	}
	equal(t, "Body", string(r.Body), `Bob "the" builder`)
	// Parameters read the body as the client sent it, not the template's.
	equal(t, "X-Name", r.Header["X-Name"], []string{`Bob "the" builder`})
	if _, ok := r.Header["Content-Length"]; ok {
		t.Error("Content-Length kept with a new body")
	}
	if string(old) != oldCopy {
		t.Error("the old body was written to")
	}
}

func TestResponseTemplate(t *testing.T) {
	for _, tc := range []struct{ name, tmpl, want string }{
		{"response fields", `{{.Status}} {{.ResponseHeader.Get "server"}} {{.ResponseBody}}`, `200 backend/1.0 {"id":"o-1","total":12.5,"error":{"code":"E1"}}`},
		{"request fields", `{{.Method}} {{.PathParams.id}} {{.Header.Get "x-token"}} {{field "user.name"}} {{claim "sub"}}`, "POST 42 tok-123 bob user-7"},
		{"rfield", `{{rfield "id"}} {{rfield "total"}} {{rfield "error"}} {{rfield "error.code"}} [{{rfield "nope"}}]`, `o-1 12.5 {"code":"E1"} E1 []`},
		{"rfieldjson", `{"order":{{rfieldjson "id"}},"total":{{rfieldjson "total"}},"err":{{rfieldjson "error"}},"x":{{rfieldjson "nope"}}}`,
			`{"order":"o-1","total":12.5,"err":{"code":"E1"},"x":null}`},
		{"rheader", `{{rheader "content-type"}}`, "application/json"},
		{"envelope", `{"data":{{.ResponseBody}},"requestId":{{json (context "requestId")}},"status":{{.Status}}}`,
			`{"data":{"id":"o-1","total":12.5,"error":{"code":"E1"}},"requestId":"req-1","status":200}`},
		{"conditional on status", `{{if ge .Status 400}}error{{else}}ok{{end}}`, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{ResponseTemplate: tc.tmpl})
			resp := sampleResponse()
			if err := m.ApplyResponse(resp, sampleRequest()); err != nil {
				t.Fatal(err)
			}
			if string(resp.Body) != tc.want {
				t.Errorf("body\n\t%s\nwant\n\t%s", resp.Body, tc.want)
			}
			if _, ok := resp.Header["Content-Length"]; ok {
				t.Error("Content-Length kept with a new body")
			}
		})
	}
}

// TestResponseMapping runs parameters and a template together: both read
// the response as the backend sent it.
func TestResponseMapping(t *testing.T) {
	m := mustCompile(t, mapping.Config{
		ResponseParameters: map[string]string{
			"overwrite:statuscode":          "$response.header.x-status",
			"remove:header.X-Status":        "",
			"overwrite:header.X-Order-Id":   "$response.body.id",
			"overwrite:header.Content-Type": "application/vnd.acme+json",
		},
		ResponseTemplate: `{"order":{{rfieldjson "id"}},"was":{{.Status}}}`,
	})
	resp := sampleResponse()
	if err := m.ApplyResponse(resp, sampleRequest()); err != nil {
		t.Fatal(err)
	}
	equal(t, "Status", resp.Status, 201)
	equal(t, "Header", resp.Header, http.Header{
		"Content-Type": {"application/vnd.acme+json"}, "Server": {"backend/1.0"}, "X-Order-Id": {"o-1"},
	})
	equal(t, "Body", string(resp.Body), `{"order":"o-1","was":200}`)
}

func TestTemplateRuntimeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, tmpl string
		put        func(r *mapping.Request)
	}{
		{"index out of range", `{{if .Query.tag}}{{index .Query.tag 5}}{{end}}`, nil},
		{"wrong type from data", `{{with .Claims.sub}}{{.Nope}}{{end}}`, nil},
		{"slice of a short body", `{{if .Body}}{{slice .Body 0 100000}}{{end}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, mapping.Config{RequestTemplate: tc.tmpl})
			r := sampleRequest()
			before := cloneRequest(r)
			err := m.ApplyRequest(r)
			wantApplyError(t, err, mapping.ErrTemplate, http.StatusInternalServerError)
			if !strings.Contains(err.Error(), "request_template") {
				t.Errorf("error %q does not name request_template", err)
			}
			equal(t, "request", r, before)
		})
	}
	t.Run("response", func(t *testing.T) {
		m := mustCompile(t, mapping.Config{ResponseTemplate: `{{if .ResponseBody}}{{index .ResponseHeader.Server 3}}{{end}}`})
		resp := sampleResponse()
		wantApplyError(t, m.ApplyResponse(resp, nil), mapping.ErrTemplate, http.StatusBadGateway)
		equal(t, "response", resp, sampleResponse())
	})
}

func TestTemplateTooLarge(t *testing.T) {
	// Each copy of the body is 4 KiB; the query says how many to write.
	m := mustCompile(t, mapping.Config{RequestTemplate: `{{range .Query.n}}{{range $.Query.n}}{{$.Body}}{{end}}{{end}}`})
	r := &mapping.Request{Body: []byte(strings.Repeat("x", 4<<10)), Query: map[string][]string{"n": make([]string, 60)}}
	if err := m.ApplyRequest(r); err != nil { // 60*60*4 KiB = 14.1 MiB
		wantApplyError(t, err, mapping.ErrTooLarge, http.StatusInternalServerError)
		wantApplyError(t, err, mapping.ErrTemplate, http.StatusInternalServerError)
	} else {
		t.Fatal("a 14 MiB output was accepted")
	}
	r.Query["n"] = make([]string, 50) // 9.8 MiB
	if err := m.ApplyRequest(r); err != nil {
		t.Fatal(err)
	}
	if len(r.Body) != 50*50*4<<10 {
		t.Errorf("body of %d bytes", len(r.Body))
	}
}
