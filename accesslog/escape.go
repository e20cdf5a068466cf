package accesslog

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// text is what the escapers accept: a string from an Entry, or the bytes of
// a claim rendered as JSON.
type text interface{ ~string | ~[]byte }

// decodeRune is utf8.DecodeRune for either kind of text, without
// converting (and so allocating) a []byte to a string.
func decodeRune[S text](s S) (rune, int) {
	var p [utf8.UTFMax]byte
	n := copy(p[:], s)
	return utf8.DecodeRune(p[:n])
}

// escapeRule is how appendEscaped writes what it must escape. Under
// either rule '"' and '\' get a backslash, \n \r \t are written as such,
// and no other control character (C0, DEL or C1) nor any invalid UTF-8 is
// copied, so a value never breaks the line or a quoted field and never
// reaches a log viewer's terminal raw. Everything else, including all
// other Unicode, is copied as is.
type escapeRule uint8

const (
	// escapeJSON writes the inside of a JSON string, without the quotes,
	// as encoding/json would: another control character as \u00HH, each
	// byte of invalid UTF-8 as \ufffd; and U+2028 and U+2029, which end a
	// line in JavaScript, as \u2028 and \u2029.
	escapeJSON escapeRule = iota
	// escapeText writes a text (non-JSON) line the way Apache httpd
	// escapes its access log: another control character, and each byte of
	// invalid UTF-8, as \xHH (a C1 control as the \xHH of both its bytes).
	escapeText
)

// escapes reports whether the rule escapes r, a rune decoded from size
// bytes starting with a non-ASCII byte (so utf8.RuneError of size 1 is an
// invalid byte).
func (rule escapeRule) escapes(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1, r >= 0x80 && r <= 0x9f:
		return true
	case r == '\u2028' || r == '\u2029':
		return rule == escapeJSON
	}
	return false
}

// appendEscaped appends s escaped by rule.
func appendEscaped[S text](b []byte, s S, rule escapeRule) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		r, size := rune(c), 1
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
		} else if r, size = decodeRune(s[i:]); !rule.escapes(r, size) {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case rule == escapeText:
			for j := i; j < i+size; j++ {
				b = appendHexByte(b, s[j])
			}
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// appendJSONContent appends s escaped as the inside of a JSON string,
// without the quotes (see escapeJSON).
func appendJSONContent[S text](b []byte, s S) []byte { return appendEscaped(b, s, escapeJSON) }

// appendTextContent appends s escaped for a text line (see escapeText).
func appendTextContent[S text](b []byte, s S) []byte { return appendEscaped(b, s, escapeText) }

func appendHexByte(b []byte, c byte) []byte {
	return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
}

// clfLayout is $context.requestTime's layout, Amazon's CLF time.
const clfLayout = "02/Jan/2006:15:04:05 -0700"

// appendCLF appends t in UTC as Amazon's $context.requestTime does
// ("02/Jan/2006:15:04:05 +0000"), by hand for the years anyone logs and
// through time.AppendFormat for the others.
func appendCLF(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, clfLayout)
	}
	hour, minute, sec := t.Clock()
	b = append2(b, day)
	b = append(b, '/')
	b = append(b, month.String()[:3]...)
	b = append(b, '/')
	b = append2(b, year/100)
	b = append2(b, year%100)
	b = append(b, ':')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ':')
	b = append2(b, sec)
	return append(b, " +0000"...)
}

// append2 appends n (0 to 99) as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendMillis appends d in milliseconds, rounded to the microsecond, with
// no trailing zeros after the point: 12ms is "12", 1.5ms "1.5", 312µs
// "0.312". It is always a valid JSON number.
func appendMillis(b []byte, d time.Duration) []byte {
	u := uint64(d) // two's complement: right for d ≥ 0, fixed below otherwise
	if d < 0 {
		u = uint64(-d) // math.MinInt64 too: its negation wraps to 1<<63 as a uint64
	}
	us := (u + 500) / 1000
	if d < 0 && us != 0 {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, us/1000, 10)
	frac := us % 1000
	if frac == 0 {
		return b
	}
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// appendFloat appends f as encoding/json writes a float64, so a numeric
// claim such as "exp" prints 1700000000, not 1.7e+09. ok is false for NaN
// and infinities, which JSON cannot hold.
func appendFloat(b []byte, f float64, bits int) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
