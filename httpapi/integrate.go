package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/internal/httpsyntax"
	"github.com/gatecast/gatecast/mapping"
	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
	"github.com/gatecast/gatecast/routes/pathtrie"
)

// integrate sends the request to the route's backend and answers with
// what comes back.
func (h *Handler) integrate(w http.ResponseWriter, r *http.Request, x *exchange, route *routes.HTTPRoute, p *pathtrie.Params, path string, body []byte) {
	var mreq *mapping.Request
	m := nats.NewMsg(route.Subject)
	if route.Mapper != nil {
		mreq = h.mappingRequest(r, x, route, p, path, body)
		if err := route.Mapper.ApplyRequest(mreq); err != nil {
			if errors.Is(err, mapping.ErrBadValue) {
				h.fail(w, x, http.StatusBadRequest, "Bad Request", "mapping: "+err.Error())
			} else {
				h.stats.mappingErrors.Add(1)
				h.fail(w, x, http.StatusInternalServerError, "Internal Server Error", "mapping: "+err.Error())
			}
			return
		}
		h.fillMessage(m, r, x, route, p, mreq.Path, mreq.Query.Encode(), mreq.Header, mreq.Body)
	} else {
		h.fillMessage(m, r, x, route, p, path, r.URL.RawQuery, r.Header, body)
	}

	n := h.nextID.Add(1)
	m.Reply = h.subj.HTTPReplyTo(h.cfg.Node, n)
	c := &call{notify: make(chan struct{}, 1), limit: route.StreamBuffer}
	if route.StreamOverflow == "cut" {
		c.ackNow = h.ack
	}
	h.calls.add(n, c)
	defer h.calls.remove(n)

	sent := h.cfg.Now()
	if err := h.nc.PublishMsg(m); err != nil {
		h.stats.publishErrors.Add(1)
		w.Header().Set("Retry-After", "1")
		h.fail(w, x, http.StatusServiceUnavailable, "Service Unavailable: backend unavailable", "nats: "+err.Error())
		return
	}
	timer := time.NewTimer(route.Timeout)
	defer timer.Stop()
	select {
	case <-c.notify:
	case <-timer.C:
		h.stats.timeouts.Add(1)
		h.fail(w, x, http.StatusGatewayTimeout, "Endpoint request timed out", "integration timeout")
		return
	case <-r.Context().Done():
		h.stats.clientGone.Add(1)
		x.status, x.errMsg = 499, "client closed the connection"
		return
	}
	x.integ = h.cfg.Now().Sub(sent)
	msgs, _ := c.take(nil)
	first := msgs[0]
	if len(first.Data) == 0 && first.Header.Get("Status") == "503" {
		h.stats.noResponders.Add(1)
		h.log.Warn("no backend for HTTP route", "route", route.Key, "subject", route.Subject, "request_id", x.requestID)
		w.Header().Set("Retry-After", "1")
		h.fail(w, x, http.StatusServiceUnavailable, "Service Unavailable: backend unavailable", "no responders on "+route.Subject)
		return
	}
	status, err := answerStatus(first)
	if err != nil {
		h.badAnswer(w, x, route, err)
		return
	}
	x.integStat = status
	switch first.Header.Get(protocol.HeaderStream) {
	case "":
		h.answer(w, x, route, mreq, status, first)
	case protocol.StreamStart:
		h.stream(w, r, x, route, c, status, msgs)
	default:
		h.badAnswer(w, x, route, errors.New("stream did not begin with "+protocol.StreamStart))
	}
}

// fillMessage puts the request into m: metadata in headers, the client's
// headers as they are (see protocol.HTTPHeaderForwarded), body untouched.
func (h *Handler) fillMessage(m *nats.Msg, r *http.Request, x *exchange, route *routes.HTTPRoute, p *pathtrie.Params, path, query string, header http.Header, body []byte) {
	hd := m.Header
	for name, vs := range header {
		if protocol.HTTPHeaderForwarded(name) {
			hd[name] = vs
		}
	}
	hd[protocol.HeaderEventType] = []string{protocol.EventRequest}
	hd[protocol.HeaderRequestID] = []string{x.requestID}
	hd[protocol.HeaderRouteKey] = []string{route.Key}
	hd[protocol.HeaderNode] = []string{h.cfg.Node}
	if x.sourceIP.IsValid() {
		hd[protocol.HeaderSourceIP] = []string{x.sourceIP.String()}
	}
	hd[protocol.HeaderReceivedAt] = []string{strconv.FormatInt(x.start.UnixMilli(), 10)}
	hd[protocol.HeaderMethod] = []string{r.Method}
	hd[protocol.HeaderProtocol] = []string{r.Proto}
	hd[protocol.HeaderPath] = []string{path}
	if query != "" {
		hd[protocol.HeaderQuery] = []string{query}
	}
	if r.Host != "" {
		hd[protocol.HeaderHost] = []string{r.Host}
	}
	if p.Len() > 0 {
		v := make(url.Values, p.Len())
		for i := range p.Len() {
			v.Set(p.Name(i), p.Value(i))
		}
		hd[protocol.HeaderPathParams] = []string{v.Encode()}
	}
	if x.claims != nil {
		hd[protocol.HeaderClaims] = []string{string(x.claims.Raw)}
	}
	hd[protocol.HeaderStreamWindow] = []string{strconv.Itoa(route.StreamBuffer)}
	m.Data = body
}

func (h *Handler) mappingRequest(r *http.Request, x *exchange, route *routes.HTTPRoute, p *pathtrie.Params, path string, body []byte) *mapping.Request {
	mr := &mapping.Request{
		Method: r.Method, Path: path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		PathParams: make(map[string]string, p.Len()),
		Context: map[string]string{
			"requestId": x.requestID, "routeKey": route.Key, "httpMethod": r.Method,
			"requestTime":      x.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"requestTimeEpoch": strconv.FormatInt(x.start.UnixMilli(), 10),
			"node":             h.cfg.Node,
		},
	}
	if x.sourceIP.IsValid() {
		mr.Context["sourceIp"] = x.sourceIP.String()
		mr.Context["identity.sourceIp"] = x.sourceIP.String()
	}
	for i := range p.Len() {
		mr.PathParams[p.Name(i)] = p.Value(i)
	}
	mr.Claims = x.claimMap()
	return mr
}

// answerStatus reads the HTTP status of a backend's answer.
func answerStatus(m *nats.Msg) (int, error) {
	s := m.Header.Get(protocol.HeaderStatus)
	if s == "" {
		return http.StatusOK, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 200 || n > 599 {
		return 0, errors.New("bad " + protocol.HeaderStatus + " " + strconv.Quote(s) + ": want 200 to 599")
	}
	return n, nil
}

// copyHeaders sets the answer's headers on the response; it refuses names
// and values that are not valid HTTP.
func copyHeaders(dst http.Header, src nats.Header) error {
	for name, vs := range src {
		cname := protocol.CanonicalHeader(name)
		if !protocol.HTTPHeaderForwarded(cname) {
			continue
		}
		if !httpsyntax.IsToken(name) {
			return errors.New("invalid header name " + strconv.Quote(name))
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return errors.New("invalid value of header " + cname)
			}
		}
		dst[cname] = vs
	}
	return nil
}

// answer writes a whole (not streamed) answer.
func (h *Handler) answer(w http.ResponseWriter, x *exchange, route *routes.HTTPRoute, mreq *mapping.Request, status int, m *nats.Msg) {
	hd := w.Header()
	if err := copyHeaders(hd, m.Header); err != nil {
		h.badAnswer(w, x, route, err)
		return
	}
	body := m.Data
	if route.Mapper != nil {
		resp := &mapping.Response{Status: status, Header: hd, Body: body}
		if err := route.Mapper.ApplyResponse(resp, mreq); err != nil {
			h.badAnswer(w, x, route, err)
			return
		}
		status, body = resp.Status, resp.Body
	}
	if status >= 400 {
		h.stats.backendErrors.Add(1)
		if reason := m.Header.Get(protocol.HeaderError); reason != "" {
			x.errMsg = reason
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if hd.Get("Content-Type") == "" && len(body) > 0 {
		hd.Set("Content-Type", "application/octet-stream")
	}
	x.status = status
	w.WriteHeader(status)
	n, _ := w.Write(body)
	x.written = int64(n)
	h.stats.answers.Add(1)
}

// badAnswer answers 502 for an answer the gateway cannot pass on.
func (h *Handler) badAnswer(w http.ResponseWriter, x *exchange, route *routes.HTTPRoute, err error) {
	h.stats.badAnswers.Add(1)
	h.log.Warn("malformed backend answer", "route", route.Key, "request_id", x.requestID, "err", err)
	clear(w.Header())
	h.fail(w, x, http.StatusBadGateway, "Bad Gateway", "malformed answer: "+err.Error())
}

// ack tells a stream's backend that the gateway holds its message, when
// the route acknowledges on receipt (stream_overflow: cut). NATS goroutine.
func (h *Handler) ack(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	if seq := m.Header.Get(protocol.HeaderStreamSeq); seq != "" {
		h.sendControl(m.Reply, nats.Header{protocol.HeaderStreamAck: {seq}})
	}
}

// sendControl sends a stream control message to a backend.
func (h *Handler) sendControl(subject string, header nats.Header) {
	cm := &nats.Msg{Subject: subject, Header: header}
	if err := h.nc.PublishMsg(cm); err != nil {
		h.stats.publishErrors.Add(1)
	}
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
