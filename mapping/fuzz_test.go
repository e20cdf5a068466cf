package mapping_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatecast/gatecast/mapping"
)

// fuzzRequest is a request whose every source holds the fuzzer's value.
func fuzzRequest(value string, body []byte) *mapping.Request {
	return &mapping.Request{
		Method:     "POST",
		Path:       "/users/42",
		Query:      url.Values{"q": {value}, "n": {"1", "2"}},
		Header:     http.Header{"X-In": {value}, "Content-Type": {"application/json"}},
		PathParams: map[string]string{"id": value, "proxy": "a/b"},
		Context:    map[string]string{"requestId": value},
		Claims:     map[string]any{"sub": value, "n": float64(3), "nested": map[string]any{"v": value}},
		Body:       body,
	}
}

// FuzzExpression compiles an arbitrary expression as the value of every
// kind of parameter and applies it to a request (and a response) whose
// every source holds an arbitrary value.
//
//   - Nothing panics.
//   - An expression Compile accepts for one target compiles for the
//     others of its section (only static values are target-specific).
//   - Every Apply error is an *Error matching ErrBadValue; it leaves the
//     request or response as it was.
//   - After a successful Apply no header name or value holds CR, LF or
//     NUL (or another control character but tab), the path is absolute
//     and clean, and the status is 100 to 599.
func FuzzExpression(f *testing.F) {
	for _, s := range []struct{ expr, value, body string }{
		{"Bearer $request.header.x-in", "tok", `{}`},
		{"/v2/users/$request.path.id", "42", ``},
		{"${request.querystring.q}-$context.requestId", "a\r\nb", ``},
		{"$request.body.a.b[0]", "x", `{"a":{"b":["\r\n"]}}`},
		{"$context.authorizer.claims.nested.v", "\x00", ``},
		{"$request.path/$request.path.proxy", "..", ``},
		{"$$ $5 ${", "", ``},
		{"${context.authorizer.claims.sub}", "%2e%2e", ``},
		{"$response.header.x-in $response.statuscode $response.body.v", "v", `{"v":"\n"}`},
		{"/$request.path.id", "/evil.example", ``},
		{"$request.body", "", "line\nbreak"},
	} {
		f.Add(s.expr, s.value, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, expr, value string, body []byte) {
		reqKeys := []string{"overwrite:header.X-Out", "append:header.Accept", "overwrite:querystring.out", "append:querystring.n", "overwrite:path"}
		for _, key := range reqKeys {
			m, err := mapping.Compile(mapping.Config{RequestParameters: map[string]string{key: expr}})
			if err != nil {
				if !errors.Is(err, mapping.ErrConfig) {
					t.Fatalf("%s: Compile error %v does not match ErrConfig", key, err)
				}
				continue
			}
			r := fuzzRequest(value, body)
			err = m.ApplyRequest(r)
			if err != nil {
				checkBadValue(t, err)
				if !reflect.DeepEqual(r, fuzzRequest(value, body)) {
					t.Fatalf("%s: refused request changed", key)
				}
				continue
			}
			checkRequest(t, r)
		}
		for _, key := range []string{"overwrite:header.X-Out", "append:header.Set-Cookie", "overwrite:statuscode"} {
			m, err := mapping.Compile(mapping.Config{ResponseParameters: map[string]string{key: expr}})
			if err != nil {
				continue
			}
			resp := &mapping.Response{Status: 200, Header: http.Header{"X-In": {value}}, Body: body}
			err = m.ApplyResponse(resp, fuzzRequest(value, body))
			if err != nil {
				checkBadValue(t, err)
				continue
			}
			checkHeader(t, resp.Header, "X-Out", "Set-Cookie")
			if resp.Status < 100 || resp.Status > 599 {
				t.Fatalf("status %d", resp.Status)
			}
		}
	})
}

func checkBadValue(t *testing.T, err error) {
	t.Helper()
	var me *mapping.Error
	if !errors.As(err, &me) || !errors.Is(err, mapping.ErrBadValue) {
		t.Fatalf("Apply error %v (%T) is not a bad value", err, err)
	}
}

// checkHeader checks the named headers, the ones a mapping wrote (the
// others hold what the fuzzer sent).
func checkHeader(t *testing.T, h http.Header, names ...string) {
	t.Helper()
	for _, k := range names {
		for _, v := range h[k] {
			for i := 0; i < len(k+v); i++ {
				if c := (k + v)[i]; c < 0x20 && c != '\t' || c == 0x7f {
					t.Fatalf("header %q: %q holds control character %#x", k, v, c)
				}
			}
		}
	}
}

func checkRequest(t *testing.T, r *mapping.Request) {
	t.Helper()
	checkHeader(t, r.Header, "X-Out", "Accept")
	for _, k := range []string{"out", "n"} {
		for _, v := range r.Query[k] {
			if strings.ContainsAny(k+v, "\r\n\x00") {
				t.Fatalf("query %q: %q holds CR, LF or NUL", k, v)
			}
		}
	}
	p := r.Path
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "?# \r\n\x00\\") {
		t.Fatalf("path %q", p)
	}
	u, err := url.Parse("http://backend.internal" + p)
	if err != nil || u.Host != "backend.internal" || u.RawQuery != "" || u.Fragment != "" {
		t.Fatalf("path %q parses as %v, %v", p, u, err)
	}
	for seg := range strings.FieldsFuncSeq(u.Path, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == "." || seg == ".." {
			t.Fatalf("path %q decodes to a dot segment: %q", p, u.Path)
		}
	}
}

// FuzzTemplate compiles arbitrary template text as both body templates:
// Compile fails with ErrConfig, or ApplyRequest and ApplyResponse run
// without panicking and fail only with ErrTemplate. On the side, a fixed
// template shows that json and fieldjson write valid JSON that decodes
// back to the fuzzer's value, whatever it holds.
func FuzzTemplate(f *testing.F) {
	jsonT := mustCompile(f, mapping.Config{RequestTemplate: `{"q":{{json (query "q")}},"f":{{fieldjson "v"}},"c":{{json (claim "sub")}}}`})
	for _, s := range []struct{ tmpl, value, body string }{
		{`{"q":{{json (query "q")}},"u":{{fieldjson "user"}}}`, "a\"b\n", `{"user":{"n":1}}`},
		{`{{.Method}} {{.Header.Get "x-in"}} {{range $k, $v := .Query}}{{$k}}{{end}}`, "v", ``},
		{`{{if .Body}}{{slice .Body 0 3}}{{end}}`, "", `ab`},
		{`{{with .Claims}}{{.sub}}{{end}}{{claim "nested.v"}}`, "s", ``},
		{`{{define "x"}}{{.}}{{end}}{{template "x" (field "a.b[0]")}}`, "", `{"a":{"b":[1]}}`},
		{`{{default "d" (header "x-in") | upper | base64}}`, "", ``},
		{`{{range 10}}{{end}}`, "", ``},
		{`{{rfield "x"}}{{.Status}}{{.ResponseBody}}`, "", `{"x":"y"}`},
		{`{{.Nope}}`, "", ``},
		{`{{index .Query.n 1}}{{printf "%d" 3}}`, "", ``},
		{`{{json .}}`, "x", `{}`},
	} {
		f.Add(s.tmpl, s.value, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, tmpl, value string, body []byte) {
		if len(body) > 256 {
			body = body[:256] // loops are bounded by the request; keep them quick
		}
		m, err := mapping.Compile(mapping.Config{RequestTemplate: tmpl, ResponseTemplate: tmpl})
		if err != nil {
			if !errors.Is(err, mapping.ErrConfig) {
				t.Fatalf("Compile error %v does not match ErrConfig", err)
			}
			return
		}
		r := fuzzRequest(value, body)
		if err := m.ApplyRequest(r); err != nil && !errors.Is(err, mapping.ErrTemplate) {
			t.Fatalf("ApplyRequest error %v does not match ErrTemplate", err)
		}
		resp := &mapping.Response{Status: 200, Header: http.Header{"X-In": {value}}, Body: body}
		if err := m.ApplyResponse(resp, fuzzRequest(value, body)); err != nil && !errors.Is(err, mapping.ErrTemplate) {
			t.Fatalf("ApplyResponse error %v does not match ErrTemplate", err)
		}

		jr := fuzzRequest(value, nil)
		jr.Body, _ = json.Marshal(map[string]string{"v": value})
		if err := jsonT.ApplyRequest(jr); err != nil {
			t.Fatal(err)
		}
		var got struct{ Q, F, C string }
		if err := json.Unmarshal(jr.Body, &got); err != nil || !utf8.Valid(jr.Body) {
			t.Fatalf("json wrote %q: %v", jr.Body, err)
		}
		if utf8.ValidString(value) && (got.Q != value || got.F != value || got.C != value) {
			t.Fatalf("value %q came back as %q, %q, %q", value, got.Q, got.F, got.C)
		}
	})
}
