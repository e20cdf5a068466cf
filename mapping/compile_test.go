package mapping_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/mapping"
)

func TestCompileErrors(t *testing.T) {
	req := func(k, v string) mapping.Config {
		return mapping.Config{RequestParameters: map[string]string{k: v}}
	}
	resp := func(k, v string) mapping.Config {
		return mapping.Config{ResponseParameters: map[string]string{k: v}}
	}
	for _, tc := range []struct {
		name string
		cfg  mapping.Config
		want string // in the error text
	}{
		// keys
		{"no colon", req("header.X", "v"), `["header.X"]: a key is "action:target"`},
		{"unknown action", req("add:header.X", "v"), `unknown action "add"`},
		{"upper case action", req("Overwrite:header.X", "v"), `unknown action "Overwrite"`},
		{"unknown target", req("overwrite:cookie.x", "v"), `unknown target "cookie.x"`},
		{"header without name", req("overwrite:header.", "v"), `"" is not a valid header name`},
		{"header bad name", req("overwrite:header.X Y", "v"), `"X Y" is not a valid header name`},
		{"header colon name", req("overwrite:header.X:Y", "v"), `"X:Y" is not a valid header name`},
		{"reserved host", req("overwrite:header.host", "x"), "header Host is reserved"},
		{"reserved content-length", req("remove:header.Content-Length", "''"), "header Content-Length is reserved"},
		{"reserved transfer-encoding", req("append:header.transfer-encoding", "x"), "header Transfer-Encoding is reserved"},
		{"reserved connection", req("overwrite:header.Connection", "x"), "header Connection is reserved"},
		{"reserved x-forwarded-for", req("overwrite:header.X-Forwarded-For", "1.2.3.4"), "X-Forwarded-For is reserved"},
		{"reserved gatecast prefix", req("overwrite:header.gatecast-request-id", "x"), "Gatecast-Request-Id is reserved"},
		{"reserved nats prefix", req("overwrite:header.Nats-Msg-Id", "x"), "Nats-Msg-Id is reserved"},
		{"reserved cors prefix", resp("overwrite:header.Access-Control-Allow-Origin", "*"), "Access-Control-Allow-Origin is reserved"},
		{"reserved in response", resp("remove:header.Transfer-Encoding", ""), "Transfer-Encoding is reserved"},
		{"query without name", req("append:querystring.", "v"), "query string parameter: the name is missing"},
		{"query name with control", req("append:querystring.a\nb", "v"), "control character"},
		{"append path", req("append:path", "/x"), "use overwrite:path"},
		{"remove path", req("remove:path", ""), "use overwrite:path"},
		{"path with name", req("overwrite:path.x", "/x"), `unknown target "path.x"`},
		{"statuscode in request", req("overwrite:statuscode", "200"), `unknown target "statuscode"`},
		{"querystring in response", resp("overwrite:querystring.a", "1"), `unknown target "querystring.a"`},
		{"path in response", resp("overwrite:path", "/a"), `unknown target "path"`},
		{"append statuscode", resp("append:statuscode", "200"), "use overwrite:statuscode"},
		{"duplicate header by case", mapping.Config{RequestParameters: map[string]string{
			"overwrite:header.X-A": "1", "overwrite:header.x-a": "2"}}, `maps the same header as "overwrite:header.X-A"`},

		// values
		{"empty static value", req("overwrite:header.X", ""), "the value is empty; to delete the parameter use remove:"},
		{"static CR LF", req("overwrite:header.X", "a\r\nSet-Cookie: x"), "control character"},
		{"static NUL in query", req("overwrite:querystring.a", "a\x00"), "CR, LF or NUL"},
		{"static value too long", req("overwrite:header.X", strings.Repeat("a", mapping.MaxValueBytes+1)), "over 16384 bytes"},
		{"unknown root", req("overwrite:header.X", "$foo"), "$foo: unknown variable"},
		{"unknown request kind", req("overwrite:header.X", "$request.cookie.a"), "$request.cookie.a: unknown variable"},
		{"request alone", req("overwrite:header.X", "$request"), "$request: unknown variable"},
		{"header var without name", req("overwrite:header.X", "${request.header}"), "${request.header}: want $request.header.<name>"},
		{"header var bad name", req("overwrite:header.X", "${request.header.a b}"), "want $request.header.<name> with a valid header name"},
		{"query var without name", req("overwrite:header.X", "${request.querystring}"), "the name is missing"},
		{"empty path param", req("overwrite:header.X", "${request.path.}"), "the name is missing"},
		{"context alone", req("overwrite:header.X", "$context"), "want $context.<name>"},
		{"claims without name", req("overwrite:header.X", "$context.authorizer.claims"), "want $context.<name>"},
		{"claims empty name", req("overwrite:header.X", "${context.authorizer.claims.}"), "want $context.authorizer.claims.<name>"},
		{"stage variables", req("overwrite:header.X", "$stageVariables.v"), "stage variables are not supported"},
		{"response var in request", req("overwrite:header.X", "$response.header.a"), "only in response_parameters"},
		{"unknown response kind", resp("overwrite:header.X", "$response.cookie"), "$response.cookie: unknown variable"},
		{"unclosed brace", req("overwrite:header.X", "a ${request.path"), "has no closing }"},
		{"bad body path dots", req("overwrite:header.X", "${request.body.a..b}"), "empty key"},
		{"bad body path index", req("overwrite:header.X", "${request.body.a[x]}"), "array index"},
		{"bad body path bracket", req("overwrite:header.X", "${request.body.a]}"), `"]" without "["`},
		{"bad response body path", resp("overwrite:header.X", "${response.body.[}"), "array index"},
		{"static path relative", req("overwrite:path", "v2/users"), `must start with "/"`},
		{"dynamic path relative", req("overwrite:path", "v2/$request.path.id"), `must start with "/"`},
		{"static path double slash", req("overwrite:path", "//evil.example/x"), `starts with "//"`},
		{"static path dot segment", req("overwrite:path", "/a/../admin"), `"." or ".." segment`},
		{"static path encoded dot segment", req("overwrite:path", "/a/%2E%2e/admin"), `"." or ".." segment`},
		{"static path query", req("overwrite:path", "/a?admin=1"), "must be percent-encoded"},
		{"static path bad escape", req("overwrite:path", "/a%zz"), "bad % escape"},
		{"path literal with space", req("overwrite:path", "/a b/$request.path.id"), "must be percent-encoded"},
		{"status not a number", resp("overwrite:statuscode", "OK"), `status "OK": want a number from 100 to 599`},
		{"status too small", resp("overwrite:statuscode", "99"), `status "99"`},
		{"status too big", resp("overwrite:statuscode", "600"), `status "600"`},
		{"status with space", resp("overwrite:statuscode", " 200"), `status " 200"`},

		// templates
		{"template syntax", mapping.Config{RequestTemplate: "{{if}}"}, "request_template: template: request_template:1: missing value for if"},
		{"template unknown function", mapping.Config{RequestTemplate: `{{nope "x"}}`}, `function "nope" not defined`},
		{"template response function in request", mapping.Config{RequestTemplate: `{{rfield "x"}}`}, `function "rfield" not defined`},
		{"template unknown field", mapping.Config{RequestTemplate: `{{.Nope}}`}, "can't evaluate field Nope in type *mapping.RequestData"},
		{"template unknown field in branch", mapping.Config{RequestTemplate: `{{if .Method}}{{.Nope}}{{end}}`}, "can't evaluate field Nope"},
		{"template unknown field under with", mapping.Config{RequestTemplate: `{{with .Query}}{{$.Nope}}{{end}}`}, "can't evaluate field Nope"},
		{"template field of string", mapping.Config{RequestTemplate: `{{.Method.Name}}`}, "can't evaluate field Name in type string"},
		{"template unexported field", mapping.Config{RequestTemplate: `{{.body}}`}, "can't evaluate field body"},
		{"template response field in request", mapping.Config{RequestTemplate: `{{.Status}}`}, "can't evaluate field Status"},
		{"template response unknown field", mapping.Config{ResponseTemplate: `{{.ResponseNope}}`}, "response_template: response_template:1:2: can't evaluate field ResponseNope in type *mapping.ResponseData"},
		{"template too few arguments", mapping.Config{RequestTemplate: `{{if .Body}}{{field}}{{end}}`}, "field takes 1 argument(s), not 0"},
		{"template too many arguments", mapping.Config{RequestTemplate: `{{if .Body}}{{"a" | default "b" "c"}}{{end}}`}, "default takes 2 argument(s), not 3"},
		{"template missing template", mapping.Config{RequestTemplate: `{{if .Body}}{{template "nope" .}}{{end}}`}, `no template "nope" is defined`},
		{"template range over number", mapping.Config{RequestTemplate: `{{range 1000000000}}{{end}}`}, "a number may only be an argument of"},
		{"template range over variable number", mapping.Config{RequestTemplate: `{{$n := 99}}{{range $n}}{{end}}`}, "a number may only be an argument of"},
		{"template number through or", mapping.Config{RequestTemplate: `{{range (or 0 99)}}{{end}}`}, "a number may only be an argument of"},
		{"template number in define", mapping.Config{RequestTemplate: `{{define "x"}}{{range 9}}{{end}}{{end}}`}, "a number may only be an argument of"},
		{"template wrong argument type", mapping.Config{RequestTemplate: `{{lower .Query}}`}, "fails on an empty request"},
		{"template index on empty request", mapping.Config{RequestTemplate: `{{index .Query.page 0}}`}, "fails on an empty request"},
		{"template bad field path", mapping.Config{RequestTemplate: `{{field "a..b"}}`}, "fails on an empty request"},
		{"template response fails", mapping.Config{ResponseTemplate: `{{slice .ResponseBody 0 5}}`}, "response_template: fails on an empty response"},
		{"template static output too large", mapping.Config{RequestTemplate: strings.Repeat("x", mapping.MaxBodyBytes+1)}, "output over MaxBodyBytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := mapping.Compile(tc.cfg)
			if err == nil {
				t.Fatalf("Compile succeeded; want an error with %q", tc.want)
			}
			if m != nil {
				t.Errorf("Compile returned a Mapping with its error")
			}
			if !errors.Is(err, mapping.ErrConfig) {
				t.Errorf("%v does not match ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n\t%v\ndoes not contain\n\t%s", err, tc.want)
			}
		})
	}
}

// TestCompileReportsEverything checks that Compile lists every problem,
// each with its section and key, in a stable order.
func TestCompileReportsEverything(t *testing.T) {
	cfg := mapping.Config{
		RequestParameters:  map[string]string{"overwrite:header.Host": "x", "bad": "y", "append:header.X": "$nope"},
		ResponseParameters: map[string]string{"overwrite:statuscode": "700"},
		RequestTemplate:    "{{.Nope}}",
		ResponseTemplate:   "{{end}}",
	}
	_, err := mapping.Compile(cfg)
	if err == nil {
		t.Fatal("Compile succeeded")
	}
	want := []string{
		`mapping: request_parameters["append:header.X"]: $nope: unknown variable`,
		`mapping: request_parameters["bad"]: a key is`,
		`mapping: request_parameters["overwrite:header.Host"]: header Host is reserved`,
		`mapping: response_parameters["overwrite:statuscode"]: status "700"`,
		`mapping: request_template: request_template:1:2: can't evaluate field Nope`,
		`mapping: response_template: template: response_template:1: unexpected {{end}}`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d\n\t%s\ndoes not start with\n\t%s", i, lines[i], w)
		}
	}
	for i := 0; i < 5; i++ {
		if _, again := mapping.Compile(cfg); again.Error() != err.Error() {
			t.Fatalf("errors not in a stable order:\n%v\n---\n%v", err, again)
		}
	}
}

// TestCompileRunsTemplatesDespiteOtherErrors checks that a template that
// fails on an empty request is reported along with bad parameters.
func TestCompileRunsTemplatesDespiteOtherErrors(t *testing.T) {
	_, err := mapping.Compile(mapping.Config{
		RequestParameters: map[string]string{"bad": "x"},
		RequestTemplate:   `{{index .Query.page 0}}`,
	})
	for _, want := range []string{`request_parameters["bad"]`, "request_template: fails on an empty request"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}

func TestCompileAccepts(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  mapping.Config
	}{
		{"zero", mapping.Config{}},
		{"empty maps", mapping.Config{RequestParameters: map[string]string{}, ResponseParameters: map[string]string{}}},
		{"remove ignores its value", mapping.Config{RequestParameters: map[string]string{"remove:header.X": "$nope ${"}}},
		{"every request variable", mapping.Config{RequestParameters: map[string]string{
			"overwrite:header.X": "$request.header.a $request.querystring.b $request.path $request.path.c " +
				"$request.body $request.body.d.e[0] $context.requestId $context.identity.sourceIp $context.authorizer.claims.sub",
		}}},
		{"every response variable", mapping.Config{ResponseParameters: map[string]string{
			"overwrite:header.X": "$response.header.a $response.statuscode $response.body $response.body.x $request.header.b $context.requestId",
		}}},
		{"dynamic status", mapping.Config{ResponseParameters: map[string]string{"overwrite:statuscode": "$response.header.x-status"}}},
		{"static status", mapping.Config{ResponseParameters: map[string]string{"overwrite:statuscode": "201"}}},
		{"dollar literals", mapping.Config{RequestParameters: map[string]string{"overwrite:header.X": "$$5 costs $5 $ and $"}}},
		{"authorization may be mapped", mapping.Config{RequestParameters: map[string]string{"overwrite:header.Authorization": "Bearer $request.header.x-token"}}},
		{"content-type may be mapped", mapping.Config{ResponseParameters: map[string]string{"overwrite:header.Content-Type": "application/json"}}},
		{"different actions on one header", mapping.Config{RequestParameters: map[string]string{"remove:header.X": "", "append:header.X": "1"}}},
		{"template with range over data", mapping.Config{RequestTemplate: `{{range $k, $v := .Query}}{{$k}}={{index $v 0}};{{end}}`}},
		{"template numbers in allowed functions", mapping.Config{RequestTemplate: `{{if eq (len .Body) 0}}{{printf "%d" 5}}{{end}}{{json 1.5}}`}},
		{"template guarded index", mapping.Config{RequestTemplate: `{{if .Query.page}}{{index .Query.page 0}}{{end}}`}},
		{"template fields under with are not checked", mapping.Config{RequestTemplate: `{{with .Claims}}{{.sub}}{{end}}`}},
		{"template methods", mapping.Config{RequestTemplate: `{{.Header.Get "X"}}{{.Query.Get "p"}}{{.Query.Has "p"}}{{.Body}}`}},
		{"template response", mapping.Config{ResponseTemplate: `{{.Status}} {{.Method}} {{.ResponseHeader.Get "A"}} {{.ResponseBody}} {{rfield "a"}} {{rfieldjson "a"}} {{rheader "a"}} {{field "b"}}`}},
		{"template arguments through pipelines", mapping.Config{RequestTemplate: `{{field "a" | default "x" | lower}}{{"A" | lower | upper}}`}},
		{"template define", mapping.Config{RequestTemplate: `{{define "u"}}{{.}}{{end}}{{template "u" .Method}}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, tc.cfg)
			if err := m.ApplyRequest(sampleRequest()); err != nil {
				t.Errorf("ApplyRequest: %v", err)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	var nilMapping *mapping.Mapping
	if !nilMapping.Empty() {
		t.Error("nil Mapping is not Empty")
	}
	if err := nilMapping.ApplyRequest(sampleRequest()); err != nil {
		t.Errorf("nil Mapping ApplyRequest: %v", err)
	}
	if err := nilMapping.ApplyResponse(sampleResponse(), nil); err != nil {
		t.Errorf("nil Mapping ApplyResponse: %v", err)
	}
	for _, tc := range []struct {
		name  string
		cfg   mapping.Config
		empty bool
	}{
		{"zero", mapping.Config{}, true},
		{"empty maps", mapping.Config{RequestParameters: map[string]string{}}, true},
		{"request parameter", mapping.Config{RequestParameters: map[string]string{"remove:header.X": ""}}, false},
		{"response parameter", mapping.Config{ResponseParameters: map[string]string{"remove:header.X": ""}}, false},
		{"request template", mapping.Config{RequestTemplate: "x"}, false},
		{"response template", mapping.Config{ResponseTemplate: "x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustCompile(t, tc.cfg).Empty(); got != tc.empty {
				t.Errorf("Empty() = %v, want %v", got, tc.empty)
			}
		})
	}
}
