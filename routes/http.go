package routes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/mapping"
	"github.com/gatecast/gatecast/routes/pathtrie"
)

// HTTP integration modes.
const (
	// ModeProxy sends the request to the backend as it came and the
	// backend's answer to the client as it is.
	ModeProxy = "proxy"
	// ModeMapping reshapes the request and the answer by the route's
	// parameter mappings and templates.
	ModeMapping = "mapping"
)

// Streamed answer formats.
const (
	// StreamChunked writes each chunk as it comes, with chunked transfer
	// encoding.
	StreamChunked = "chunked"
	// StreamSSE writes each chunk as one Server-Sent Event.
	StreamSSE = "sse"
)

// HTTP limits and defaults, those of Amazon API Gateway's HTTP APIs where
// it has one.
const (
	DefaultMaxBodyBytes      = 10 << 20
	DefaultMaxStreamDuration = 15 * time.Minute
	DefaultStreamBuffer      = 256 << 10
	MaxStreamDuration        = 24 * time.Hour
)

// HTTPRoute is one HTTP route, keyed in the configuration by "METHOD
// /path/{param}/{greedy+}" ("ANY" for every method) or $default. Zero
// fields mean the defaults in their comments; routes returned by an
// HTTPTable have them filled in and must not be modified.
type HTTPRoute struct {
	// Subject is the NATS subject the request goes to. Zero means
	// <prefix>.http.default for $default; other routes must name one.
	Subject string `yaml:"subject"`
	// Mode is ModeProxy (zero) or ModeMapping.
	Mode string `yaml:"mode"`
	// Timeout bounds the wait for the backend's answer, and for a streamed
	// answer the wait for each next chunk. Zero means 29 s; at most 15 min.
	Timeout time.Duration `yaml:"timeout"`
	// Stream is the format of a streamed answer: StreamChunked (zero) or
	// StreamSSE. A backend whose stream starts with Content-Type
	// text/event-stream gets SSE either way.
	Stream string `yaml:"stream"`
	// MaxStreamDuration bounds a streamed answer from its first byte. Zero
	// means 15 minutes.
	MaxStreamDuration time.Duration `yaml:"max_stream_duration"`
	// StreamBuffer is how many bytes of a streamed answer the gateway holds
	// for a client that reads slower than the backend writes. Zero means
	// 256 KiB.
	StreamBuffer int `yaml:"stream_buffer"`
	// StreamOverflow is what happens when StreamBuffer is full: "wait"
	// (zero: the gateway stops acknowledging chunks, so the backend SDK
	// waits; a backend that sends on regardless is cut off) or "cut" (the
	// gateway acknowledges chunks as they arrive and ends the stream, with
	// a logged reason, when the client falls StreamBuffer behind).
	StreamOverflow string `yaml:"stream_overflow"`
	// MaxBodyBytes bounds the request body; a bigger one gets 413. Zero
	// means 10 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`

	// Authorization is "none" (zero) or "jwt": the request needs a valid
	// token from auth.http.source, holding every one of Scopes.
	Authorization string   `yaml:"authorization"`
	Scopes        []string `yaml:"scopes"`
	// APIKeyRequired refuses requests without a key of a usage plan (403).
	APIKeyRequired bool `yaml:"api_key_required"`
	// Throttle bounds this route's requests per second over the gateway,
	// on top of admission.request_rate. Zero means no limit of its own.
	Throttle admission.Rate `yaml:"throttle"`
	// WAF overrides the gateway's waf.mode for this route: "block",
	// "count" or "off". Zero means the gateway's mode.
	WAF string `yaml:"waf"`
	// CORS overrides the gateway's http.cors for this route. Nil means the
	// gateway's.
	CORS *admission.CORSConfig `yaml:"cors"`

	// Mapping holds the parameter mappings and templates of ModeMapping.
	mapping.Config `yaml:",inline"`

	// Key is the route's key; Method and Path its parts. New sets them.
	Key          string `yaml:"-"`
	Method, Path string `yaml:"-"`
	// Mapper is the compiled Mapping of a mapping route, nil otherwise.
	Mapper *mapping.Mapping `yaml:"-"`
	// Limiter is the route's Throttle bucket, nil without one.
	Limiter *admission.Limiter `yaml:"-"`
}

// SSE reports whether the route answers streams with Server-Sent Events.
func (r *HTTPRoute) SSE() bool { return r.Stream == StreamSSE }

// HTTPTable matches requests to HTTP routes. It is immutable and safe for
// concurrent use.
type HTTPTable struct {
	trie   *pathtrie.Trie
	routes []*HTTPRoute
	def    *HTTPRoute
}

// Match returns the route of a request (its raw path, without the query),
// filling p with the route's parameters, or nil when no route and no
// $default matches. It does not allocate.
func (t *HTTPTable) Match(method, path string, p *pathtrie.Params) *HTTPRoute {
	p.Reset()
	if t.trie != nil {
		if i := t.trie.Match(method, path, p); i >= 0 {
			return t.routes[i]
		}
	}
	return t.def
}

// Len is the number of routes, $default included.
func (t *HTTPTable) Len() int {
	n := len(t.routes)
	if t.def != nil {
		n++
	}
	return n
}

// Routes lists the routes, $default last.
func (t *HTTPTable) Routes() []*HTTPRoute {
	rs := slices.Clone(t.routes)
	if t.def != nil {
		rs = append(rs, t.def)
	}
	return rs
}

// defaultHTTPTable is the table of a configuration without HTTP routes:
// everything goes, as it is, to <prefix>.http.default.
func defaultHTTPTable() map[string]HTTPRoute { return map[string]HTTPRoute{KeyDefault: {}} }

func newHTTPTable(cfg map[string]HTTPRoute, prefix string) (*HTTPTable, []error) {
	if cfg == nil {
		cfg = defaultHTTPTable()
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var errs []error
	t := &HTTPTable{}
	var templates []pathtrie.Route
	for _, k := range keys {
		r, rerrs := resolveHTTP(k, cfg[k], prefix)
		errs = append(errs, rerrs...)
		switch {
		case r == nil:
		case k == KeyDefault:
			t.def = r
		default:
			t.routes = append(t.routes, r)
			templates = append(templates, pathtrie.Route{Method: r.Method, Path: r.Path})
		}
	}
	if len(templates) > 0 && len(errs) == 0 {
		trie, err := pathtrie.New(templates)
		if err != nil {
			errs = append(errs, fmt.Errorf("routes.http: %w", err))
		}
		t.trie = trie
	}
	return t, errs
}

func httpKeyPath(key string) string { return "routes.http[" + strconv.Quote(key) + "]" }

// resolveHTTP validates the HTTP route at key and fills its defaults.
func resolveHTTP(key string, r HTTPRoute, prefix string) (*HTTPRoute, []error) {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{httpKeyPath(key)}, args...)...))
	}
	r.Key = key
	if key != KeyDefault {
		method, path, ok := strings.Cut(key, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			fail(`a route key is "METHOD /path" (such as "GET /users/{id}" or "ANY /files/{proxy+}") or $default`)
			return nil, errs
		}
		r.Method, r.Path = method, path
	}
	switch {
	case r.Subject == "" && key == KeyDefault:
		r.Subject = prefix + ".http.default"
	case r.Subject == "":
		fail("subject is missing; name the NATS subject of the backend, such as %q", prefix+".api."+tokenize(strings.Trim(r.Path, "/{}+")))
	default:
		if p := subjectProblem(r.Subject); p != "" {
			fail("subject %q %s; use a literal subject such as %q", r.Subject, p, prefix+".api.users")
		}
	}
	var err error
	if r.Mode, err = oneOf("mode", r.Mode, ModeProxy, ModeProxy, ModeMapping); err != nil {
		fail("%v", err)
	}
	switch {
	case r.Timeout < 0:
		fail("timeout %v is negative; use a positive duration such as 29s, or leave it out for 29s", r.Timeout)
	case r.Timeout > MaxTimeout:
		fail("timeout %v is over the maximum of 15m; use at most 15m", r.Timeout)
	case r.Timeout == 0:
		r.Timeout = DefaultTimeout
	}
	if r.Stream, err = oneOf("stream", r.Stream, StreamChunked, StreamChunked, StreamSSE); err != nil {
		fail("%v", err)
	}
	switch {
	case r.MaxStreamDuration < 0 || r.MaxStreamDuration > MaxStreamDuration:
		fail("max_stream_duration %v: want a duration up to 24h, or leave it out for 15m", r.MaxStreamDuration)
	case r.MaxStreamDuration == 0:
		r.MaxStreamDuration = DefaultMaxStreamDuration
	}
	switch {
	case r.StreamBuffer < 0:
		fail("stream_buffer %d must not be negative", r.StreamBuffer)
	case r.StreamBuffer == 0:
		r.StreamBuffer = DefaultStreamBuffer
	}
	if r.StreamOverflow, err = oneOf("stream_overflow", r.StreamOverflow, "wait", "wait", "cut"); err != nil {
		fail("%v", err)
	}
	switch {
	case r.MaxBodyBytes < 0:
		fail("max_body_bytes %d must not be negative", r.MaxBodyBytes)
	case r.MaxBodyBytes == 0:
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if r.Authorization, err = oneOf("authorization", r.Authorization, "none", "none", "jwt"); err != nil {
		fail("%v", err)
	}
	if len(r.Scopes) > 0 && r.Authorization != "jwt" {
		fail("scopes need authorization: jwt")
	}
	// An empty waf stays empty: the gateway's waf.mode.
	if r.WAF, err = oneOf("waf", r.WAF, "", "block", "count", "off"); err != nil {
		fail("%v", err)
	}
	if r.CORS != nil {
		if _, err := admission.NewCORS(*r.CORS); err != nil {
			fail("cors: %v", err)
		}
	}
	if !r.Throttle.Unlimited() {
		r.Limiter = admission.NewLimiter(r.Throttle)
	}
	m, err := mapping.Compile(r.Config)
	switch {
	case err != nil:
		fail("%v", err)
	case r.Mode == ModeMapping:
		r.Mapper = m
	case !m.Empty():
		fail("request_parameters, request_template, response_parameters and response_template need mode: mapping")
	}
	if errs != nil {
		return nil, errs
	}
	return &r, nil
}

// oneOf resolves an enum-like setting: an empty v becomes def, a v among
// allowed stays as it is, and any other v comes back unchanged (so later
// checks see what the configuration said) with an error that names the
// setting and its values, such as `mode "rest": want proxy or mapping`.
func oneOf(name, v, def string, allowed ...string) (string, error) {
	switch {
	case v == "":
		return def, nil
	case slices.Contains(allowed, v):
		return v, nil
	}
	want := allowed[len(allowed)-1]
	if n := len(allowed); n > 1 {
		want = strings.Join(allowed[:n-1], ", ") + " or " + want
	}
	return v, fmt.Errorf("%s %q: want %s", name, v, want)
}
