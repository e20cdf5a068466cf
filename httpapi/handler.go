package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/admission"
	"github.com/gatecast/gatecast/admission/jwtauth"
	"github.com/gatecast/gatecast/admission/waf"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
	"github.com/gatecast/gatecast/routes/pathtrie"
)

// Config tunes a Handler. Every field's zero value means the default in
// its comment.
type Config struct {
	// Node is the gateway node's id, in reply subjects and request ids.
	// Required.
	Node string
	// MaxInFlight bounds the requests waiting for a backend at once; more
	// get 503 with Retry-After. Zero means 10,000.
	MaxInFlight int
	// KeepAlive is how often an idle Server-Sent Events stream gets a
	// comment line, so that proxies and browsers keep it open. Zero means
	// 15 s.
	KeepAlive time.Duration
	// CORS is the gateway's CORS policy; routes may override it. Nil means
	// no CORS headers and no preflight answers.
	CORS *admission.CORSConfig
	// Admission runs the request throttles (gateway, route, API key).
	// Nil admits every request.
	Admission *admission.Pipeline
	// Verifier checks the tokens of routes with authorization: jwt, taken
	// from TokenSource. Nil refuses such routes with 401.
	Verifier    *jwtauth.Verifier
	TokenSource jwtauth.Source
	// WAF inspects requests; nil inspects nothing.
	WAF *waf.Firewall
	// AccessLog receives one entry per request; nil logs nothing.
	AccessLog *accesslog.Logger
	// Log receives what an operator must see: backend errors, cut
	// streams. Nil discards.
	Log *slog.Logger
	// Now is the clock of throttles and tokens. Nil means time.Now.
	Now func() time.Time
}

// Handler serves the HTTP routes: it is an http.Handler that turns each
// request into a NATS request and the backend's answer, whole or streamed,
// into the response. It is safe for concurrent use.
type Handler struct {
	nc       *nats.Conn
	table    *routes.HTTPTable
	cfg      Config
	subj     protocol.Subjects
	log      *slog.Logger
	cors     *admission.CORS
	routeCOR map[*routes.HTTPRoute]*admission.CORS
	// keyHeader is the request header with the API key (admission's
	// api_key_header).
	keyHeader string

	calls    *callTable
	nextID   atomic.Uint64
	inFlight atomic.Int64
	sub      *nats.Subscription
	params   sync.Pool // *pathtrie.Params

	stats handlerStats
}

// New builds a Handler for the HTTP routes of table. Call Start before
// serving.
func New(nc *nats.Conn, table *routes.Table, cfg Config) (*Handler, error) {
	if !protocol.ValidNode(cfg.Node) {
		return nil, fmt.Errorf("httpapi: node id %q: want 1 to 64 letters, digits or underscores", cfg.Node)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 10000
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{nc: nc, table: table.HTTP(), cfg: cfg, subj: protocol.Subjects{Prefix: table.Prefix()},
		log: cfg.Log, calls: newCallTable(), routeCOR: make(map[*routes.HTTPRoute]*admission.CORS)}
	h.params.New = func() any { return new(pathtrie.Params) }
	if cfg.Admission != nil {
		h.keyHeader = cfg.Admission.Config().APIKeyHeader
	}
	var err error
	if cfg.CORS != nil {
		if h.cors, err = admission.NewCORS(*cfg.CORS); err != nil {
			return nil, fmt.Errorf("http.cors: %w", err)
		}
	}
	for _, r := range h.table.Routes() {
		if r.CORS != nil {
			if h.routeCOR[r], err = admission.NewCORS(*r.CORS); err != nil {
				return nil, fmt.Errorf("routes.http[%q].cors: %w", r.Key, err)
			}
		}
	}
	return h, nil
}

// Start subscribes to the answers of this node's requests.
func (h *Handler) Start() error {
	sub, err := h.nc.Subscribe(h.subj.HTTPReplies(h.cfg.Node), h.onReply)
	if err != nil {
		return fmt.Errorf("httpapi: subscribe to answers: %w", err)
	}
	// Answers are consumed by one callback goroutine that never blocks;
	// the bound is only a guard against a flood of answers nobody asked
	// for.
	sub.SetPendingLimits(1<<20, 256<<20)
	h.sub = sub
	return nil
}

// Close stops taking answers; requests still waiting time out.
func (h *Handler) Close() {
	if h.sub != nil {
		h.sub.Unsubscribe()
	}
}

// exchange is one request on its way through the handler, for the
// access log and error answers.
type exchange struct {
	start     time.Time
	requestID string
	sourceIP  netip.Addr
	route     *routes.HTTPRoute
	claims    *jwtauth.Claims
	status    int
	written   int64
	integ     time.Duration // integration latency: publish to first answer
	integStat int
	errMsg    string

	claimsMap     map[string]any // claims decoded, for mapping and the access log
	claimsDecoded bool
}

// claimMap decodes the token's claims once, for whoever needs them as a
// map; nil without a token.
func (x *exchange) claimMap() map[string]any {
	if x.claims != nil && !x.claimsDecoded {
		x.claimsDecoded = true
		json.Unmarshal(x.claims.Raw, &x.claimsMap)
	}
	return x.claimsMap
}

// ServeHTTP runs a request through matching, admission and the
// integration.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{start: h.cfg.Now(), requestID: h.newRequestID()}
	x.sourceIP = h.clientIP(r)
	defer h.logExchange(x, r)
	h.stats.requests.Add(1)

	p := h.params.Get().(*pathtrie.Params)
	defer h.params.Put(p)
	path := rawPath(r)
	if isPreflight(r) {
		route := h.table.Match(r.Header.Get("Access-Control-Request-Method"), path, p)
		if c := h.corsFor(route); c != nil && c.Handle(w, r) {
			x.status = http.StatusNoContent
			h.stats.preflights.Add(1)
			return
		}
	}
	route := h.table.Match(r.Method, path, p)
	x.route = route
	if route == nil {
		h.fail(w, x, http.StatusNotFound, "Not Found", "no route")
		return
	}
	if c := h.corsFor(route); c != nil {
		c.Handle(w, r)
	}
	// WAF, then auth, then throttles: a request the WAF blocks costs no
	// quota, and the body is read (within its limit) before any of them
	// so that the WAF sees it.
	body, ok := h.readBody(w, r, x, route)
	if !ok || !h.inspect(w, r, x, route, body) || !h.admit(w, r, x, route) {
		return
	}
	if n := h.inFlight.Add(1); n > int64(h.cfg.MaxInFlight) {
		h.inFlight.Add(-1)
		h.stats.refused("max_in_flight")
		w.Header().Set("Retry-After", "1")
		h.fail(w, x, http.StatusServiceUnavailable, "Service Unavailable: too many requests in flight", "max_in_flight")
		return
	}
	defer h.inFlight.Add(-1)
	h.integrate(w, r, x, route, p, path, body)
}

// admit runs auth and the throttles; false means it answered.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, x *exchange, route *routes.HTTPRoute) bool {
	now := h.cfg.Now()
	if route.Authorization == "jwt" {
		if h.cfg.Verifier == nil {
			h.fail(w, x, http.StatusUnauthorized, "Unauthorized", "no verifier configured")
			return false
		}
		claims, err := h.cfg.Verifier.Authorize(r.Context(), h.cfg.TokenSource, jwtauth.HTTPRequest(r), route.Scopes)
		if err != nil {
			var ae *jwtauth.Error
			if errors.As(err, &ae) {
				if ae.WWWAuthenticate != "" {
					w.Header().Set("WWW-Authenticate", ae.WWWAuthenticate)
				}
				if ae.RetryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(int(max(1, ae.RetryAfter/time.Second))))
				}
				h.stats.refused("auth")
				h.fail(w, x, ae.Status, ae.Public, ae.Reason)
				return false
			}
			h.fail(w, x, http.StatusUnauthorized, "Unauthorized", err.Error())
			return false
		}
		x.claims = claims
	}
	if h.cfg.Admission != nil {
		if ref := h.cfg.Admission.Request(route.Limiter, r.Header.Get(h.keyHeader), route.APIKeyRequired, now); ref != nil {
			if ra := ref.RetryAfterHeader(); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			h.stats.refused(ref.Reason)
			h.fail(w, x, ref.Status, ref.Detail, ref.Reason)
			return false
		}
	}
	return true
}

// readBody reads the whole request body within the route's limit.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, x *exchange, route *routes.HTTPRoute) ([]byte, bool) {
	if r.ContentLength > route.MaxBodyBytes {
		h.fail(w, x, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "body over max_body_bytes")
		return nil, false
	}
	if r.ContentLength == 0 {
		return nil, true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, route.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.fail(w, x, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "body over max_body_bytes")
		return nil, false
	case err != nil:
		h.fail(w, x, http.StatusBadRequest, "Bad Request: unreadable body", err.Error())
		return nil, false
	}
	if max := h.nc.MaxPayload(); int64(len(body)) > max-64<<10 {
		h.fail(w, x, http.StatusRequestEntityTooLarge, "Request Entity Too Large", "body over the NATS server's max_payload")
		return nil, false
	}
	return body, true
}

// inspect runs the WAF on the whole request; false means it was blocked.
func (h *Handler) inspect(w http.ResponseWriter, r *http.Request, x *exchange, route *routes.HTTPRoute, body []byte) bool {
	if h.cfg.WAF == nil {
		return true
	}
	mode := h.cfg.WAF.ModeFor(route.WAF)
	if mode == waf.ModeOff {
		return true
	}
	fd, hit := h.cfg.WAF.CheckHTTP(r, x.sourceIP, body)
	if !hit {
		return true
	}
	h.stats.wafHits.Add(1)
	h.log.Warn("waf finding in HTTP request", "finding", fd.String(), "mode", mode, "route", route.Key,
		"request_id", x.requestID, "source_ip", x.sourceIP)
	if mode != waf.ModeBlock {
		return true
	}
	h.stats.refused("waf")
	h.fail(w, x, waf.StatusBlocked, "Forbidden", "waf: "+fd.Rule)
	return false
}

func (h *Handler) corsFor(route *routes.HTTPRoute) *admission.CORS {
	if c := h.routeCOR[route]; c != nil {
		return c
	}
	return h.cors
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// rawPath is the path as the client sent it, percent-encoding kept.
func rawPath(r *http.Request) string {
	uri := r.RequestURI
	if !strings.HasPrefix(uri, "/") {
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return uri
}

func (h *Handler) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if h.cfg.Admission == nil {
		return peer
	}
	return h.cfg.Admission.ClientIP(peer, r.Header.Get("X-Forwarded-For"))
}

func (h *Handler) newRequestID() string {
	return h.cfg.Node + "-h" + strconv.FormatUint(h.nextID.Add(1), 36)
}

// fail answers with a JSON error in Amazon's shape. reason is for the log
// and the access log, never for the client.
func (h *Handler) fail(w http.ResponseWriter, x *exchange, status int, message, reason string) {
	x.status, x.errMsg = status, reason
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Gatecast-Request-Id", x.requestID)
	w.WriteHeader(status)
	n, _ := fmt.Fprintf(w, `{"message":%s,"requestId":%q}`+"\n", strconv.Quote(message), x.requestID)
	x.written = int64(n)
}

func (h *Handler) logExchange(x *exchange, r *http.Request) {
	if h.cfg.AccessLog == nil {
		return
	}
	e := accesslog.Entry{
		RequestID: x.requestID, EventType: protocol.EventRequest, UserAgent: r.UserAgent(),
		Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, Status: x.status, RequestTime: x.start,
		ResponseLength: x.written, ResponseLatency: h.cfg.Now().Sub(x.start), IntegrationLatency: x.integ,
		IntegrationStatus: x.integStat, Error: x.errMsg, Node: h.cfg.Node,
	}
	if x.sourceIP.IsValid() {
		e.SourceIP = x.sourceIP.String()
	}
	if x.route != nil {
		e.RouteKey = x.route.Key
	}
	e.Claims = x.claimMap()
	h.cfg.AccessLog.Log(&e)
}
