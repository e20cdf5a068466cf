package waf

import (
	"unsafe"

	"github.com/corazawaf/libinjection-go"
)

// The detectors are libinjection's (github.com/corazawaf/libinjection-go):
// IsSQLi tokenizes a value as SQL in every quoting context and looks the
// token fingerprint up in a list learned from real attacks; IsXSS runs an
// HTML5 tokenizer in five contexts (text and four attribute-value kinds)
// and looks for script-capable tags, attributes and URLs. They cost about
// 0.4-1 µs (IsSQLi) and 0.5-2.5 µs (IsXSS) per short value and allocate, so
// each value first goes through a byte-class pass that rules out values
// neither detector could flag:
//
//   - IsSQLi never flags a value made only of ASCII letters, digits, '_',
//     '?' and bytes >= 0x80 other than 0xA0 (which MySQL and libinjection
//     read as a space), nor one of digits, '.' and '?'. Every other byte,
//     spaces and '-' included, can start a token that changes the
//     fingerprint ("0x41-null" is flagged), and so can '.' between words
//     ("0OR.OR.0" is).
//   - IsXSS never flags a value without '<' or '='.
//
// These sets were found by generating values from SQL and HTML fragments
// and are checked against libinjection by TestPrefilterAgrees and
// FuzzPrefilter: the pass changes no verdict, it only saves the calls.
// A value that passes it costs a table lookup per byte and no allocation.

// Byte classes, one bit each, in classes.
const (
	classSQL   = 1 << iota // may change an IsSQLi verdict
	classXSS               // '<' or '=': may change an IsXSS verdict
	classColon             // ':' or '&': a javascript: URL, maybe entity-encoded
	classWord              // a letter, '_' or a byte >= 0x80: with a '.', may change an IsSQLi verdict
	classDot               // '.'
)

var classes = func() (t [256]uint8) {
	for c := range 256 {
		word := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80 && c != 0xA0
		switch {
		case word:
			t[c] |= classWord
		case '0' <= c && c <= '9', c == '?':
		case c == '.':
			t[c] |= classDot
		default:
			t[c] |= classSQL
		}
	}
	t['<'] |= classXSS
	t['='] |= classXSS
	t[':'] |= classColon
	t['&'] |= classColon
	return t
}()

// sqlCandidate: the classes seen in a value may change an IsSQLi verdict.
func sqlCandidate(seen uint8) bool {
	return seen&classSQL != 0 || seen&(classWord|classDot) == classWord|classDot
}

// verdict is what inspecting one value found.
type verdict struct {
	rule        string // "sqli" or "xss"; "" when clean
	fingerprint string
}

// inspect runs the detectors on one decoded, capped value. v is only read
// for the duration of the call: the detectors do not keep their input.
func (f *Firewall) inspect(v []byte) verdict {
	var seen uint8
	for _, c := range v {
		seen |= classes[c]
	}
	if !sqlCandidate(seen) {
		return verdict{} // '<', '=', ':' and '&' are in classSQL too
	}
	// libinjection takes strings; v is viewed as one without a copy. It is
	// not modified while the detectors run, and they keep no reference.
	s := unsafe.String(unsafe.SliceData(v), len(v))
	if f.sqli && sqlCandidate(seen) {
		if ok, fp := libinjection.IsSQLi(s); ok {
			return verdict{rule: RuleSQLi, fingerprint: fp}
		}
	}
	if f.xss {
		if seen&classXSS != 0 && libinjection.IsXSS(s) {
			return verdict{rule: RuleXSS}
		}
		if seen&classColon != 0 {
			if scheme := scriptURL(v); scheme != "" {
				return verdict{rule: RuleXSS, fingerprint: scheme}
			}
		}
	}
	return verdict{}
}

// scriptURL reports a value that is a URL a browser would run as script,
// which libinjection flags only inside an href or src it can see: a bare
// "javascript:alert(1)" in a parameter that the page puts into a link.
// The scheme is read the way a browser reads it: leading spaces and
// control bytes skipped, tabs and newlines inside it ignored, letters in
// any case, and HTML character references decoded (&#106;avascript&colon;).
// It returns the scheme ("javascript:", "vbscript:", "data:text/html") or
// "".
//
// To keep "JavaScript: the good parts" out, javascript: and vbscript: count
// only when something after the colon could run: a call or a tagged
// template ('(' or '`'), an assignment ('='), or an escape ('\\' or '&').
func scriptURL(v []byte) string {
	i := 0
	for i < len(v) && v[i] <= ' ' {
		i++
	}
	var scheme [10]byte
	n := 0
	for i < len(v) {
		c, next := refByte(v, i)
		if c == '\t' || c == '\n' || c == '\r' {
			i = next
			continue
		}
		if c == ':' || n == len(scheme) {
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c < 'a' || c > 'z' {
			return ""
		}
		scheme[n] = c
		n++
		i = next
	}
	if i >= len(v) {
		return ""
	}
	if c, _ := refByte(v, i); c != ':' {
		return ""
	}
	_, i = refByte(v, i)
	rest := v[i:]
	switch string(scheme[:n]) {
	case "javascript", "vbscript":
		for _, c := range rest {
			if c == '(' || c == '`' || c == '=' || c == '\\' || c == '&' {
				if n == len("vbscript") {
					return "vbscript:"
				}
				return "javascript:"
			}
		}
	case "data":
		for len(rest) > 0 && rest[0] <= ' ' {
			rest = rest[1:]
		}
		for _, t := range [...]string{"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml"} {
			if len(rest) >= len(t) && equalFoldASCII(rest[:len(t)], t) {
				return "data:" + t // a constant per t; allocates only on a finding
			}
		}
	}
	return ""
}

// refByte reads the byte at v[i], decoding an HTML character reference
// that stands for an ASCII byte (&#58; &#x3a; &colon; &Tab; &NewLine;,
// the ';' optional as browsers allow). It returns the byte and the index
// after it; a reference to anything else reads as its '&'.
func refByte(v []byte, i int) (byte, int) {
	c := v[i]
	if c != '&' || i+1 >= len(v) {
		return c, i + 1
	}
	j := i + 1
	if v[j] == '#' {
		j++
		hex := j < len(v) && (v[j] == 'x' || v[j] == 'X')
		if hex {
			j++
		}
		val, digits := 0, 0
		for ; j < len(v) && val < 0x100; j++ {
			d := unhex(v[j])
			if d == 0xff || (!hex && d > 9) {
				break
			}
			if hex {
				val = val<<4 | int(d)
			} else {
				val = val*10 + int(d)
			}
			digits++
		}
		if digits == 0 || val >= 0x80 {
			return c, i + 1
		}
		if j < len(v) && v[j] == ';' {
			j++
		}
		return byte(val), j
	}
	for _, r := range [...]struct {
		name string
		b    byte
	}{{"colon", ':'}, {"tab", '\t'}, {"newline", '\n'}} {
		if len(v)-j >= len(r.name) && equalFoldASCII(v[j:j+len(r.name)], r.name) {
			j += len(r.name)
			if j < len(v) && v[j] == ';' {
				j++
			}
			return r.b, j
		}
	}
	return c, i + 1
}

// equalFoldASCII compares b with the lower-case ASCII s, ignoring case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
