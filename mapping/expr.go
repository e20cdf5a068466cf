package mapping

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// varKind is where a part of an expression takes its value from.
type varKind uint8

const (
	kLiteral      varKind = iota // static text
	kReqHeader                   // $request.header.<name>
	kReqQuery                    // $request.querystring.<name>
	kReqPathParam                // $request.path.<name>
	kReqPath                     // $request.path
	kReqBody                     // $request.body
	kReqBodyPath                 // $request.body.<path>
	kContext                     // $context.<name>
	kClaim                       // $context.authorizer.claims.<name>
	kRespHeader                  // $response.header.<name>
	kRespStatus                  // $response.statuscode
	kRespBody                    // $response.body
	kRespBodyPath                // $response.body.<path>
)

// raw reports whether the value is already raw path text (percent-encoded,
// as the client sent it), which overwrite:path inserts as it is; every
// other value is escaped into one path segment.
func (k varKind) raw() bool { return k == kReqPath || k == kReqPathParam }

// part is a piece of an expression: static text or one variable.
type part struct {
	kind varKind
	text string // the literal; the header name (canonical), query name, path parameter, context name, claim name or body path
}

// expr is a compiled parameter value.
type expr struct {
	parts []part // adjacent literals merged; empty for ""
}

// static reports whether the expression has no variables, and its value.
func (e *expr) static() (string, bool) {
	switch {
	case len(e.parts) == 0:
		return "", true
	case len(e.parts) == 1 && e.parts[0].kind == kLiteral:
		return e.parts[0].text, true
	}
	return "", false
}

// parseExpr compiles a parameter value. response allows $response
// variables.
func parseExpr(s string, response bool) (*expr, error) {
	e := &expr{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			e.parts = append(e.parts, part{kind: kLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				j = len(s) - i
			}
			lit.WriteString(s[i : i+j])
			i += j
			continue
		}
		var ref string
		var braced bool
		switch {
		case i+1 < len(s) && s[i+1] == '$':
			lit.WriteByte('$')
			i += 2
			continue
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%q at offset %d has no closing }", "${", i)
			}
			ref, braced = s[i+2:i+2+end], true
			i += 2 + end + 1
		case i+1 < len(s) && isLetter(s[i+1]):
			ref = scanRef(s[i+1:])
			i += 1 + len(ref)
		default: // "$5", "$ ", a final "$": a literal dollar sign
			lit.WriteByte('$')
			i++
			continue
		}
		p, err := parseVar(ref, response)
		if err != nil {
			if braced {
				ref = "{" + ref + "}"
			}
			return nil, fmt.Errorf("$%s: %w", ref, err)
		}
		flush()
		e.parts = append(e.parts, p)
	}
	flush()
	return e, nil
}

// scanRef returns the variable reference at the start of s (just after the
// '$'), without braces: name characters (letters, digits, '-', '_'), with
// '.' and "[n]" continuing it only when a name character or an index
// follows. So "$request.header.x-id." ends before the final dot, and
// "$request.body.items[0].id" is one reference.
func scanRef(s string) string {
	i := 0
	for i < len(s) && isNameChar(s[i]) {
		i++
	}
	for i < len(s) {
		switch {
		case s[i] == '.' && i+1 < len(s) && isNameChar(s[i+1]):
			i++
			for i < len(s) && isNameChar(s[i]) {
				i++
			}
		case s[i] == '[':
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j == i+1 || j == len(s) || s[j] != ']' {
				return s[:i]
			}
			i = j + 1
		default:
			return s[:i]
		}
	}
	return s
}

var errResponseOnly = errors.New("$response variables exist only in response_parameters and response_template")

// parseVar compiles one variable reference such as "request.header.x-id".
func parseVar(ref string, response bool) (part, error) {
	root, rest, _ := strings.Cut(ref, ".")
	switch root {
	case "request":
		kind, name, hasName := strings.Cut(rest, ".")
		switch kind {
		case "header":
			if !validToken(name) {
				return part{}, errors.New("want $request.header.<name> with a valid header name")
			}
			return part{kReqHeader, textproto.CanonicalMIMEHeaderKey(name)}, nil
		case "querystring":
			if err := checkName(name); err != nil {
				return part{}, fmt.Errorf("want $request.querystring.<name>: %w", err)
			}
			return part{kReqQuery, name}, nil
		case "path":
			if !hasName {
				return part{kind: kReqPath}, nil
			}
			if err := checkName(name); err != nil {
				return part{}, fmt.Errorf("want $request.path or $request.path.<parameter>: %w", err)
			}
			return part{kReqPathParam, name}, nil
		case "body":
			if !hasName {
				return part{kind: kReqBody}, nil
			}
			if err := checkPath(name); err != nil {
				return part{}, err
			}
			return part{kReqBodyPath, name}, nil
		}
		return part{}, errors.New("unknown variable: want $request.header.<name>, $request.querystring.<name>, $request.path, $request.path.<parameter>, $request.body or $request.body.<path>")
	case "context":
		if claim, ok := strings.CutPrefix(rest, "authorizer.claims."); ok {
			if err := checkName(claim); err != nil {
				return part{}, fmt.Errorf("want $context.authorizer.claims.<name>: %w", err)
			}
			return part{kClaim, claim}, nil
		}
		if err := checkName(rest); err != nil || rest == "authorizer.claims" {
			return part{}, errors.New("want $context.<name>, such as $context.requestId, or $context.authorizer.claims.<name>")
		}
		return part{kContext, rest}, nil
	case "response":
		if !response {
			return part{}, errResponseOnly
		}
		kind, name, hasName := strings.Cut(rest, ".")
		switch {
		case kind == "header" && validToken(name):
			return part{kRespHeader, textproto.CanonicalMIMEHeaderKey(name)}, nil
		case kind == "statuscode" && !hasName:
			return part{kind: kRespStatus}, nil
		case kind == "body" && !hasName:
			return part{kind: kRespBody}, nil
		case kind == "body":
			if err := checkPath(name); err != nil {
				return part{}, err
			}
			return part{kRespBodyPath, name}, nil
		}
		return part{}, errors.New("unknown variable: want $response.header.<name>, $response.statuscode, $response.body or $response.body.<path>")
	case "stageVariables":
		return part{}, errors.New("stage variables are not supported; use a static value or a $context variable")
	}
	return part{}, errors.New("unknown variable: want $request..., $context... or $response...; write $$ for a literal $")
}

// checkName accepts a non-empty name without control characters.
func checkName(name string) error {
	if name == "" {
		return errors.New("the name is missing")
	}
	if hasCTL(name) {
		return errors.New("the name contains a control character")
	}
	return nil
}

func isLetter(c byte) bool   { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isNameChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '-' || c == '_' }

// hasCTL reports whether s has an ASCII control character.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// validToken reports whether s is an HTTP token (RFC 9110 5.6.2), the
// syntax of a header name.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLetter(c) || isDigit(c) {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			continue
		}
		return false
	}
	return true
}

// eval appends the expression's value to dst. With path set, values other
// than raw path text are escaped into a path segment.
func (e *expr) eval(dst []byte, st *state, path bool) []byte {
	for _, p := range e.parts {
		if p.kind == kLiteral {
			dst = append(dst, p.text...)
			continue
		}
		v := st.lookup(p)
		if path && !p.kind.raw() {
			dst = appendPathEscaped(dst, v)
		} else {
			dst = append(dst, v...)
		}
	}
	return dst
}

// value is the expression's value as a string; it allocates only for an
// expression of several parts.
func (e *expr) value(st *state, path bool) string {
	switch {
	case len(e.parts) == 0:
		return ""
	case len(e.parts) == 1 && e.parts[0].kind == kLiteral:
		return e.parts[0].text
	case len(e.parts) == 1 && (!path || e.parts[0].kind.raw()):
		return st.lookup(e.parts[0])
	}
	st.scratch = e.eval(st.scratch[:0], st, path)
	return string(st.scratch)
}
