package protocol

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Headers the gateway sets on what it sends to backends.
const (
	// HeaderEventType is EventConnect, EventMessage or EventDisconnect.
	HeaderEventType = "Gatecast-Event-Type"
	// HeaderConnectionID is the connection's id (see ConnectionID).
	HeaderConnectionID = "Gatecast-Connection-Id"
	// HeaderRouteKey is the route the event was routed by ($connect,
	// $default, or a configured key).
	HeaderRouteKey = "Gatecast-Route-Key"
	// HeaderRequestID is unique per event, for logs and tracing.
	HeaderRequestID = "Gatecast-Request-Id"
	// HeaderNode is the id of the gateway node holding the connection.
	HeaderNode = "Gatecast-Node"
	// HeaderSourceIP is the client's IP address.
	HeaderSourceIP = "Gatecast-Source-Ip"
	// HeaderConnectedAt is when the connection was accepted, Unix ms.
	HeaderConnectedAt = "Gatecast-Connected-At"
	// HeaderReceivedAt is when the gateway received the event, Unix ms.
	HeaderReceivedAt = "Gatecast-Received-At"
	// HeaderMessageType is MessageText or MessageBinary, on messages in
	// both directions. Absent means text.
	HeaderMessageType = "Gatecast-Message-Type"
	// HeaderCloseCode and HeaderCloseReason describe how a connection
	// ended (on EventDisconnect) or how to close it (on a close command).
	HeaderCloseCode   = "Gatecast-Close-Code"
	HeaderCloseReason = "Gatecast-Close-Reason"
	// HeaderClaims carries the verified token claims as JSON, once
	// authentication is configured.
	HeaderClaims = "Gatecast-Claims"
	// HeaderStatus is an HTTP-style status code on replies: a backend's
	// verdict on $connect, "204" for "send nothing back" on a route
	// response, and the gateway's answer to commands.
	HeaderStatus = "Gatecast-Status"
	// HeaderError is a human-readable reason next to a non-2xx status.
	HeaderError = "Gatecast-Error"
	// HeaderExclude, on a topic publish, names a connection id that should
	// not receive it (typically the sender).
	HeaderExclude = "Gatecast-Exclude-Connection"
)

// Event types.
const (
	EventConnect    = "CONNECT"
	EventMessage    = "MESSAGE"
	EventDisconnect = "DISCONNECT"
)

// Message types.
const (
	MessageText   = "text"
	MessageBinary = "binary"
)

// Commands on a connection, the last token of its command subject.
const (
	CommandSend  = "send"
	CommandClose = "close"
	CommandInfo  = "info"
	CommandJoin  = "join"
	CommandLeave = "leave"
)

// DefaultPrefix is the first subject token unless configured otherwise.
const DefaultPrefix = "gatecast"

// ConnectionID names one connection on one gateway node: "<node>-<16 hex
// digits>". Backends treat it as an opaque string.
type ConnectionID struct {
	Node string
	N    uint64
}

func (id ConnectionID) String() string {
	return id.Node + "-" + fmt.Sprintf("%016x", id.N)
}

// ErrBadConnectionID is returned by ParseConnectionID.
var ErrBadConnectionID = errors.New("protocol: malformed connection id; want <node>-<16 hex digits>")

// ParseConnectionID reads a connection id. It never lets characters that
// are special in NATS subjects through, so a parsed id is safe to put in a
// subject.
func ParseConnectionID(s string) (ConnectionID, error) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || len(s)-i-1 != 16 || !ValidNode(s[:i]) {
		return ConnectionID{}, ErrBadConnectionID
	}
	n, err := strconv.ParseUint(s[i+1:], 16, 64)
	if err != nil {
		return ConnectionID{}, ErrBadConnectionID
	}
	return ConnectionID{Node: s[:i], N: n}, nil
}

// ValidNode reports whether s can be a node id: 1 to 64 letters, digits
// or underscores.
func ValidNode(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ValidTopic reports whether name can be a topic: 1 to 128 bytes of
// letters, digits, '_', '-', ':', with dots only between non-empty parts.
// A topic is one or more subject tokens, never a wildcard.
func ValidTopic(name string) bool {
	if len(name) == 0 || len(name) > 128 || name[0] == '.' || name[len(name)-1] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == ':':
		case c == '.':
			if name[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Subjects builds the subjects under one prefix.
type Subjects struct {
	Prefix string
}

// Command is the subject of a command on a connection: it reaches only
// the node holding it.
func (s Subjects) Command(id ConnectionID, command string) string {
	return fmt.Sprintf("%s.conn.%s.%016x.%s", s.Prefix, id.Node, id.N, command)
}

// NodeCommands is the wildcard a node subscribes to for the commands on
// its connections.
func (s Subjects) NodeCommands(node string) string {
	return s.Prefix + ".conn." + node + ".>"
}

// Topic is the subject that publishes to every member of a topic, on
// every node.
func (s Subjects) Topic(name string) string { return s.Prefix + ".topic." + name }

// TopicCount is the subject every node with members of a topic answers
// (body: the topic name) with its member count.
func (s Subjects) TopicCount() string { return s.Prefix + ".api.topics.count" }

// Replies is the wildcard a node subscribes to for backend replies to the
// requests it sent; ReplyTo is one such reply subject.
func (s Subjects) Replies(node string) string { return s.Prefix + ".reply." + node + ".>" }

// ReplyTo is the reply subject of request n from node.
func (s Subjects) ReplyTo(node string, n uint64) string {
	return s.Prefix + ".reply." + node + "." + strconv.FormatUint(n, 36)
}

// ParseCommand splits a command subject received by a node into the
// connection number and the command. ok is false for anything else.
func (s Subjects) ParseCommand(node, subject string) (n uint64, command string, ok bool) {
	rest, found := strings.CutPrefix(subject, s.Prefix+".conn."+node+".")
	if !found {
		return 0, "", false
	}
	hex, cmd, found := strings.Cut(rest, ".")
	if !found || len(hex) != 16 || strings.Contains(cmd, ".") {
		return 0, "", false
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	return n, cmd, err == nil
}

// TopicCountReply is a node's answer on TopicCount.
type TopicCountReply struct {
	Node    string `json:"node"`
	Members int    `json:"members"`
}

// ConnectionInfo is the answer to CommandInfo and to
// GET /@connections/{id}.
type ConnectionInfo struct {
	ConnectionID string         `json:"connectionId"`
	ConnectedAt  string         `json:"connectedAt"` // RFC 3339, UTC
	LastActiveAt string         `json:"lastActiveAt"`
	Identity     Identity       `json:"identity"`
	Topics       []string       `json:"topics"`
	Claims       map[string]any `json:"claims,omitempty"`
}

// Identity is who the client is, as the gateway saw it.
type Identity struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent,omitempty"`
}

// ConnectRequest is the body of an EventConnect message: the upgrade
// request as the gateway received it.
type ConnectRequest struct {
	Path     string              `json:"path"`
	Query    string              `json:"query,omitempty"`
	Headers  map[string][]string `json:"headers"`
	SourceIP string              `json:"sourceIp"`
	Protocol string              `json:"protocol,omitempty"`
}
