package waf

import "bytes"

// Decoding undoes what a server or framework undoes before an application
// reads a value, so that what is inspected is what the application sees:
// percent-encoding in the path, query and cookies ('+' as space in the
// query), and JSON string escapes in bodies and messages (json.go). HTML
// entities are not decoded: an entity-encoded tag is inert text unless the
// application decodes it itself, and libinjection already decodes
// entities where a browser would (inside URL attribute values), as the
// javascript: check here does for the scheme.

// unhex returns the value of a hex digit, or 0xff.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// needsDecode reports whether percentDecode would change s.
func needsDecode(s []byte, plus bool) bool {
	if plus && bytes.IndexByte(s, '+') >= 0 {
		return true
	}
	for i := bytes.IndexByte(s, '%'); i >= 0 && i+2 < len(s); {
		if unhex(s[i+1]) != 0xff && unhex(s[i+2]) != 0xff {
			return true
		}
		j := bytes.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// percentDecode decodes s into dst (len(dst) >= len(s)) and returns the
// decoded bytes. A '%' not followed by two hex digits is kept, as lenient
// servers do. With plus, '+' is a space (query strings and form bodies).
// If the result still holds an escape it is decoded once more, in place:
// double encoding ("%2527") gets past a filter that decodes once and into
// an application that decodes twice. Two rounds, never more, so the work
// stays linear. dst may be s itself.
func percentDecode(dst, s []byte, plus bool) []byte {
	out := decodeOnce(dst, s, plus)
	if needsDecode(out, false) {
		out = decodeOnce(out, out, false)
	}
	return out
}

func decodeOnce(dst, s []byte, plus bool) []byte {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && unhex(s[i+1]) != 0xff && unhex(s[i+2]) != 0xff:
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case c == '+' && plus:
			c = ' '
		}
		dst[n] = c
		n++
	}
	return dst[:n]
}

// cleanPath resolves p as path.Clean does, writing into dst (len(dst) >=
// len(p)+1), so that block rules see the path a router resolves: no
// empty, "." or ".." segments. p is decoded already. The result always
// starts with '/'.
func cleanPath(dst, p []byte) []byte {
	n := 0
	dst[n] = '/'
	n++
	for i := 0; i < len(p); {
		// one segment: p[i:j]
		for i < len(p) && p[i] == '/' {
			i++
		}
		j := i
		for j < len(p) && p[j] != '/' {
			j++
		}
		seg := p[i:j]
		switch {
		case len(seg) == 0, len(seg) == 1 && seg[0] == '.':
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			// drop the last segment written, never the root
			j := n - 1
			for j > 0 && dst[j] != '/' {
				j--
			}
			n = max(j, 1)
		default:
			if n > 1 && dst[n-1] != '/' {
				dst[n] = '/'
				n++
			}
			n += copy(dst[n:], seg)
		}
		i = j
	}
	return dst[:n]
}

// nextPair cuts the first name=value pair off s, a query string or a form
// body split on '&' (never ';', which Go's net/url and most frameworks no
// longer treat as a separator). name is all of the pair when it has no
// '='.
func nextPair(s []byte) (name, value, rest []byte) {
	pair := s
	if i := bytes.IndexByte(s, '&'); i >= 0 {
		pair, rest = s[:i], s[i+1:]
	}
	if i := bytes.IndexByte(pair, '='); i >= 0 {
		return pair[:i], pair[i+1:], rest
	}
	return pair, nil, rest
}

// nextCookie cuts the first name=value off a Cookie header value (RFC 6265
// 5.4: pairs split on ';', surrounding spaces trimmed, a value in double
// quotes unquoted).
func nextCookie(s []byte) (name, value, rest []byte) {
	pair := s
	if i := bytes.IndexByte(s, ';'); i >= 0 {
		pair, rest = s[:i], s[i+1:]
	}
	pair = bytes.TrimSpace(pair)
	if i := bytes.IndexByte(pair, '='); i >= 0 {
		name, value = bytes.TrimSpace(pair[:i]), bytes.TrimSpace(pair[i+1:])
	} else {
		value = pair // a bare value, as some browsers send
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return name, value, rest
}
