package jwtauth

import (
	"fmt"
	"net/http"
	"strings"
)

// Source kinds.
const (
	// SourceHeader reads "Authorization: Bearer <token>" (the scheme in any
	// case), or the header Name when set, where "Bearer " is optional.
	SourceHeader = "header"
	// SourceQuery reads the query parameter Name, "access_token" when empty
	// (RFC 6750 section 2.3). Browsers cannot set headers on a WebSocket, so
	// this is the usual way for them; the token then shows in access logs of
	// whatever sits in front of gatecast.
	SourceQuery = "query"
	// SourceCookie reads the cookie Name, which is required.
	SourceCookie = "cookie"
	// SourceProtocol reads the token from Sec-WebSocket-Protocol, the other
	// header a browser lets a script set: the client offers the marker
	// protocol Name ("bearer" when empty) immediately followed by the token,
	//
	//	new WebSocket(url, ["bearer", token])
	//
	// which sends "Sec-WebSocket-Protocol: bearer, <token>". The handshake
	// must answer with the marker as the selected protocol (browsers fail a
	// connection whose server selects none of the offered protocols), never
	// with the token.
	SourceProtocol = "protocol"
)

// DefaultProtocolMarker is the marker of a SourceProtocol with no Name.
const DefaultProtocolMarker = "bearer"

// Source is where a route takes its token from. The zero Source is
// "Authorization: Bearer".
type Source struct {
	// Kind is SourceHeader, SourceQuery, SourceCookie or SourceProtocol;
	// empty means SourceHeader.
	Kind string
	// Name is the header, query parameter, cookie or protocol marker; see
	// the kinds for what empty means.
	Name string
}

// ParseSource reads a source as written in configuration: "header",
// "header:X-Token", "query", "query:access_token", "cookie:session",
// "protocol" or "protocol:bearer". Empty is "header".
func ParseSource(s string) (Source, error) {
	kind, name, _ := strings.Cut(s, ":")
	src := Source{Kind: strings.TrimSpace(kind), Name: strings.TrimSpace(name)}
	if src.Kind == "" && src.Name == "" {
		return Source{}, nil
	}
	switch src.Kind {
	case SourceHeader, SourceQuery, SourceProtocol:
	case SourceCookie:
		if src.Name == "" {
			return Source{}, fmt.Errorf("jwtauth: token source %q: a cookie needs its name, as in cookie:session", s)
		}
	default:
		return Source{}, fmt.Errorf("jwtauth: token source %q: want header, header:NAME, query[:NAME], cookie:NAME or protocol[:MARKER]", s)
	}
	if strings.ContainsAny(src.Name, " \t\r\n,;=\"") {
		return Source{}, fmt.Errorf("jwtauth: token source %q: the name may not hold spaces, commas, semicolons, '=' or quotes", s)
	}
	return src, nil
}

// String is the configuration form ParseSource reads.
func (s Source) String() string {
	kind := s.Kind
	if kind == "" {
		kind = SourceHeader
	}
	if s.Name == "" {
		return kind
	}
	return kind + ":" + s.Name
}

// UnmarshalText lets a Source be a YAML or JSON string.
func (s *Source) UnmarshalText(b []byte) error {
	src, err := ParseSource(string(b))
	if err != nil {
		return err
	}
	*s = src
	return nil
}

// MarshalText is the inverse of UnmarshalText.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Request is what a token is taken from: an HTTP request or a WebSocket
// upgrade parsed from the socket's bytes, without net/http types.
type Request interface {
	// Header returns the field's value, several fields of one name joined
	// by ", "; empty if absent. name is in canonical form ("Authorization",
	// "Sec-Websocket-Protocol" as net/http writes it); match it
	// case-insensitively.
	Header(name string) string
	// Query returns the decoded value of the first query parameter name.
	Query(name string) string
	// Cookie returns the value of the cookie name.
	Cookie(name string) string
}

// Token returns the token r carries where s says, and false if there is
// none. It does not allocate: the token is a substring of what r returned.
func (s Source) Token(r Request) (string, bool) {
	var tok string
	switch s.Kind {
	case SourceHeader, "":
		name := s.Name
		if name == "" {
			name = "Authorization"
		}
		v := strings.TrimSpace(r.Header(name))
		if t, ok := cutBearer(v); ok {
			tok = t
		} else if !strings.EqualFold(name, "Authorization") {
			tok = v
		}
	case SourceQuery:
		name := s.Name
		if name == "" {
			name = "access_token"
		}
		tok = r.Query(name)
	case SourceCookie:
		tok = r.Cookie(s.Name)
	case SourceProtocol:
		marker := s.Name
		if marker == "" {
			marker = DefaultProtocolMarker
		}
		tok = protocolToken(r.Header("Sec-Websocket-Protocol"), marker)
	}
	return tok, tok != ""
}

// cutBearer returns the credentials of "Bearer <token>", the scheme in any
// case (RFC 9110 section 11.1).
func cutBearer(v string) (string, bool) {
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(v[len(scheme):]), true
}

// protocolToken returns the protocol offered right after marker in a
// Sec-WebSocket-Protocol list.
func protocolToken(list, marker string) string {
	found := false
	for list != "" {
		var p string
		p, list, _ = strings.Cut(list, ",")
		p = strings.TrimSpace(p)
		if found {
			return p
		}
		found = strings.EqualFold(p, marker)
	}
	return ""
}

// HTTPRequest adapts a net/http request to Request.
func HTTPRequest(r *http.Request) Request { return httpRequest{r} }

type httpRequest struct{ r *http.Request }

func (h httpRequest) Header(name string) string {
	vs := h.r.Header.Values(name)
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs, ", ")
}

func (h httpRequest) Query(name string) string { return h.r.URL.Query().Get(name) }

func (h httpRequest) Cookie(name string) string {
	c, err := h.r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
