package routes

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gatecast/gatecast/admission"
)

// The WebSocket route keys with a meaning of their own, as in Amazon API
// Gateway.
const (
	// KeyConnect is the route of a client's upgrade request.
	KeyConnect = "$connect"
	// KeyDisconnect is the route that hears about a closed connection.
	KeyDisconnect = "$disconnect"
	// KeyDefault is the route of every message that selects no other route.
	KeyDefault = "$default"
)

// Integration types.
const (
	// IntegrationNATS sends the message to a backend over NATS: a request
	// when the route is two-way, a publish otherwise.
	IntegrationNATS = "nats"
	// IntegrationEcho answers each message with the same message, in the
	// role of Amazon API Gateway's mock integration: health checks and tests.
	IntegrationEcho = "echo"
	// IntegrationSubscribe joins the sender to the topic the message names.
	IntegrationSubscribe = "subscribe"
	// IntegrationUnsubscribe removes the sender from the topic the message
	// names.
	IntegrationUnsubscribe = "unsubscribe"
)

// Defaults and limits of the configuration.
const (
	DefaultSubjectPrefix       = "gatecast"
	DefaultSelectionExpression = "$request.body.action"
	// DefaultTimeout is Amazon API Gateway's integration timeout.
	DefaultTimeout = 29 * time.Second
	// MaxTimeout bounds an integration timeout, which slow LLM backends may
	// raise to minutes.
	MaxTimeout = 15 * time.Minute
)

// Config is the routes section of the configuration file.
type Config struct {
	// SubjectPrefix is the first token (or tokens, "acme.gatecast") of every
	// NATS subject gatecast chooses itself. Zero means "gatecast".
	SubjectPrefix string `yaml:"subject_prefix"`
	// SelectionExpression picks the route key of a WebSocket message, in
	// Amazon's form "$request.body.<dotted.path>". Zero means
	// "$request.body.action".
	SelectionExpression string `yaml:"route_selection_expression"`
	// WebSocket maps route keys to routes. Nil means the default table:
	// $connect and $disconnect notices published to <prefix>.connect and
	// <prefix>.disconnect, and every message sent as a request to
	// <prefix>.default with the reply going back to the sender. An empty,
	// non-nil map means no routes at all: every message is refused.
	WebSocket map[string]Route `yaml:"websocket"`
	// HTTP maps HTTP route keys ("GET /users/{id}", "ANY /files/{proxy+}",
	// $default) to routes. Nil means the default table: every request sent
	// as it is to <prefix>.http.default. An empty, non-nil map means no
	// HTTP routes: every request gets 404.
	HTTP map[string]HTTPRoute `yaml:"http"`
}

// Route is one WebSocket route. In a configuration, zero fields mean the
// defaults in their comments; the routes a Table returns have every default
// filled in.
//
// A Route returned by a Table is shared by every caller and must not be
// modified.
type Route struct {
	// Integration is how the route is answered: IntegrationNATS,
	// IntegrationEcho, IntegrationSubscribe or IntegrationUnsubscribe.
	// $connect and $disconnect may only use nats. Zero means nats.
	Integration string `yaml:"integration"`
	// Subject is the literal NATS subject of a nats route (no wildcards).
	// Zero means <prefix>.connect, <prefix>.disconnect or <prefix>.default
	// for the three special keys and <prefix>.route.<key> for any other key,
	// which then must be a valid subject token (letters, digits, '_', '-').
	// Only nats routes have a subject.
	Subject string `yaml:"subject"`
	// Timeout bounds the wait for a nats backend's reply (or, streaming,
	// for its next chunk). Zero means 29 s; at most 15 min. Only nats routes
	// have a timeout; the Table reports 0 for the others.
	Timeout time.Duration `yaml:"timeout"`
	// RouteResponse makes the route two-way: the backend's reply goes back
	// to the sender. Nil means true for $default and custom keys and false
	// for $connect and $disconnect. For $connect, true means the upgrade
	// waits (within Timeout) for the backend's verdict; false means the
	// connect notice is fire-and-forget. $disconnect cannot be two-way, and
	// echo always is. For subscribe and unsubscribe it is accepted and
	// reserved for acknowledging success to the sender; failures are
	// reported either way. Read it through TwoWay.
	RouteResponse *bool `yaml:"route_response"`
	// TopicFrom says where a subscribe or unsubscribe message names its
	// topic, as "$request.body.<dotted.path>" (such as "$request.body.topic").
	// Required for those integrations, refused for the others.
	TopicFrom string `yaml:"topic_from"`
	// TopicPrefix limits a subscribe or unsubscribe route to topics that
	// start with it ("room." or "chat:"). Zero allows every valid topic.
	TopicPrefix string `yaml:"topic_prefix"`

	// WAF overrides the gateway's WAF mode for this route ("block",
	// "count" or "off"); on $connect it applies to the upgrade request.
	// Zero means the gateway's waf.mode.
	WAF string `yaml:"waf"`

	// Scopes are required of the connection's token for messages on this
	// route (auth on); others get a Forbidden error frame.
	Scopes []string `yaml:"scopes"`

	// MessageRate bounds the messages per second one connection may send
	// on this route, on top of the gateway-wide admission.message_rate.
	// Zero means no limit of its own.
	MessageRate admission.Rate `yaml:"message_rate"`

	// RateIndex numbers the routes with a MessageRate from 0, so a
	// connection can keep one meter per such route in a slice; -1 for the
	// others. New sets it.
	RateIndex int `yaml:"-"`

	// Key is the route's key. New sets it.
	Key string `yaml:"-"`
	// Topic is TopicFrom, parsed. New sets it for subscribe and unsubscribe
	// routes.
	Topic Path `yaml:"-"`

	twoWay bool
}

// TwoWay reports whether the sender gets an answer (see RouteResponse). It
// is meaningful only on routes returned by a Table.
func (r *Route) TwoWay() bool { return r.twoWay }

// TopicName returns the topic a subscribe or unsubscribe message names: the
// string at Topic in body, if it is a valid topic (see ValidTopic) that
// starts with TopicPrefix. The result is a sub-slice of body unless the
// JSON string had escapes.
func (r *Route) TopicName(body []byte) ([]byte, bool) {
	v, ok := r.Topic.Lookup(body)
	if !ok || !validTopic(v) || len(v) < len(r.TopicPrefix) || string(v[:len(r.TopicPrefix)]) != r.TopicPrefix {
		return nil, false
	}
	return v, true
}

// defaultTable is the table of a configuration without routes.
func defaultTable() map[string]Route {
	return map[string]Route{KeyConnect: {}, KeyDisconnect: {}, KeyDefault: {}}
}

// defaultSubject returns the subject a nats route gets when its
// configuration names none; ok is false when key cannot be a subject token.
func defaultSubject(prefix, key string) (subject string, ok bool) {
	switch key {
	case KeyConnect:
		return prefix + ".connect", true
	case KeyDisconnect:
		return prefix + ".disconnect", true
	case KeyDefault:
		return prefix + ".default", true
	}
	return prefix + ".route." + key, validToken(key)
}

// keyPath names a route in error messages.
func keyPath(key string) string {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f || c == '.' {
			return "routes.websocket[" + strconv.Quote(key) + "]"
		}
	}
	return "routes.websocket." + key
}

// resolve validates the route at key and fills its defaults. prefixOK says
// whether prefix is valid; when it is not, the table is refused anyway, and
// suggestions in messages use the default prefix rather than a broken one.
func resolve(key string, r Route, prefix string, prefixOK bool) (*Route, []error) {
	if !prefixOK {
		prefix = DefaultSubjectPrefix
	}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{keyPath(key)}, args...)...))
	}
	special := key == KeyConnect || key == KeyDisconnect
	switch r.WAF {
	case "", "block", "count", "off":
	default:
		fail("waf %q: want block, count or off", r.WAF)
	}
	switch {
	case key == "":
		return nil, []error{fmt.Errorf("routes.websocket: a route key must not be empty; name the route, such as sendmessage")}
	case key[0] == '$' && !special && key != KeyDefault:
		fail("keys starting with $ are reserved; use %s, %s, %s, or a key without $", KeyConnect, KeyDisconnect, KeyDefault)
		return nil, errs
	case len(key) > MaxKeyBytes:
		fail("the route key is longer than %d bytes; use a shorter key", MaxKeyBytes)
		return nil, errs
	case !utf8.ValidString(key):
		fail("the route key is not valid UTF-8")
		return nil, errs
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f {
			fail("the route key contains a control character; use printable characters")
			return nil, errs
		}
	}

	r.Key = key
	if r.Integration == "" {
		r.Integration = IntegrationNATS
	}
	switch r.Integration {
	case IntegrationNATS, IntegrationEcho, IntegrationSubscribe, IntegrationUnsubscribe:
	default:
		fail("unknown integration %q; use nats, echo, subscribe or unsubscribe", r.Integration)
		return nil, errs
	}
	nats := r.Integration == IntegrationNATS
	if special && !nats {
		fail("integration %s cannot serve %s; only nats can (remove integration or set it to nats)", r.Integration, key)
	}

	switch {
	case r.Timeout < 0:
		fail("timeout %v is negative; use a positive duration such as 29s, or leave it out for 29s", r.Timeout)
	case r.Timeout > MaxTimeout:
		fail("timeout %v is over the maximum of 15m; use at most 15m", r.Timeout)
	case !nats && r.Timeout != 0:
		fail("timeout applies to nats routes only; remove it")
	case nats && r.Timeout == 0:
		r.Timeout = DefaultTimeout
	}

	def, defOK := defaultSubject(prefix, key)
	suggest := def
	if !defOK {
		suggest = prefix + ".route." + tokenize(key)
	}
	switch {
	case !nats && r.Subject != "":
		fail("subject applies to nats routes only; remove it")
	case !nats:
	case r.Subject != "":
		if p := subjectProblem(r.Subject); p != "" {
			fail("subject %q %s; use a literal subject such as %q", r.Subject, p, suggest)
		}
	case !defOK:
		fail("subject is missing and the key cannot be a subject token (only letters, digits, _ and -); set subject, such as %q", suggest)
	case len(def) > MaxSubjectBytes:
		fail("the default subject %q is longer than %d bytes; set a shorter subject", def, MaxSubjectBytes)
	default:
		r.Subject = def
	}

	r.twoWay = !special
	if r.RouteResponse != nil {
		r.twoWay = *r.RouteResponse
	}
	switch {
	case key == KeyDisconnect && r.twoWay:
		fail("route_response cannot be true: the client is gone by the time $disconnect runs; remove it")
	case r.Integration == IntegrationEcho && !r.twoWay:
		fail("route_response cannot be false for echo, which always answers; remove it")
	}
	twoWay := r.twoWay
	r.RouteResponse = &twoWay // the table's own copy, never the caller's

	if r.Integration == IntegrationSubscribe || r.Integration == IntegrationUnsubscribe {
		if r.TopicFrom == "" {
			fail(`topic_from is missing; say where messages name the topic, such as "$request.body.topic"`)
		} else if p, err := ParsePath(r.TopicFrom); err != nil {
			fail("topic_from: %v", err)
		} else {
			r.Topic = p
		}
		if !validTopicPrefix(r.TopicPrefix) {
			fail(`topic_prefix %q cannot start a topic; use letters, digits, _, -, : and dots between them, such as "room."`, r.TopicPrefix)
		}
	} else if r.TopicFrom != "" || r.TopicPrefix != "" {
		fail("topic_from and topic_prefix apply to subscribe and unsubscribe routes only; remove them")
	}

	if errs != nil {
		return nil, errs
	}
	return &r, nil
}
