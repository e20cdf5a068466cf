package protocol

import (
	"net/textproto"
	"strconv"
	"strings"
)

// EventRequest is the Gatecast-Event-Type of an HTTP request.
const EventRequest = "REQUEST"

// Headers of an HTTP request sent to a backend, next to the common ones
// (HeaderRequestID, HeaderRouteKey, HeaderNode, HeaderSourceIP,
// HeaderReceivedAt, HeaderClaims). The client's own headers travel as NATS
// headers of the same name, minus the ones HTTPHeaderForwarded refuses.
const (
	// HeaderMethod is the request method.
	HeaderMethod = "Gatecast-Method"
	// HeaderPath is the request path as the client sent it (percent-encoded).
	HeaderPath = "Gatecast-Path"
	// HeaderQuery is the raw query string, without '?'; absent when empty.
	HeaderQuery = "Gatecast-Query"
	// HeaderProtocol is the client's HTTP version: "HTTP/1.1" or
	// "HTTP/2.0".
	HeaderProtocol = "Gatecast-Protocol"
	// HeaderHost is the Host the client asked for.
	HeaderHost = "Gatecast-Host"
	// HeaderPathParams holds the route template's parameters, form-encoded
	// ("id=42&proxy=a%2Fb"); absent when the route has none.
	HeaderPathParams = "Gatecast-Path-Params"
	// HeaderStreamWindow is how many bytes of a streamed answer the
	// gateway buffers for the client: a backend may have that many bytes
	// of chunks sent and not yet acknowledged.
	HeaderStreamWindow = "Gatecast-Stream-Window"
)

// Headers of a backend's answer to an HTTP request (and of the gateway's
// stream control messages). HeaderStatus carries the HTTP status (absent:
// 200) and HeaderError a reason for the operator's log.
const (
	// HeaderStream marks a streamed answer: StreamStart, StreamChunk,
	// StreamEnd or StreamError from the backend; StreamCancel from the
	// gateway. Absent, the message is the whole answer.
	HeaderStream = "Gatecast-Stream"
	// HeaderStreamSeq numbers the messages of a stream: 0 for the start,
	// then 1, 2, ... for chunks and the end. A gap ends the stream.
	HeaderStreamSeq = "Gatecast-Stream-Seq"
	// HeaderStreamAck, from the gateway, acknowledges every stream message
	// up to this sequence number: their bytes left the gateway's buffer.
	HeaderStreamAck = "Gatecast-Stream-Ack"
	// HeaderSSEEvent and HeaderSSEID, on a chunk of a route that answers
	// with Server-Sent Events, set the event's "event:" and "id:" fields.
	HeaderSSEEvent = "Gatecast-Sse-Event"
	HeaderSSEID    = "Gatecast-Sse-Id"
)

// Values of HeaderStream.
const (
	StreamStart  = "start"
	StreamChunk  = "chunk"
	StreamEnd    = "end"
	StreamError  = "error"
	StreamCancel = "cancel"
)

// HTTPReplies is the wildcard a node subscribes to for the answers to its
// HTTP requests; HTTPReplyTo is the reply subject of request n.
func (s Subjects) HTTPReplies(node string) string { return s.Prefix + ".httpreply." + node + ".*" }

// HTTPReplyTo is the reply subject of HTTP request n from node.
func (s Subjects) HTTPReplyTo(node string, n uint64) string {
	return s.Prefix + ".httpreply." + node + "." + strconv.FormatUint(n, 36)
}

// ParseHTTPReply reads the request number from an HTTPReplyTo subject.
func ParseHTTPReply(subject string) (uint64, bool) {
	i := strings.LastIndexByte(subject, '.')
	n, err := strconv.ParseUint(subject[i+1:], 36, 64)
	return n, err == nil
}

// hopByHop are the headers of one HTTP connection, not of the message
// (RFC 9110 7.6.1), plus Content-Length, which the receiving side sets.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true,
}

// HTTPHeaderForwarded reports whether an HTTP header (canonical form)
// crosses NATS, from client to backend or backend to client. The
// gateway's own headers (Gatecast-*) and NATS' (Nats-*, Status,
// Description) are never taken from the other side, so neither a client
// nor a backend can forge metadata; hop-by-hop headers belong to one
// connection.
func HTTPHeaderForwarded(name string) bool {
	return !hopByHop[name] && !strings.HasPrefix(name, "Gatecast-") && !strings.HasPrefix(name, "Nats-") &&
		name != "Status" && name != "Description"
}

// CanonicalHeader is the canonical form of an HTTP header name.
func CanonicalHeader(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }
