package accesslog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// variable is what a segment of a compiled format prints.
type variable uint8

const (
	varLiteral variable = iota
	varRequestID
	varConnectionID
	varEventType
	varSourceIP
	varUserAgent
	varMethod
	varPath
	varProtocol
	varRouteKey
	varStatus
	varRequestTime
	varRequestTimeEpoch
	varResponseLength
	varResponseLatency
	varIntegrationLatency
	varIntegrationStatus
	varError
	varNode
	varClaim
)

const (
	varPrefix    = "$context."
	claimsPrefix = "authorizer.claims."
)

// variables are the names after "$context." in the order the package
// documentation lists them; error messages list them in this order too.
// Two Amazon spellings of the integration variables are aliases.
var variables = [...]struct {
	name string
	v    variable
}{
	{"requestId", varRequestID},
	{"extendedRequestId", varRequestID},
	{"connectionId", varConnectionID},
	{"eventType", varEventType},
	{"identity.sourceIp", varSourceIP},
	{"identity.userAgent", varUserAgent},
	{"httpMethod", varMethod},
	{"path", varPath},
	{"protocol", varProtocol},
	{"routeKey", varRouteKey},
	{"status", varStatus},
	{"requestTime", varRequestTime},
	{"requestTimeEpoch", varRequestTimeEpoch},
	{"responseLength", varResponseLength},
	{"responseLatency", varResponseLatency},
	{"integrationLatency", varIntegrationLatency},
	{"integration.latency", varIntegrationLatency},
	{"integrationStatus", varIntegrationStatus},
	{"integration.status", varIntegrationStatus},
	{"error.message", varError},
	{"node", varNode},
}

// mode is where a variable sits in the format, which decides how its value
// is escaped and how a missing value prints.
type mode uint8

const (
	// modeText: a text format. Values are escaped as Apache does; missing
	// ones print "-".
	modeText mode = iota
	// modeQuoted: inside a string of a JSON template. Values are
	// JSON-escaped; missing ones print "-" (so the field is "-").
	modeQuoted
	// modeBare: a value position of a JSON template. Numbers print as
	// numbers, strings as quoted JSON strings; missing values print null.
	modeBare
)

// segment is one piece of a compiled format: literal bytes or a variable.
type segment struct {
	v     variable
	mode  mode
	lit   []byte // varLiteral
	claim string // varClaim
}

// format is a compiled Config.Format. It is immutable once compiled and
// safe for concurrent use; the scratch passed to appendEntry is not.
type format struct {
	segs []segment
	json bool
}

// scratch is what rendering a non-scalar claim needs; the writer goroutine
// owns one and reuses it.
type scratch struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// compile parses src (already trimmed and defaulted) into segments. A
// JSON template is compacted onto one line and checked by rendering
// sample entries and validating them.
func compile(src string) (*format, error) {
	f := &format{json: strings.HasPrefix(src, "{")}
	if !f.json && strings.ContainsAny(src, "\r\n") {
		return nil, fmt.Errorf("%w: a text format must be one line (each entry is one line); use a JSON template, starting with '{', to spread it over several", ErrInvalidFormat)
	}
	var lit []byte
	inString, escaped := false, false
	for i := 0; i < len(src); {
		c := src[i]
		if c == '$' && !escaped && strings.HasPrefix(src[i:], varPrefix) {
			seg, n, err := parseVariable(src[i+len(varPrefix):], i)
			if err != nil {
				return nil, err
			}
			if len(lit) > 0 {
				f.segs = append(f.segs, segment{v: varLiteral, lit: lit})
				lit = nil
			}
			switch {
			case !f.json:
				seg.mode = modeText
			case inString:
				seg.mode = modeQuoted
			default:
				seg.mode = modeBare
			}
			f.segs = append(f.segs, seg)
			i += len(varPrefix) + n
			continue
		}
		i++
		if f.json {
			switch {
			case escaped:
				escaped = false
			case inString && c == '\\':
				escaped = true
			case c == '"':
				inString = !inString
			case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
				continue // compact: insignificant JSON white space
			}
		}
		lit = append(lit, c)
	}
	if len(lit) > 0 {
		f.segs = append(f.segs, segment{v: varLiteral, lit: lit})
	}
	if f.json {
		if err := f.validate(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// parseVariable parses the name after "$context." and returns its segment
// and the length of the name. The longest known name wins
// (requestTimeEpoch over requestTime), and a name must end where the word
// does: "$context.pathX" and "$context.path.x" are unknown variables, while
// "$context.path." and "$context.path-x" are the path followed by text.
// offset is where the variable starts in the format, for errors.
func parseVariable(rest string, offset int) (segment, int, error) {
	if name, ok := strings.CutPrefix(rest, claimsPrefix); ok {
		claim := claimName(name)
		if claim == "" {
			return segment{}, 0, fmt.Errorf("%w: %s%s at offset %d needs a claim name, as in %s%ssub", ErrUnknownVariable, varPrefix, claimsPrefix, offset, varPrefix, claimsPrefix)
		}
		return segment{v: varClaim, claim: claim}, len(claimsPrefix) + len(claim), nil
	}
	best := -1
	for i, kv := range variables {
		if strings.HasPrefix(rest, kv.name) && endsName(rest[len(kv.name):]) && (best < 0 || len(kv.name) > len(variables[best].name)) {
			best = i
		}
	}
	if best >= 0 {
		return segment{v: variables[best].v}, len(variables[best].name), nil
	}
	n := 0
	for n < len(rest) && (isWordByte(rest[n]) || rest[n] == '.') {
		n++
	}
	name := strings.TrimRight(rest[:n], ".")
	return segment{}, 0, fmt.Errorf("%w %q at offset %d of the format; valid variables: %s", ErrUnknownVariable, varPrefix+name, offset, validNames())
}

// endsName reports whether a variable name may end just before rest.
func endsName(rest string) bool {
	if rest == "" {
		return true
	}
	if isWordByte(rest[0]) {
		return false
	}
	return !(rest[0] == '.' && len(rest) > 1 && isWordByte(rest[1]))
}

// claimName returns the claim name at the start of s: words of ASCII
// letters, digits and '_', joined by runs of '-', '.', ':' and '/'. A
// separator is part of the name only when a word follows it, so
// "sub-$context.path" is the claim "sub", and "https://example.com/roles"
// and "cognito:username" are names.
func claimName(s string) string {
	end, i := 0, 0
	for i < len(s) {
		if !isWordByte(s[i]) {
			break
		}
		for i < len(s) && isWordByte(s[i]) {
			i++
		}
		end = i
		for i < len(s) && (s[i] == '-' || s[i] == '.' || s[i] == ':' || s[i] == '/') {
			i++
		}
	}
	return s[:end]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func validNames() string {
	var sb strings.Builder
	for _, kv := range variables {
		sb.WriteString(varPrefix)
		sb.WriteString(kv.name)
		sb.WriteString(", ")
	}
	sb.WriteString(varPrefix + claimsPrefix + "<name>")
	return sb.String()
}

// validate renders an empty entry and two full ones (every string hostile,
// claims as strings and as objects) and checks that each is valid JSON,
// so a broken template fails New rather than every line.
func (f *format) validate() error {
	const hostile = "q\"b\\s\n\r\t\x00\x1f\x7f é ☃ \u2028 \xff <&>"
	claims := map[string]any{}
	objects := map[string]any{}
	for _, s := range f.segs {
		if s.v == varClaim {
			claims[s.claim] = hostile
			objects[s.claim] = []any{hostile, 1.5, map[string]any{"k": hostile}, nil, true}
		}
	}
	full := Entry{
		RequestID: hostile, ConnectionID: hostile, EventType: hostile,
		SourceIP: hostile, UserAgent: hostile, Method: hostile, Path: hostile,
		Protocol: hostile, RouteKey: hostile, Status: 200,
		RequestTime: time.Unix(1_700_000_000, 123_000_000), ResponseLength: 1,
		ResponseLatency: 1500 * time.Microsecond, IntegrationLatency: -time.Millisecond,
		IntegrationStatus: 502, Error: hostile, Claims: claims, Node: hostile,
	}
	withObjects := full
	withObjects.Claims = objects
	var sc scratch
	for _, e := range []*Entry{{}, &full, &withObjects} {
		line := f.appendEntry(nil, e, &sc)
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			return fmt.Errorf("%w: the format starts with '{' but does not produce valid JSON (%v); it produced: %s", ErrInvalidFormat, err, line)
		}
	}
	return nil
}

// appendEntry appends e formatted, without a line end.
func (f *format) appendEntry(b []byte, e *Entry, sc *scratch) []byte {
	for i := range f.segs {
		s := &f.segs[i]
		switch s.v {
		case varLiteral:
			b = append(b, s.lit...)
		case varRequestID:
			b = s.appendString(b, e.RequestID)
		case varConnectionID:
			b = s.appendString(b, e.ConnectionID)
		case varEventType:
			b = s.appendString(b, e.EventType)
		case varSourceIP:
			b = s.appendString(b, e.SourceIP)
		case varUserAgent:
			b = s.appendString(b, e.UserAgent)
		case varMethod:
			b = s.appendString(b, e.Method)
		case varPath:
			b = s.appendString(b, e.Path)
		case varProtocol:
			b = s.appendString(b, e.Protocol)
		case varRouteKey:
			b = s.appendString(b, e.RouteKey)
		case varError:
			b = s.appendString(b, e.Error)
		case varNode:
			b = s.appendString(b, e.Node)
		case varStatus:
			b = s.appendInt(b, int64(e.Status))
		case varIntegrationStatus:
			b = s.appendInt(b, int64(e.IntegrationStatus))
		case varResponseLength:
			b = s.appendInt(b, e.ResponseLength)
		case varResponseLatency:
			b = s.appendMillis(b, e.ResponseLatency)
		case varIntegrationLatency:
			b = s.appendMillis(b, e.IntegrationLatency)
		case varRequestTimeEpoch:
			if e.RequestTime.IsZero() {
				b = s.appendMissing(b)
			} else {
				b = strconv.AppendInt(b, e.RequestTime.UnixMilli(), 10)
			}
		case varRequestTime:
			if e.RequestTime.IsZero() {
				b = s.appendMissing(b)
			} else if s.mode == modeBare {
				b = append(appendCLF(append(b, '"'), e.RequestTime), '"')
			} else {
				b = appendCLF(b, e.RequestTime)
			}
		case varClaim:
			b = s.appendClaim(b, e.Claims, sc)
		}
	}
	return b
}

func (s *segment) appendMissing(b []byte) []byte {
	if s.mode == modeBare {
		return append(b, "null"...)
	}
	return append(b, '-')
}

func (s *segment) appendString(b []byte, v string) []byte {
	switch {
	case v == "":
		return s.appendMissing(b)
	case s.mode == modeText:
		return appendTextContent(b, v)
	case s.mode == modeQuoted:
		return appendJSONContent(b, v)
	default:
		return append(appendJSONContent(append(b, '"'), v), '"')
	}
}

func (s *segment) appendInt(b []byte, n int64) []byte {
	if n == 0 {
		return s.appendMissing(b)
	}
	return strconv.AppendInt(b, n, 10)
}

func (s *segment) appendMillis(b []byte, d time.Duration) []byte {
	if d == 0 {
		return s.appendMissing(b)
	}
	return appendMillis(b, d)
}

// appendClaim appends claims[s.claim]: a string as any string variable, a
// number or boolean as JSON without allocating, anything else as JSON
// through the scratch encoder. A claim that is absent, nil, or cannot be
// JSON (NaN, a channel) is missing.
func (s *segment) appendClaim(b []byte, claims map[string]any, sc *scratch) []byte {
	v, ok := claims[s.claim]
	if !ok || v == nil {
		return s.appendMissing(b)
	}
	switch x := v.(type) {
	case string:
		return s.appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		if out, ok := appendFloat(b, x, 64); ok {
			return out
		}
		return s.appendMissing(b)
	case float32:
		if out, ok := appendFloat(b, float64(x), 32); ok {
			return out
		}
		return s.appendMissing(b)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	}
	if sc.enc == nil {
		sc.enc = json.NewEncoder(&sc.buf)
		sc.enc.SetEscapeHTML(false)
	}
	sc.buf.Reset()
	if err := sc.enc.Encode(v); err != nil {
		return s.appendMissing(b)
	}
	raw := bytes.TrimSuffix(sc.buf.Bytes(), []byte{'\n'})
	switch s.mode {
	case modeText:
		return appendTextContent(b, raw)
	case modeQuoted:
		return appendJSONContent(b, raw)
	default:
		return append(b, raw...)
	}
}
