package routes

import (
	"strings"
	"unicode/utf8"
)

// Length limits.
const (
	// MaxSubjectBytes is the longest NATS subject a route may use.
	MaxSubjectBytes = 256
	// MaxTopicBytes is the longest topic name a client may name.
	MaxTopicBytes = 128
	// MaxKeyBytes is the longest route key, as in Amazon API Gateway.
	MaxKeyBytes = 128
)

// isTokenByte reports whether c may appear in a route key that doubles as a
// subject token: ASCII letters, digits, '_' and '-'.
func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// validToken reports whether s can be used as one subject token as it is.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// tokenize makes a subject token out of s for suggestions in error
// messages: every byte that may not appear in a token becomes '_'.
func tokenize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isTokenByte(c) {
			b[i] = '_'
		}
	}
	if len(b) > MaxKeyBytes {
		b = b[:MaxKeyBytes]
	}
	if len(b) == 0 {
		return "route"
	}
	return string(b)
}

// subjectProblem says what keeps s from being a literal NATS subject, or
// returns "" if it is one. NATS itself allows '*' and '>' inside a longer
// token, but a subject that looks like a wildcard is refused here all the
// same: an operator reading the config should never have to wonder.
func subjectProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > MaxSubjectBytes:
		return "is longer than 256 bytes"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '*' || c == '>':
			return "contains a wildcard"
		case c <= ' ' || c == 0x7f:
			return "contains whitespace or a control character"
		}
	}
	switch {
	case s[0] == '.' || s[len(s)-1] == '.':
		return "starts or ends with a dot"
	case strings.Contains(s, ".."):
		return "has an empty token (two dots in a row)"
	}
	return ""
}

// isTopicByte reports whether c may appear in a topic token.
func isTopicByte(c byte) bool { return isTokenByte(c) || c == ':' }

// ValidTopic reports whether name is a topic name a client may use: 1 to 128
// bytes of ASCII letters, digits, '_', '-' and ':', with dots only between
// non-empty segments. A topic is thus one or more literal NATS tokens and
// never a wildcard.
func ValidTopic(name string) bool { return validTopic(name) }

func validTopic[T string | []byte](s T) bool {
	if len(s) == 0 || len(s) > MaxTopicBytes {
		return false
	}
	dot := true // a leading dot is as wrong as two in a row
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if dot {
				return false
			}
			dot = true
		case isTopicByte(c):
			dot = false
		default:
			return false
		}
	}
	return !dot
}

// validTopicPrefix reports whether p can start a valid topic: topic bytes
// and dots, no leading dot, no empty segment; it may end in a dot ("room.")
// or in the middle of a segment ("room-"). The empty prefix allows every
// topic.
func validTopicPrefix(p string) bool {
	if len(p) > MaxTopicBytes {
		return false
	}
	dot := true
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '.':
			if dot {
				return false
			}
			dot = true
		case isTopicByte(c):
			dot = false
		default:
			return false
		}
	}
	return true
}
