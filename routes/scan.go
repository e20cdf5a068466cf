package routes

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a JSON scanner that finds one field without decoding the
// document. Every function takes the body and an index and returns the index
// just past what it read, or -1 at the first byte that is not valid JSON
// where it stands. Nothing here allocates except unquote, and nothing
// recurses: nesting is tracked in a fixed bit stack, so hostile input can
// neither blow the stack nor make the scanner loop (every step moves i
// forward).

// maxDepth is how deeply nested a body may be, counted to the deepest
// container Lookup has to pass on its way to the field. Bodies nested deeper
// than that before the field are treated as not having it.
const maxDepth = 256

// strClass sorts bytes inside a JSON string.
var strClass = [256]uint8{'"': strQuote, '\\': strEscape}

const (
	strPlain uint8 = iota
	strQuote
	strEscape
	strControl
	strNonASCII
)

func init() {
	for c := 0; c < 0x20; c++ {
		strClass[c] = strControl
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		strClass[c] = strNonASCII
	}
}

// What a string's contents need before they can be used as text.
const (
	hasEscape   = 1 << iota // contains a backslash escape
	hasNonASCII             // contains bytes >= 0x80, which may be invalid UTF-8
)

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString reads the string whose opening quote is b[i] and reports what
// its contents need (hasEscape, hasNonASCII).
func scanString(b []byte, i int) (end int, flags uint8) {
	i++
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or non-ASCII; then byte by byte to the one that is.
		for i+8 <= len(b) && !specialWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && strClass[b[i]] == strPlain {
			i++
		}
		if i >= len(b) {
			return -1, 0
		}
		switch strClass[b[i]] {
		case strQuote:
			return i + 1, flags
		case strNonASCII:
			flags |= hasNonASCII
			i++
		case strControl:
			return -1, 0
		case strEscape:
			flags |= hasEscape
			if i+1 >= len(b) {
				return -1, 0
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return -1, 0
				}
				i += 6
			default:
				return -1, 0
			}
		}
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialWord reports whether any of the eight bytes in w is not strPlain:
// the classic "has a zero byte" and "has a byte less than n" tests, which
// are exact as a yes or no.
func specialWord(w uint64) bool {
	q := w ^ (lsb * '"')
	e := w ^ (lsb * '\\')
	return ((w-lsb*0x20)&^w|(q-lsb)&^q|(e-lsb)&^e|w)&msb != 0
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// nextRune decodes the character at s[j] of string contents that scanString
// has accepted, the way encoding/json does: a surrogate pair written as two
// \u escapes is one character; a lone surrogate and every byte of invalid
// UTF-8 become U+FFFD.
func nextRune(s []byte, j int) (rune, int) {
	c := s[j]
	if c < utf8.RuneSelf && c != '\\' {
		return rune(c), j + 1
	}
	if c != '\\' {
		r, size := utf8.DecodeRune(s[j:])
		return r, j + size
	}
	switch s[j+1] {
	case 'b':
		return '\b', j + 2
	case 'f':
		return '\f', j + 2
	case 'n':
		return '\n', j + 2
	case 'r':
		return '\r', j + 2
	case 't':
		return '\t', j + 2
	case 'u':
		r := hex4(s[j+2:])
		j += 6
		if !utf16.IsSurrogate(r) {
			return r, j
		}
		if j+6 <= len(s) && s[j] == '\\' && s[j+1] == 'u' {
			if d := utf16.DecodeRune(r, hex4(s[j+2:])); d != utf8.RuneError {
				return d, j + 6
			}
		}
		return utf8.RuneError, j
	default: // '"', '\\', '/'
		return rune(s[j+1]), j + 2
	}
}

// unquote returns string contents as UTF-8 text in a new slice.
func unquote(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for j := 0; j < len(s); {
		if c := s[j]; c < utf8.RuneSelf && c != '\\' {
			out = append(out, c)
			j++
			continue
		}
		var r rune
		r, j = nextRune(s, j)
		out = utf8.AppendRune(out, r)
	}
	return out
}

// text returns the contents of a string scanned with the given flags as
// text: the bytes themselves when they need nothing, otherwise a copy with
// escapes resolved and invalid UTF-8 replaced.
func text(s []byte, flags uint8) []byte {
	if flags&hasEscape == 0 && (flags&hasNonASCII == 0 || utf8.Valid(s)) {
		return s
	}
	return unquote(s)
}

// equalText reports whether string contents s, read as text, equal want.
// It decodes as it compares and so never allocates.
func equalText(s []byte, flags uint8, want string) bool {
	if flags&hasEscape == 0 && (flags&hasNonASCII == 0 || utf8.Valid(s)) {
		return string(s) == want
	}
	var buf [utf8.UTFMax]byte
	k := 0
	for j := 0; j < len(s); {
		var r rune
		r, j = nextRune(s, j)
		n := utf8.EncodeRune(buf[:], r)
		if len(want)-k < n || string(buf[:n]) != want[k:k+n] {
			return false
		}
		k += n
	}
	return k == len(want)
}

// skipMemberName reads `"name" :` starting at b[i] (after whitespace) and
// returns the index past the colon.
func skipMemberName(b []byte, i int) int {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i, _ = scanString(b, i); i < 0 {
		return -1
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return i + 1
}

func skipLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// skipNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func skipNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// skipValue reads the value at b[i] (after whitespace), which sits inside
// depth open containers.
func skipValue(b []byte, i, depth int) int {
	var isObject [maxDepth / 64]uint64 // bit k: the k-th container opened here is an object
	open := 0
	for {
		// A value starts here.
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; c {
		case '{', '[':
			if depth+open >= maxDepth {
				return -1
			}
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return -1
			}
			if c == '{' && b[i] == '}' || c == '[' && b[i] == ']' {
				i++
				break // an empty container is a whole value
			}
			if c == '{' {
				isObject[open/64] |= 1 << (open % 64)
				if i = skipMemberName(b, i); i < 0 {
					return -1
				}
			} else {
				isObject[open/64] &^= 1 << (open % 64)
			}
			open++
			continue
		case '"':
			i, _ = scanString(b, i)
		case 't':
			i = skipLiteral(b, i, "true")
		case 'f':
			i = skipLiteral(b, i, "false")
		case 'n':
			i = skipLiteral(b, i, "null")
		default:
			i = skipNumber(b, i)
		}
		if i < 0 {
			return -1
		}
		// A value ended here: close containers until one has a next element.
		for {
			if open == 0 {
				return i
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			obj := isObject[(open-1)/64]&(1<<((open-1)%64)) != 0
			c := b[i]
			if c == ',' {
				i++
				if obj {
					if i = skipMemberName(b, i); i < 0 {
						return -1
					}
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				i++
				open--
				continue
			}
			return -1
		}
	}
}
