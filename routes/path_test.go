package routes_test

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/gatecast/gatecast/routes"
)

func mustPath(t testing.TB, expr string) routes.Path {
	t.Helper()
	p, err := routes.ParsePath(expr)
	if err != nil {
		t.Fatalf("ParsePath(%q): %v", expr, err)
	}
	return p
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		expr    string
		fields  []string
		wantErr string
	}{
		{expr: "$request.body.action", fields: []string{"action"}},
		{expr: "$request.body.a.b.c", fields: []string{"a", "b", "c"}},
		{expr: "$request.body.1.2.3.4.5.6.7.8", fields: []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
		{expr: "$request.body.$type", fields: []string{"$type"}},
		{expr: "$request.body.ação", fields: []string{"ação"}},
		{expr: "$request.body.a-b_c:d", fields: []string{"a-b_c:d"}},
		{expr: "", wantErr: `must be "$request.body." followed by a field name`},
		{expr: "$request.body", wantErr: "followed by a field name"},
		{expr: "$request.body.", wantErr: "followed by a field name"},
		{expr: "$request.body..a", wantErr: "empty field name"},
		{expr: "$request.body.a.", wantErr: "empty field name"},
		{expr: "$request.body.a..b", wantErr: "empty field name"},
		{expr: "$Request.body.a", wantErr: `must be "$request.body."`},
		{expr: "request.body.a", wantErr: `must be "$request.body."`},
		{expr: "$request.header.a", wantErr: `must be "$request.body."`},
		{expr: "$request.body.1.2.3.4.5.6.7.8.9", wantErr: "more than 8 field names"},
		{expr: "$request.body.a b", wantErr: "whitespace"},
		{expr: "$request.body.a\tb", wantErr: "whitespace"},
		{expr: "$request.body.a\x00", wantErr: "control character"},
		{expr: "$request.body.a\u00a0", wantErr: "whitespace"},
		{expr: "$request.body.items[0]", wantErr: "'['"},
		{expr: "$request.body.*", wantErr: "'*'"},
		{expr: "$request.body.a\xff", wantErr: "not valid UTF-8"},
		{expr: "$request.body." + strings.Repeat("a", 243), wantErr: "longer than 256 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := routes.ParsePath(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, routes.ErrExpression) {
					t.Errorf("err %v does not match ErrExpression", err)
				}
				if !p.IsZero() {
					t.Errorf("ParsePath returned a non-zero Path with its error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := routes.Fields(p); strings.Join(got, "|") != strings.Join(tt.fields, "|") {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
			if p.String() != tt.expr || p.IsZero() {
				t.Errorf("String() = %q, IsZero() = %v", p.String(), p.IsZero())
			}
		})
	}
}

func TestLookup(t *testing.T) {
	deep := func(n int, inner string) string { return strings.Repeat("[", n) + inner + strings.Repeat("]", n) }
	tests := []struct {
		name string
		expr string
		body string
		want string
		ok   bool
	}{
		// Finding the field.
		{"top level", "$request.body.action", `{"action":"send"}`, "send", true},
		{"not the first field", "$request.body.action", `{"data":"x","n":1,"action":"send"}`, "send", true},
		{"empty string", "$request.body.action", `{"action":""}`, "", true},
		{"nested", "$request.body.a.b.c", `{"a":{"x":1,"b":{"c":"deep"}}}`, "deep", true},
		{"nested after siblings", "$request.body.meta.kind", `{"meta":{"id":7,"tags":["a","b"],"kind":"chat"},"kind":"no"}`, "chat", true},
		{"eight levels", "$request.body.1.2.3.4.5.6.7.8", `{"1":{"2":{"3":{"4":{"5":{"6":{"7":{"8":"bottom"}}}}}}}}`, "bottom", true},
		{"whitespace everywhere", "$request.body.a.b", " \t\r\n{ \n\"x\" : [ 1 , { } , [ ] ] ,\t\"a\"\r:\n{ \"b\" : \"v\" } } ", "v", true},
		{"duplicate key: first wins", "$request.body.action", `{"action":"first","action":"second"}`, "first", true},
		{"duplicate key: first is not a string", "$request.body.action", `{"action":1,"action":"second"}`, "", false},
		{"duplicate object: first wins", "$request.body.a.b", `{"a":{"x":1},"a":{"b":"second"}}`, "", false},
		{"key is a prefix of another", "$request.body.act", `{"action":"x","act":"y"}`, "y", true},
		{"key longer than the field", "$request.body.action", `{"actions":"x","action":"y"}`, "y", true},

		// Wrong level: a field of the same name elsewhere must not match.
		{"same name nested, absent at top", "$request.body.action", `{"data":{"action":"inner"}}`, "", false},
		{"same name nested before top", "$request.body.action", `{"data":{"action":"inner"},"action":"outer"}`, "outer", true},
		{"same name at top, path nested", "$request.body.a.action", `{"action":"top","a":{"b":1}}`, "", false},
		{"inside an array", "$request.body.action", `{"list":[{"action":"inner"}]}`, "", false},
		{"inside a string", "$request.body.action", `{"data":"{\"action\":\"fake\"}","action":"real"}`, "real", true},
		{"value looks like the key", "$request.body.action", `{"x":"action","action":"real"}`, "real", true},
		{"path through a non-object", "$request.body.a.b", `{"a":"b"}`, "", false},
		{"path through an array", "$request.body.a.b", `{"a":[{"b":"x"}]}`, "", false},

		// Skipping values of every kind.
		{"arrays skipped", "$request.body.action", `{"a":[1,[2,[3,{"action":"no"}]],"s",true,null,{}],"action":"yes"}`, "yes", true},
		{"numbers skipped", "$request.body.action", `{"a":-0.5e+10,"b":0,"c":12.25E-3,"d":-7,"action":"yes"}`, "yes", true},
		{"literals skipped", "$request.body.action", `{"a":true,"b":false,"c":null,"action":"yes"}`, "yes", true},
		{"escaped quotes and backslashes before", "$request.body.action", `{"d":"a\"b\\\"c\\","e":"\\","action":"yes"}`, "yes", true},
		{"escaped key before", "$request.body.action", `{"x\"action":"no","action":"yes"}`, "yes", true},
		{"empty containers", "$request.body.action", `{"a":{},"b":[],"c":[{}],"action":"yes"}`, "yes", true},

		// Escapes in values and keys.
		{"escaped quote in value", "$request.body.action", `{"action":"say \"hi\""}`, `say "hi"`, true},
		{"escaped backslash in value", "$request.body.action", `{"action":"a\\b"}`, `a\b`, true},
		{"all simple escapes", "$request.body.v", `{"v":"\"\\\/\b\f\n\r\t"}`, "\"\\/\b\f\n\r\t", true},
		{"unicode escape", "$request.body.action", `{"action":"caf\u00e9"}`, "café", true},
		{"surrogate pair", "$request.body.action", `{"action":"\ud83d\ude00!"}`, "😀!", true},
		{"upper-case hex", "$request.body.action", `{"action":"\u00E9\uD83D\uDE00"}`, "é😀", true},
		{"lone high surrogate", "$request.body.v", `{"v":"a\ud800b"}`, "a\uFFFDb", true},
		{"lone low surrogate", "$request.body.v", `{"v":"\udc00"}`, "\uFFFD", true},
		{"high surrogate then non-surrogate", "$request.body.v", `{"v":"\ud800\u0041"}`, "\uFFFDA", true},
		{"escaped NUL", "$request.body.v", `{"v":"\u0000"}`, "\x00", true},
		{"raw UTF-8 value", "$request.body.v", `{"v":"日本"}`, "日本", true},
		{"invalid UTF-8 replaced", "$request.body.v", "{\"v\":\"a\xffb\"}", "a\uFFFDb", true},
		{"escaped key", "$request.body.action", `{"act\u0069on":"yes"}`, "yes", true},
		{"key escaped all over", "$request.body.a", `{"\u0061":"yes"}`, "yes", true},
		{"escaped slash in key", "$request.body.a/b", `{"a\/b":"yes"}`, "yes", true},
		{"non-ASCII key", "$request.body.ação", `{"a\u00e7\u00e3o":"yes"}`, "yes", true},
		{"key with surrogate pair", "$request.body.😀", `{"\ud83d\ude00":"yes"}`, "yes", true},
		{"escaped key differs", "$request.body.action", `{"act\u0069onx":"no"}`, "", false},
		{"invalid UTF-8 key matches U+FFFD", "$request.body.a\uFFFD", "{\"a\xff\":\"yes\"}", "yes", true},

		// Not a string.
		{"number", "$request.body.action", `{"action":42}`, "", false},
		{"true", "$request.body.action", `{"action":true}`, "", false},
		{"null", "$request.body.action", `{"action":null}`, "", false},
		{"object", "$request.body.action", `{"action":{"a":"b"}}`, "", false},
		{"array", "$request.body.action", `{"action":["send"]}`, "", false},

		// Absent.
		{"empty object", "$request.body.action", `{}`, "", false},
		{"absent", "$request.body.action", `{"a":"b","c":[1]}`, "", false},
		{"case differs", "$request.body.action", `{"Action":"x"}`, "", false},
		{"nested absent", "$request.body.a.b", `{"a":{"c":"x"}}`, "", false},

		// Not an object.
		{"array at top", "$request.body.action", `[{"action":"x"}]`, "", false},
		{"string at top", "$request.body.action", `"action"`, "", false},
		{"number at top", "$request.body.action", `1`, "", false},
		{"empty body", "$request.body.action", ``, "", false},
		{"only whitespace", "$request.body.action", " \n\t", "", false},
		{"plain text", "$request.body.action", `sendmessage`, "", false},

		// Truncated and malformed.
		{"truncated in key", "$request.body.action", `{"act`, "", false},
		{"truncated after key", "$request.body.action", `{"action"`, "", false},
		{"truncated after colon", "$request.body.action", `{"action":`, "", false},
		{"truncated in value", "$request.body.action", `{"action":"sen`, "", false},
		{"truncated in escape", "$request.body.action", `{"action":"a\`, "", false},
		{"truncated unicode escape", "$request.body.action", `{"action":"\u00`, "", false},
		{"truncated before", "$request.body.action", `{"a":[1,2`, "", false},
		{"truncated after open brace", "$request.body.action", `{`, "", false},
		{"malformed after the field still found", "$request.body.action", `{"action":"x",!!!`, "x", true},
		{"unquoted key", "$request.body.action", `{action:"x"}`, "", false},
		{"single quotes", "$request.body.action", `{'action':'x'}`, "", false},
		{"missing colon", "$request.body.action", `{"a" 1,"action":"x"}`, "", false},
		{"missing comma", "$request.body.action", `{"a":1 "action":"x"}`, "", false},
		{"trailing comma", "$request.body.action", `{"a":1,}`, "", false},
		{"leading comma", "$request.body.action", `{,"action":"x"}`, "", false},
		{"mismatched brackets", "$request.body.action", `{"a":[1,2},"action":"x"}`, "", false},
		{"mismatched braces", "$request.body.action", `{"a":{"b":1],"action":"x"}`, "", false},
		{"bad literal", "$request.body.action", `{"a":tru,"action":"x"}`, "", false},
		{"bad number: leading zero", "$request.body.action", `{"a":01,"action":"x"}`, "", false},
		{"bad number: dot", "$request.body.action", `{"a":1.,"action":"x"}`, "", false},
		{"bad number: exponent", "$request.body.action", `{"a":1e,"action":"x"}`, "", false},
		{"bad number: plus", "$request.body.action", `{"a":+1,"action":"x"}`, "", false},
		{"bad number: minus alone", "$request.body.action", `{"a":-,"action":"x"}`, "", false},
		{"bad escape before", "$request.body.action", `{"a":"\x","action":"x"}`, "", false},
		{"bad unicode escape", "$request.body.action", `{"action":"\u12g4"}`, "", false},
		{"raw newline in value", "$request.body.action", "{\"action\":\"a\nb\"}", "", false},
		{"raw control in key", "$request.body.action", "{\"a\x01\":1,\"action\":\"x\"}", "", false},
		{"array missing comma", "$request.body.action", `{"a":[1 2],"action":"x"}`, "", false},

		// Depth.
		{"deep array skipped", "$request.body.action", `{"a":` + deep(routes.MaxDepth-1, "") + `,"action":"x"}`, "x", true},
		{"too deep array", "$request.body.action", `{"a":` + deep(routes.MaxDepth, "") + `,"action":"x"}`, "", false},
		{"very deep, unterminated", "$request.body.action", `{"a":` + strings.Repeat("[", 1<<20), "", false},
		{"very deep objects", "$request.body.action", `{"a":` + strings.Repeat(`{"a":`, 1<<16), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPath(t, tt.expr)
			got, ok := p.Lookup([]byte(tt.body))
			if ok != tt.ok || string(got) != tt.want {
				t.Fatalf("Lookup(%.80q) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLookupZeroPath(t *testing.T) {
	var p routes.Path
	if v, ok := p.Lookup([]byte(`{"":""}`)); ok {
		t.Fatalf("the zero Path found %q", v)
	}
}

// An unescaped value is a window on the body; an escaped one is a copy.
func TestLookupAliasing(t *testing.T) {
	p := mustPath(t, "$request.body.v")
	tests := []struct {
		name  string
		body  string
		alias bool
	}{
		{"ASCII", `{"v":"plain"}`, true},
		{"valid UTF-8", `{"v":"日本"}`, true},
		{"escaped", `{"v":"a\nb"}`, false},
		{"invalid UTF-8", "{\"v\":\"\xff\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			v, ok := p.Lookup(body)
			if !ok || len(v) == 0 {
				t.Fatalf("Lookup = %q, %v", v, ok)
			}
			start := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
			at := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
			if inBody := at >= start && at < start+uintptr(len(body)); inBody != tt.alias {
				t.Fatalf("value in body = %v, want %v", inBody, tt.alias)
			}
		})
	}
}

// Lookup reads no further than the end of the value.
func TestLookupEnd(t *testing.T) {
	body := []byte(`{"a":{"b":"x\"y"}, garbage`)
	v, end, ok := routes.LookupEnd(mustPath(t, "$request.body.a.b"), body)
	if !ok || string(v) != `x"y` || string(body[:end]) != `{"a":{"b":"x\"y"` {
		t.Fatalf("lookup = %q, end %d (%q), %v", v, end, body[:max(end, 0)], ok)
	}
}
