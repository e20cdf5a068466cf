package routes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatecast/gatecast/routes"
)

// FuzzPathLookup checks the scanner against encoding/json.
//
//   - It never panics (and, being iterative, never loops: every step moves
//     forward).
//   - A found value is valid UTF-8, the scan stopped inside the body, and
//     nothing after the value matters.
//   - Soundness: when Lookup finds a value, the body up to the value, closed
//     with one brace per path field, is valid JSON in which encoding/json
//     finds the same string. So everything the scanner accepted on its way is
//     JSON, and it read keys and the value exactly as encoding/json does.
//   - Completeness: when the whole body is valid JSON without repeated keys
//     (where the two differ on purpose), Lookup agrees with encoding/json.
func FuzzPathLookup(f *testing.F) {
	for _, s := range []struct{ expr, body string }{
		{"$request.body.action", `{"action":"sendmessage","data":"hello"}`},
		{"$request.body.action", `{"data":{"action":"x"},"action":"y"}`},
		{"$request.body.a.b", `{"a":{"b":"c\"d\\e\u00e9\ud83d\ude00"}}`},
		{"$request.body.act\u00efon", `{"act\u00efon":"1","x":[1,2.5e3,true,false,null,{},[]]}`},
		{"$request.body.v", "{\"v\":\"\xff\xfe\"}"},
		{"$request.body.v", `{"v":"\ud800\udbff\udc00"}`},
		{"$request.body.action", `[{"action":"x"}]`},
		{"$request.body.action", `{"action":"x"`},
		{"$request.body.action", `{"a":[[[[[[{"b":[]}]]]]]],"action":-0.0E+1}`},
	} {
		f.Add(s.expr, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, expr string, body []byte) {
		p, err := routes.ParsePath(expr)
		if err != nil {
			p, _ = routes.ParsePath("$request.body.action")
		}
		n := len(routes.Fields(p))
		v, end, ok := routes.LookupEnd(p, body)
		if v2, ok2 := p.Lookup(body); ok2 != ok || !bytes.Equal(v2, v) {
			t.Fatalf("Lookup = %q, %v but lookup = %q, %v", v2, ok2, v, ok)
		}

		if ok {
			if !utf8.Valid(v) {
				t.Fatalf("value %q is not valid UTF-8", v)
			}
			if end <= 0 || end > len(body) || body[end-1] != '"' {
				t.Fatalf("end %d is not just past a string in a %d-byte body", end, len(body))
			}
			for _, tail := range []string{"", "garbage", `,"x":`} {
				b := append(bytes.Clone(body[:end]), tail...)
				if v2, ok2 := p.Lookup(b); !ok2 || !bytes.Equal(v2, v) {
					t.Fatalf("Lookup read past the value: with tail %q it found %q, %v", tail, v2, ok2)
				}
			}
			closed := append(bytes.Clone(body[:end]), strings.Repeat("}", n)...)
			if !json.Valid(closed) {
				t.Fatalf("Lookup accepted %q, which closed is not JSON: %q", body[:end], closed)
			}
			want, found := jsonLookup(t, closed, routes.Fields(p))
			if !found || want != string(v) {
				t.Fatalf("in %q Lookup found %q but encoding/json %q, %v", closed, v, want, found)
			}
		}

		if !json.Valid(body) {
			return
		}
		if dups, depth := jsonShape(body); dups || depth > routes.MaxDepth {
			return
		}
		want, found := jsonLookup(t, body, routes.Fields(p))
		if found != ok || want != string(v) {
			t.Fatalf("in %q Lookup found %q, %v but encoding/json %q, %v", body, v, ok, want, found)
		}
	})
}

// jsonLookup finds the string at fields in valid JSON with encoding/json.
func jsonLookup(t *testing.T, body []byte, fields []string) (string, bool) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	for _, f := range fields {
		obj, ok := doc.(map[string]any)
		if !ok {
			return "", false
		}
		if doc, ok = obj[f]; !ok {
			return "", false
		}
	}
	s, ok := doc.(string)
	return s, ok
}

// jsonShape reports whether valid JSON repeats a key in any object, and how
// deeply it nests.
func jsonShape(body []byte) (dups bool, depth int) {
	type frame struct {
		keys    map[string]bool // nil in arrays
		wantKey bool
	}
	var stack []*frame
	valueDone := func() {
		if len(stack) > 0 && stack[len(stack)-1].keys != nil {
			stack[len(stack)-1].wantKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return dups, depth
		}
		if err != nil {
			return true, depth // not expected for valid JSON; skip the comparison
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				valueDone() // the parent's next token is a key once this closes
				fr := &frame{}
				if tok == '{' {
					fr.keys, fr.wantKey = map[string]bool{}, true
				}
				stack = append(stack, fr)
				depth = max(depth, len(stack))
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top := len(stack) - 1; top >= 0 && stack[top].keys != nil && stack[top].wantKey {
				dups = dups || stack[top].keys[tok]
				stack[top].keys[tok] = true
				stack[top].wantKey = false
				continue
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// FuzzParsePath checks that ParsePath accepts only well-formed expressions,
// and that a Path it returns finds its field in JSON that encoding/json
// writes, whatever that escapes in the names.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"$request.body.action", "$request.body.a.b.c", "$request.body.", "$request.body..a",
		"$request.body.a.", "$request.body.<&>", "$request.body.日本.ü", "$request.body.a b",
		"$request.body.1.2.3.4.5.6.7.8.9", "request.body.a", "$request.body.\u2028",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := routes.ParsePath(expr)
		if err != nil {
			if !errors.Is(err, routes.ErrExpression) || !p.IsZero() {
				t.Fatalf("ParsePath(%q) = %v, error %v: want a zero Path and ErrExpression", expr, p, err)
			}
			return
		}
		fields := routes.Fields(p)
		if p.String() != expr || len(fields) < 1 || len(fields) > routes.MaxPathFields ||
			routes.BodyPrefix+strings.Join(fields, ".") != expr || !utf8.ValidString(expr) {
			t.Fatalf("ParsePath(%q) = %q with fields %q", expr, p.String(), fields)
		}
		for _, fl := range fields {
			if fl == "" || strings.ContainsAny(fl, ". \t\r\n[]*") {
				t.Fatalf("ParsePath(%q) accepted field %q", expr, fl)
			}
		}
		if p2, err := routes.ParsePath(p.String()); err != nil || p2 != p {
			t.Fatalf("reparsing %q: %v, %v", p.String(), p2, err)
		}

		// {"f1":{"f2":..."value"}} as encoding/json writes it, with decoys
		// before it: the path inside an array, and the last field at the top.
		const value = "v\"<\u00e9>\\"
		var doc any = value
		for i := len(fields) - 1; i >= 0; i-- {
			doc = map[string]any{fields[i]: doc}
		}
		inner, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		last, _ := json.Marshal(fields[len(fields)-1])
		body := append([]byte(`{" decoy":[`+string(inner)+`],`+string(last)+`:{"x":1},`), inner[1:]...)
		if len(fields) == 1 || fields[0] == fields[len(fields)-1] {
			// The decoy would be the first match of the first field.
			body = append([]byte(`{" decoy":[`+string(inner)+`],`), inner[1:]...)
		}
		got, ok := p.Lookup(body)
		if !ok || string(got) != value {
			t.Fatalf("Lookup(%s) in %s = %q, %v; want %q", expr, body, got, ok, value)
		}
	})
}
