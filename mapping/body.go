package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// A body path selects a value in a JSON document: keys separated by dots,
// array elements by index, either as a key of digits or in brackets:
// "user.name", "items.0.id", "items[0].id", "[2]". The empty path is the
// whole document. A key cannot contain '.' or '[' (Amazon's JSONPath
// quoting, recursive descent and filters are not supported).

// checkPath reports what is wrong with a body path, or nil.
func checkPath(p string) error {
	for first := true; p != ""; first = false {
		if p[0] == '[' {
			end := strings.IndexByte(p, ']')
			if end < 2 || !allDigits(p[1:end]) {
				return errors.New(`body path: "[" must hold an array index, as in items[0]`)
			}
			p = p[end+1:]
			continue
		}
		if !first {
			if p[0] != '.' {
				return errors.New(`body path: "]" must be followed by ".", "[" or the end`)
			}
			p = p[1:]
		}
		end := strings.IndexAny(p, ".[")
		if end < 0 {
			end = len(p)
		}
		if end == 0 {
			return errors.New("body path: empty key (two dots, or a dot at an end)")
		}
		if strings.IndexByte(p[:end], ']') >= 0 {
			return errors.New(`body path: "]" without "["`)
		}
		p = p[end:]
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// lookupPath finds the value at a path checkPath accepts. A null is not
// found.
func lookupPath(v any, p string) (any, bool) {
	for first := true; p != ""; first = false {
		var key string
		index := false
		if p[0] == '[' {
			end := strings.IndexByte(p, ']')
			key, p, index = p[1:end], p[end+1:], true
		} else {
			if !first {
				p = p[1:]
			}
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			key, p = p[:end], p[end:]
		}
		switch x := v.(type) {
		case map[string]any:
			if index {
				return nil, false
			}
			v = x[key]
		case []any:
			i, ok := atoi(key)
			if !ok || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// atoi parses a small array index; ok is false for anything else.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// jsonDoc is a body decoded on first use, once per request.
type jsonDoc struct {
	v          any
	ok, parsed bool
}

// root is the decoded body; ok is false when it is not one JSON value.
func (d *jsonDoc) root(body []byte) (any, bool) {
	if !d.parsed {
		d.parsed = true
		d.v, d.ok = decodeJSON(body)
	}
	return d.v, d.ok
}

func (d *jsonDoc) lookup(body []byte, path string) (any, bool) {
	v, ok := d.root(body)
	if !ok {
		return nil, false
	}
	return lookupPath(v, path)
}

// decodeJSON decodes one JSON value, keeping numbers as they were written.
func decodeJSON(b []byte) (any, bool) {
	if len(b) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// text is how a JSON (or claim) value reads when mapped: a string as it
// is, nothing for null or missing, anything else as compact JSON.
func text(v any, ok bool) string {
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	s, err := encodeJSON(v)
	if err != nil {
		return ""
	}
	return s
}

// literal is a JSON value as a JSON literal: "null" when missing.
func literal(v any, ok bool) string {
	if !ok {
		return "null"
	}
	s, err := encodeJSON(v)
	if err != nil {
		return "null"
	}
	return s
}

// encodeJSON encodes v compactly, leaving <, > and & as they are.
func encodeJSON(v any) (string, error) {
	if s, ok := v.(string); ok && plainASCII(s) {
		return `"` + s + `"`, nil // what encoding/json writes, without its encoder
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// plainASCII reports whether JSON writes s between quotes as it is:
// printable ASCII without a quote or a backslash.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// claimValue finds a claim: the name as one key, or else, for a dotted
// name, a path into nested claims ("realm_access.roles").
func claimValue(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, v != nil
	}
	if claims == nil || !strings.ContainsAny(name, ".[") || checkPath(name) != nil {
		return nil, false
	}
	return lookupPath(claims, name)
}
