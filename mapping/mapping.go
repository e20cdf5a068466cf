package mapping

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"text/template"
)

// Limits of mapped values.
const (
	// MaxBodyBytes bounds what a body template writes: a template that
	// writes more fails with ErrTooLarge. Amazon's payload limit.
	MaxBodyBytes = 10 << 20
	// MaxValueBytes bounds one mapped header, query string or path value:
	// a longer one fails with ErrBadValue.
	MaxValueBytes = 16 << 10
)

// Config is the mapping of one route, as the configuration file writes
// it. Its zero value maps nothing.
type Config struct {
	// RequestParameters change the request before it goes to the backend.
	// Keys are "append:header.<name>", "overwrite:header.<name>",
	// "remove:header.<name>", the same with "querystring.<name>", and
	// "overwrite:path"; values are expressions (see the package
	// documentation). A remove's value is ignored (Amazon writes "''").
	// Nil or empty maps nothing.
	RequestParameters map[string]string `yaml:"request_parameters"`
	// RequestTemplate is a text/template that writes the backend request's
	// body. Empty means the body goes unchanged.
	RequestTemplate string `yaml:"request_template"`
	// ResponseParameters change the backend's response before it goes to
	// the client. Keys are "append|overwrite|remove:header.<name>" and
	// "overwrite:statuscode". Nil or empty maps nothing.
	ResponseParameters map[string]string `yaml:"response_parameters"`
	// ResponseTemplate is a text/template that writes the client's
	// response body. Empty means the body goes unchanged.
	ResponseTemplate string `yaml:"response_template"`
}

// Request is what mapping reads and rewrites. The caller fills it;
// ApplyRequest changes Path, Body and the Header and Query maps in place
// (it replaces Body and value slices rather than writing into them), and
// reads the rest.
type Request struct {
	Method string
	// Path is the raw path, percent-encoded, as the client sent it.
	Path string
	// Query holds decoded values (url.URL.Query). Nil is empty.
	Query url.Values
	// Header has canonical names, as net/http keeps them. Nil is empty.
	Header http.Header
	// PathParams are the route template's parameters ({id}, {proxy+}),
	// raw (percent-encoded) as the route matched them.
	PathParams map[string]string
	// Context holds the values of $context.<name>: "requestId",
	// "sourceIp", "routeKey", "httpMethod", "requestTime",
	// "requestTimeEpoch", ...
	Context map[string]string
	// Claims are the verified JWT claims, nil without authorization:
	// $context.authorizer.claims.<name>.
	Claims map[string]any
	Body   []byte
}

// Response is a backend's response, which ApplyResponse changes in place
// for the client.
type Response struct {
	Status int
	Header http.Header // canonical names; nil is empty
	Body   []byte
}

// Mapping is a compiled Config. It is immutable and safe for concurrent
// use; see the package documentation.
type Mapping struct {
	req, resp   []op
	reqT, respT *template.Template // parsed, never executed: sessions run clones
	sessions    sync.Pool          // of *session
}

// state is what expressions and template functions read during one Apply.
type state struct {
	req               *Request
	resp              *Response // nil in ApplyRequest
	reqJSON, respJSON jsonDoc   // the bodies, decoded on first use
	scratch           []byte    // to build multi-part values
}

// lookup is the value of a variable part.
func (st *state) lookup(p part) string {
	r := st.req
	switch p.kind {
	case kReqHeader:
		return joined(r.Header[p.text])
	case kReqQuery:
		return joined(r.Query[p.text])
	case kReqPathParam:
		return r.PathParams[p.text]
	case kReqPath:
		return r.Path
	case kReqBody:
		return string(r.Body)
	case kReqBodyPath:
		return text(st.reqJSON.lookup(r.Body, p.text))
	case kContext:
		return r.Context[p.text]
	case kClaim:
		return text(claimValue(r.Claims, p.text))
	}
	if st.resp == nil {
		return ""
	}
	switch p.kind {
	case kRespHeader:
		return joined(st.resp.Header[p.text])
	case kRespStatus:
		return strconv.Itoa(st.resp.Status)
	case kRespBody:
		return string(st.resp.Body)
	case kRespBodyPath:
		return text(st.respJSON.lookup(st.resp.Body, p.text))
	}
	return p.text
}

// session is what one Apply call needs, pooled: the state, the template
// data, and clones of the templates whose functions are bound to this
// session's state (text/template functions cannot see the data).
type session struct {
	st       state
	reqData  RequestData
	respData ResponseData
	reqT     *template.Template
	respT    *template.Template
	out      limitWriter
	vals     []string
}

func (m *Mapping) newSession() any {
	s := &session{}
	if m.reqT != nil {
		s.reqT = bind(m.reqT, s.st.funcs(false))
	}
	if m.respT != nil {
		s.respT = bind(m.respT, s.st.funcs(true))
	}
	return s
}

// bind clones t with the functions of one session.
func bind(t *template.Template, fm template.FuncMap) *template.Template {
	c, err := t.Clone()
	if err != nil { // text/template's Clone cannot fail; html/template's can
		panic("mapping: clone template: " + err.Error())
	}
	return c.Funcs(fm)
}

func (m *Mapping) get() *session { return m.sessions.Get().(*session) }

// put returns a session, dropping what it holds of the request and
// buffers grown by a big one.
func (m *Mapping) put(s *session) {
	s.st = state{scratch: s.st.scratch[:0]}
	if cap(s.st.scratch) > 64<<10 {
		s.st.scratch = nil
	}
	s.reqData, s.respData = RequestData{}, ResponseData{}
	if s.out.buf.Cap() > 64<<10 {
		s.out = limitWriter{}
	} else {
		s.out.buf.Reset()
	}
	clear(s.vals)
	m.sessions.Put(s)
}

// Compile checks a Config and compiles it. It returns an errors.Join of
// every problem, each naming the section and key and saying what is wrong
// and how to fix it, all matching ErrConfig. Templates are parsed, checked
// and run once on an empty request (and response), so that mistakes such
// as {{.Nope}} fail here and not on the first request.
func Compile(cfg Config) (*Mapping, error) {
	m := &Mapping{}
	var errs []error
	var e []error
	m.req, e = compileParams("request_parameters", cfg.RequestParameters, false)
	errs = append(errs, e...)
	m.resp, e = compileParams("response_parameters", cfg.ResponseParameters, true)
	errs = append(errs, e...)
	var err error
	if cfg.RequestTemplate != "" {
		if m.reqT, err = parseTemplate("request_template", cfg.RequestTemplate, false); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.ResponseTemplate != "" {
		if m.respT, err = parseTemplate("response_template", cfg.ResponseTemplate, true); err != nil {
			errs = append(errs, err)
		}
	}
	m.sessions.New = m.newSession
	errs = append(errs, m.dryRun()...) // of the templates that parsed
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// dryRun runs the templates on an empty request and response.
func (m *Mapping) dryRun() []error {
	var errs []error
	s := m.get()
	defer m.put(s)
	if s.reqT != nil {
		s.st.req = &Request{}
		s.reqData.set(s.st.req)
		if _, err := s.out.execute(s.reqT, &s.reqData); err != nil {
			errs = append(errs, &configError{section: "request_template", reason: "fails on an empty request: " + err.Error()})
		}
	}
	if s.respT != nil {
		s.st = state{req: &Request{}, resp: &Response{}}
		s.respData.set(s.st.resp, s.st.req)
		if _, err := s.out.execute(s.respT, &s.respData); err != nil {
			errs = append(errs, &configError{section: "response_template", reason: "fails on an empty response: " + err.Error()})
		}
	}
	return errs
}

// Empty reports whether the mapping changes nothing: no parameters and no
// templates. A nil Mapping is empty.
func (m *Mapping) Empty() bool {
	return m == nil || len(m.req) == 0 && len(m.resp) == 0 && m.reqT == nil && m.respT == nil
}

// ApplyRequest reshapes r for the backend: it runs the request template
// and computes every parameter value from r as the client sent it, then
// applies them: removals first, then overwrites, then appends. On error r
// is unchanged; the error is an *Error matching ErrBadValue (answer 400)
// or ErrTemplate (answer 500). A new body replaces r.Body (r's old slice
// is not written to) and drops any Content-Length header.
func (m *Mapping) ApplyRequest(r *Request) error {
	if m == nil || r == nil || len(m.req) == 0 && m.reqT == nil {
		return nil
	}
	s := m.get()
	defer m.put(s)
	s.st.req = r
	var body []byte
	if s.reqT != nil {
		s.reqData.set(r)
		out, err := s.out.execute(s.reqT, &s.reqData)
		if err != nil {
			return templateFailed(statusRequestFailed, "request_template", err)
		}
		body = out
	}
	var err error
	if s.vals, err = evalOps(m.req, &s.st, s.vals, statusRequestBad); err != nil {
		return err
	}
	for i := range m.req {
		o := &m.req[i]
		switch o.target {
		case tgtHeader:
			if r.Header == nil {
				r.Header = make(http.Header)
			}
			applyHeader(r.Header, o, s.vals[i])
		case tgtQuery:
			if r.Query == nil {
				r.Query = make(url.Values)
			}
			applyQuery(r.Query, o, s.vals[i])
		case tgtPath:
			r.Path = s.vals[i]
		}
	}
	if s.reqT != nil {
		r.Body = body
		delete(r.Header, "Content-Length")
	}
	return nil
}

// ApplyResponse reshapes a backend's response for the client, like
// ApplyRequest: the response template and the parameter values see resp
// as the backend sent it, and req for $request, $context and the
// template's request fields (req as given: after ApplyRequest, the
// backend's request; nil reads as empty). On error resp is unchanged and
// the error is an *Error with Status 502, matching ErrBadValue or
// ErrTemplate. An overwrite:statuscode whose value is empty leaves the
// status as it is.
func (m *Mapping) ApplyResponse(resp *Response, req *Request) error {
	if m == nil || resp == nil || len(m.resp) == 0 && m.respT == nil {
		return nil
	}
	if req == nil {
		req = &Request{}
	}
	s := m.get()
	defer m.put(s)
	s.st.req, s.st.resp = req, resp
	var body []byte
	if s.respT != nil {
		s.respData.set(resp, req)
		out, err := s.out.execute(s.respT, &s.respData)
		if err != nil {
			return templateFailed(statusResponse, "response_template", err)
		}
		body = out
	}
	var err error
	if s.vals, err = evalOps(m.resp, &s.st, s.vals, statusResponse); err != nil {
		return err
	}
	for i := range m.resp {
		o := &m.resp[i]
		switch o.target {
		case tgtHeader:
			if resp.Header == nil {
				resp.Header = make(http.Header)
			}
			applyHeader(resp.Header, o, s.vals[i])
		case tgtStatus:
			if n, ok := parseStatus(s.vals[i]); ok {
				resp.Status = n
			}
		}
	}
	if s.respT != nil {
		resp.Body = body
		delete(resp.Header, "Content-Length")
	}
	return nil
}
