package waf

import "bytes"

// An HTTP body is inspected the way the backend will parse it, which its
// Content-Type says:
//
//   - application/x-www-form-urlencoded: field by field, each name and
//     value percent-decoded, as a query string.
//   - multipart/form-data: part by part, each field's name and value; of
//     a file, its name and filename but not its contents (see multipart).
//   - a binary type (images other than SVG, audio, video, fonts,
//     application/octet-stream, archives, PDF, protobuf, gRPC, MessagePack,
//     CBOR): not inspected. Read as text, a binary body looks like
//     anything: 47 of 200 random 8 KiB bodies and 5 of 50 noisy PNG and
//     JPEG images were flagged when this was measured, and a refused
//     upload is a false positive. A backend that parses such a body as
//     text should not declare it so.
//   - anything else (JSON, text/*, XML, no Content-Type at all): a body
//     that is JSON by its first byte string by string, as a WebSocket
//     message, whatever its declared type (text/plain is how a page
//     sends JSON without a CORS preflight, and many backends parse JSON
//     whatever the type says); any other body whole.
//
// Only the first InspectBytes bytes are read, whichever the type.

// CheckBody inspects an HTTP request body of the given Content-Type
// header value, as above: for a caller that reads the body apart from
// the rest of the request (CheckRequest with Request.Body does the same).
// body is the body as the backend will read it (decompressed), or at
// least its first InspectBytes bytes; it is only read, during the call.
// It returns no finding when the Firewall is nil or ModeOff.
func (f *Firewall) CheckBody(contentType string, body []byte) (Finding, bool) {
	if f == nil || f.mode == ModeOff || len(body) == 0 {
		return Finding{}, false
	}
	c := checker{f: f}
	fd, ok := c.body(bytesOf(contentType), body)
	c.release()
	return fd, ok
}

// body inspects a request body by its Content-Type value.
func (c *checker) body(contentType, body []byte) (Finding, bool) {
	mt, params := splitMediaType(contentType)
	switch {
	case equalFold(mt, "application/x-www-form-urlencoded"):
		return c.pairs(c.capped(body), "body:", "body")
	case equalFold(mt, "multipart/form-data"):
		if b := mediaParam(params, "boundary"); len(b) > 0 {
			return c.multipart(c.capped(body), b)
		}
	case opaqueType(mt):
		return Finding{}, false
	}
	return c.document(body, "body")
}

// opaqueType reports whether the media type mt is binary: a body of it
// is not text to inspect.
func opaqueType(mt []byte) bool {
	for _, p := range [...]string{"image/", "audio/", "video/", "font/", "application/grpc"} {
		if hasPrefixFold(mt, p) {
			return !equalFold(mt, "image/svg+xml") // XML text, and it can carry script
		}
	}
	for _, t := range [...]string{
		"application/octet-stream", "application/pdf", "application/wasm",
		"application/zip", "application/gzip", "application/x-gzip", "application/zstd",
		"application/x-tar", "application/x-7z-compressed", "application/vnd.rar",
		"application/protobuf", "application/x-protobuf", "application/vnd.google.protobuf",
		"application/msgpack", "application/x-msgpack", "application/vnd.msgpack", "application/cbor",
	} {
		if equalFold(mt, t) {
			return true
		}
	}
	return false
}

// multipart inspects a multipart/form-data body (RFC 7578) part by part:
// each part's field name, then for a field its value (string by string
// if it is JSON, else whole, not decoded: a browser sends it raw), and
// for a file its filename (percent-decoded, for filename*=) but not its
// contents, which are whatever the file holds and mostly binary. Lines
// may end in CRLF or LF alone, as lenient parsers accept. A body in which
// the boundary never appears is not multipart after all and is inspected
// as any other body. What lies past the cap is not read, so a part cut
// by it is inspected as far as it goes.
//
// A backend's parser may split a malformed body differently (a boundary
// inside a quoted header, a part without headers); such bodies are a
// known way around WAFs, and the backend should refuse them.
func (c *checker) multipart(body, boundary []byte) (Finding, bool) {
	i := delimiter(body, boundary, 0)
	if i < 0 {
		return c.document(body, "body")
	}
	pos := i + 2 + len(boundary)
	for {
		rest := body[pos:]
		if bytes.HasPrefix(rest, []byte("--")) {
			return Finding{}, false // the close delimiter
		}
		nl := bytes.IndexByte(rest, '\n') // past the delimiter's line
		if nl < 0 {
			return Finding{}, false
		}
		off := pos + nl + 1
		var name, filename []byte
		file := false
		for {
			nl := bytes.IndexByte(body[off:], '\n')
			if nl < 0 {
				return Finding{}, false // headers cut by the cap
			}
			line := bytes.TrimSuffix(body[off:off+nl], []byte("\r"))
			off += nl + 1
			if len(line) == 0 {
				break
			}
			colon := bytes.IndexByte(line, ':')
			if colon < 0 || !equalFold(bytes.TrimSpace(line[:colon]), "content-disposition") {
				continue
			}
			_, params := splitMediaType(line[colon+1:])
			for len(params) > 0 {
				var k, v []byte
				k, v, params = nextParam(params)
				switch {
				case equalFold(k, "name"):
					name = v
				case equalFold(k, "filename"), equalFold(k, "filename*"):
					filename, file = v, true
				}
			}
		}
		end := delimiter(body, boundary, off)
		content := body[off:]
		if end >= 0 {
			// The line break before a delimiter belongs to it.
			content = bytes.TrimSuffix(bytes.TrimSuffix(body[off:end], []byte("\n")), []byte("\r"))
		}
		if v := c.f.inspect(name); v.rule != "" {
			return v.finding(location("body:", name, "body")), true
		}
		if file {
			if needsDecode(filename, false) {
				a, _ := c.halves()
				filename = percentDecode(a, filename, false)
			}
			if v := c.f.inspect(filename); v.rule != "" {
				return v.finding(location("body:", name, "body")), true
			}
		} else if isJSON(content) {
			if fd, ok := c.document(content, "body"); ok {
				return fd, ok
			}
		} else if v := c.f.inspect(content); v.rule != "" {
			return v.finding(location("body:", name, "body")), true
		}
		if end < 0 {
			return Finding{}, false
		}
		pos = end + 2 + len(boundary)
	}
}

// delimiter returns where the first "--"+boundary that starts a line lies
// in s at or after from, or -1.
func delimiter(s, boundary []byte, from int) int {
	for from < len(s) {
		i := bytes.Index(s[from:], boundary)
		if i < 0 {
			return -1
		}
		i += from
		if i >= 2 && s[i-1] == '-' && s[i-2] == '-' && (i == 2 || s[i-3] == '\n') {
			return i - 2
		}
		from = i + 1
	}
	return -1
}

// splitMediaType cuts a header value such as a Content-Type into its
// first token ("multipart/form-data") and the parameters after it.
func splitMediaType(v []byte) (token, params []byte) {
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		return bytes.TrimSpace(v[:i]), v[i+1:]
	}
	return bytes.TrimSpace(v), nil
}

// mediaParam returns the value of the parameter name in params, or nil.
func mediaParam(params []byte, name string) []byte {
	for len(params) > 0 {
		var k, v []byte
		k, v, params = nextParam(params)
		if equalFold(k, name) {
			return v
		}
	}
	return nil
}

// nextParam cuts the first key=value off a header's parameters (RFC 9110
// 5.6.6): separated by ';', the value a token or a quoted string, which
// is returned without its quotes (its backslash escapes kept). A quoted
// value may hold ';'. An unterminated one runs to the end.
func nextParam(s []byte) (key, value, rest []byte) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == ';') {
		s = s[1:]
	}
	j := 0
	for j < len(s) && s[j] != '=' && s[j] != ';' {
		j++
	}
	key = bytes.TrimSpace(s[:j])
	if j == len(s) || s[j] == ';' {
		return key, nil, s[j:]
	}
	s = bytes.TrimLeft(s[j+1:], " \t")
	if len(s) > 0 && s[0] == '"' {
		end := 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(s) {
			return key, s[1:], nil
		}
		return key, s[1:end], s[end+1:]
	}
	e := bytes.IndexByte(s, ';')
	if e < 0 {
		e = len(s)
	}
	return key, bytes.TrimSpace(s[:e]), s[e:]
}
