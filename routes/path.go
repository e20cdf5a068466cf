package routes

import (
	"strings"
	"unicode/utf8"
)

// BodyPrefix starts every expression that names a field of a message body.
const BodyPrefix = "$request.body."

// Limits on field paths.
const (
	// MaxPathFields is how many dotted fields a path may have.
	MaxPathFields = 8
	// MaxExpressionBytes is the longest expression ParsePath accepts.
	MaxExpressionBytes = 256
)

// Path is a parsed "$request.body.a.b" expression: the string field b of the
// object a of a JSON message body. The zero Path matches nothing. A Path is a
// small value that holds no pointers into anything but its expression, and
// is safe to copy and to use from any number of goroutines.
type Path struct {
	expr   string
	n      int
	fields [MaxPathFields]string // substrings of expr
}

// ParsePath parses an expression of the form "$request.body.<field>[.<field>...]":
// at most 8 non-empty field names, each valid UTF-8 without dots,
// whitespace, control characters, '[', ']' or '*' (the last three are kept
// for array indexes and wildcards, which are not supported). Errors match
// ErrExpression.
func ParsePath(expr string) (Path, error) {
	if len(expr) > MaxExpressionBytes {
		return Path{}, &exprError{expr, "is longer than 256 bytes"}
	}
	rest, ok := strings.CutPrefix(expr, BodyPrefix)
	if !ok || rest == "" {
		return Path{}, &exprError{expr, `must be "$request.body." followed by a field name, such as "$request.body.action"`}
	}
	if !utf8.ValidString(rest) {
		return Path{}, &exprError{expr, "is not valid UTF-8"}
	}
	p := Path{expr: expr}
	for {
		field, more, found := strings.Cut(rest, ".")
		if field == "" {
			return Path{}, &exprError{expr, "has an empty field name (a dot at the end or two in a row)"}
		}
		if p.n == MaxPathFields {
			return Path{}, &exprError{expr, "has more than 8 field names"}
		}
		if i := strings.IndexFunc(field, badFieldRune); i >= 0 {
			return Path{}, &exprError{expr, "has a field name with whitespace, a control character, '[', ']' or '*'; use plain field names joined by dots"}
		}
		p.fields[p.n] = field
		p.n++
		if !found {
			return p, nil
		}
		rest = more
	}
}

func badFieldRune(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xa0, '[', ']', '*', 0x7f:
		return true
	}
	return r < 0x20
}

// String returns the expression p was parsed from.
func (p Path) String() string { return p.expr }

// IsZero reports whether p is the zero Path, which matches nothing.
func (p Path) IsZero() bool { return p.n == 0 }

// Lookup finds p's field in body, a JSON object, and returns its value if
// that value is a string. It scans instead of decoding: values before the
// field are checked and skipped, and nothing after the field is read, so a
// body that is malformed only after the field still yields it.
//
// The value is the string's contents without quotes. When they contain no
// escapes and are valid UTF-8 it is a sub-slice of body (valid only as long
// as body is); otherwise it is a new slice with escapes resolved, surrogate
// pairs joined, and lone surrogates and invalid UTF-8 replaced by U+FFFD,
// exactly as encoding/json reads it. That is the only case that allocates.
//
// Field names are compared after the same unescaping, so "act\u0069on"
// matches action. When an object repeats a name, the first occurrence wins
// (encoding/json keeps the last). Lookup reports false when body is not an
// object, when a field on the path is missing or not an object, when the
// field is not a string, when the JSON is malformed before the field, and
// when the field is nested more than 256 levels deep.
func (p Path) Lookup(body []byte) (value []byte, ok bool) {
	value, _, ok = p.lookup(body)
	return value, ok
}

// lookup is Lookup that also returns the index just past the value.
func (p Path) lookup(b []byte) ([]byte, int, bool) {
	if p.n == 0 {
		return nil, -1, false
	}
	i := skipSpace(b, 0)
	for level := 0; ; level++ {
		// An object starts here; look for fields[level] in it.
		if i >= len(b) || b[i] != '{' {
			return nil, -1, false
		}
		want := p.fields[level]
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return nil, -1, false
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, -1, false
			}
			start := i
			var flags uint8
			if i, flags = scanString(b, i); i < 0 {
				return nil, -1, false
			}
			match := equalText(b[start+1:i-1], flags, want)
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return nil, -1, false
			}
			i = skipSpace(b, i+1)
			if match {
				break
			}
			if i = skipValue(b, i, level+1); i < 0 {
				return nil, -1, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ',' {
				return nil, -1, false // '}': the field is absent; anything else: malformed
			}
			i = skipSpace(b, i+1)
		}
		if level < p.n-1 {
			continue // the value must be the next object on the path
		}
		if i >= len(b) || b[i] != '"' {
			return nil, -1, false
		}
		end, flags := scanString(b, i)
		if end < 0 {
			return nil, -1, false
		}
		return text(b[i+1:end-1], flags), end, true
	}
}
