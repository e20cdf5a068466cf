package mapping

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"
)

// RequestData is the data (dot) of a request_template, and the request
// half of a response_template's. The maps are the request's own, read-only
// in a template: their types have no methods that change them.
type RequestData struct {
	Method     string
	Path       string            // raw, as the client sent it
	Query      QueryView         // decoded values
	Header     HeaderView        // canonical names
	PathParams map[string]string // raw (percent-encoded) values
	Context    map[string]string
	Claims     map[string]any // nil without authorization

	body    []byte
	bodyStr string
	bodyOK  bool
}

// Body is the request body as a string, converted on first use.
func (d *RequestData) Body() string {
	if !d.bodyOK {
		d.bodyStr, d.bodyOK = string(d.body), true
	}
	return d.bodyStr
}

func (d *RequestData) set(r *Request) {
	*d = RequestData{
		Method: r.Method, Path: r.Path, Query: QueryView(r.Query), Header: HeaderView(r.Header),
		PathParams: r.PathParams, Context: r.Context, Claims: r.Claims, body: r.Body,
	}
}

// ResponseData is the data (dot) of a response_template: the request's
// fields (.Method, .Path, .Header, ...) and the backend's response.
type ResponseData struct {
	RequestData
	Status         int
	ResponseHeader HeaderView

	respBody    []byte
	respBodyStr string
	respBodyOK  bool
}

// ResponseBody is the backend's response body as a string, converted on
// first use.
func (d *ResponseData) ResponseBody() string {
	if !d.respBodyOK {
		d.respBodyStr, d.respBodyOK = string(d.respBody), true
	}
	return d.respBodyStr
}

func (d *ResponseData) set(resp *Response, req *Request) {
	*d = ResponseData{Status: resp.Status, ResponseHeader: HeaderView(resp.Header), respBody: resp.Body}
	d.RequestData.set(req)
}

// HeaderView is a read-only http.Header.
type HeaderView map[string][]string

// Get is the first value of a header (any case), or "".
func (h HeaderView) Get(name string) string { return http.Header(h).Get(name) }

// Values are all values of a header (any case).
func (h HeaderView) Values(name string) []string { return http.Header(h).Values(name) }

// QueryView is a read-only url.Values.
type QueryView map[string][]string

// Get is the first value of a query string parameter, or "".
func (q QueryView) Get(name string) string {
	if vs := q[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Has reports whether the query string has the parameter.
func (q QueryView) Has(name string) bool { _, ok := q[name]; return ok }

// funcs are a session's template functions, bound to its state. response
// adds the functions that read the backend's response.
func (st *state) funcs(response bool) template.FuncMap {
	fm := template.FuncMap{
		"json": func(v any) (string, error) { return encodeJSON(v) },
		"field": func(path string) (string, error) {
			if err := checkPath(path); err != nil {
				return "", err
			}
			return text(st.reqJSON.lookup(st.req.Body, path)), nil
		},
		"fieldjson": func(path string) (string, error) {
			if err := checkPath(path); err != nil {
				return "", err
			}
			return literal(st.reqJSON.lookup(st.req.Body, path)), nil
		},
		"header":  func(name string) string { return joined(http.Header(st.req.Header).Values(name)) },
		"query":   func(name string) string { return joined(st.req.Query[name]) },
		"path":    func(name string) string { return st.req.PathParams[name] },
		"context": func(name string) string { return st.req.Context[name] },
		"claim":   func(name string) string { return text(claimValue(st.req.Claims, name)) },
		"default": func(def, v any) any {
			if empty(v) {
				return def
			}
			return v
		},
		"lower":  strings.ToLower,
		"upper":  strings.ToUpper,
		"base64": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	}
	if response {
		fm["rfield"] = func(path string) (string, error) {
			if err := checkPath(path); err != nil {
				return "", err
			}
			return text(st.respJSON.lookup(st.resp.Body, path)), nil
		}
		fm["rfieldjson"] = func(path string) (string, error) {
			if err := checkPath(path); err != nil {
				return "", err
			}
			return literal(st.respJSON.lookup(st.resp.Body, path)), nil
		}
		fm["rheader"] = func(name string) string { return joined(http.Header(st.resp.Header).Values(name)) }
	}
	return fm
}

// empty is default's test: nil, "", or an empty list or map.
func empty(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// joined is several values of a header or query parameter as one, comma
// separated, as Amazon combines them.
func joined(vs []string) string {
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs, ",")
}

// parseTemplate parses a body template and checks what can be checked
// without running it.
func parseTemplate(section, src string, response bool) (*template.Template, error) {
	fm := (&state{}).funcs(response)
	t, err := template.New(section).Option("missingkey=zero").Funcs(fm).Parse(src)
	if err != nil {
		return nil, &configError{section: section, reason: err.Error()}
	}
	data := reflect.TypeFor[*RequestData]()
	if response {
		data = reflect.TypeFor[*ResponseData]()
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Root == nil {
			continue
		}
		c := &checker{tree: tt.Tree, root: data, fields: tt.Name() == section, funcs: fm, lookup: t.Lookup}
		dot := data
		if !c.fields {
			dot = nil // a defined template's dot is whatever its caller passes
		}
		c.list(tt.Root, dot)
		if c.err != nil {
			return nil, &configError{section: section, reason: c.err.Error()}
		}
	}
	return t, nil
}

// numberArgs are the functions a number literal may be an argument of:
// they do not hand it back, so no number literal can become the count of
// a range loop ({{range 1000000000}}), which no output limit would stop.
var numberArgs = map[string]bool{
	"index": true, "slice": true, "printf": true, "print": true, "println": true, "json": true,
	"eq": true, "ne": true, "lt": true, "le": true, "gt": true, "ge": true,
}

// checker walks a parsed template, so that mistakes in branches an empty
// request never takes fail at load time too. It checks field names
// against the data type where the type of dot is known (outside range and
// with, and $.X anywhere in the main template), the number of arguments
// of the package's functions, and that called templates exist; and it
// refuses number literals outside numberArgs.
type checker struct {
	tree   *parse.Tree
	root   reflect.Type
	fields bool // the main template, where $ is the data
	funcs  template.FuncMap
	lookup func(name string) *template.Template
	err    error
}

func (c *checker) fail(n parse.Node, format string, args ...any) {
	if c.err == nil {
		loc, _ := c.tree.ErrorContext(n)
		c.err = fmt.Errorf("%s: "+format, append([]any{loc}, args...)...)
	}
}

// list walks nodes with dot of type dot (nil: unknown).
func (c *checker) list(l *parse.ListNode, dot reflect.Type) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			c.pipe(n.Pipe, dot)
		case *parse.IfNode:
			c.pipe(n.Pipe, dot)
			c.list(n.List, dot)
			c.list(n.ElseList, dot)
		case *parse.RangeNode:
			c.pipe(n.Pipe, dot)
			c.list(n.List, nil)
			c.list(n.ElseList, dot)
		case *parse.WithNode:
			c.pipe(n.Pipe, dot)
			c.list(n.List, nil)
			c.list(n.ElseList, dot)
		case *parse.TemplateNode:
			if c.lookup(n.Name) == nil {
				c.fail(n, "no template %q is defined", n.Name)
			}
			c.pipe(n.Pipe, dot)
		case *parse.ListNode:
			c.list(n, dot)
		}
	}
}

func (c *checker) pipe(p *parse.PipeNode, dot reflect.Type) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		fn := ""
		if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok {
			fn = id.Ident
			if f, ok := c.funcs[fn]; ok {
				got := len(cmd.Args) - 1
				if i > 0 {
					got++ // the pipeline's previous value
				}
				if want := reflect.TypeOf(f).NumIn(); got != want {
					c.fail(cmd, "%s takes %d argument(s), not %d", fn, want, got)
				}
			}
		}
		for i, arg := range cmd.Args {
			c.arg(arg, dot, i > 0 && numberArgs[fn])
		}
	}
}

func (c *checker) arg(n parse.Node, dot reflect.Type, numberOK bool) {
	switch n := n.(type) {
	case *parse.NumberNode:
		if !numberOK {
			c.fail(n, "a number may only be an argument of index, slice, print, printf, println, json, eq, ne, lt, le, gt or ge")
		}
	case *parse.FieldNode:
		c.chain(n, dot, n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" && c.fields {
			c.chain(n, c.root, n.Ident[1:])
		}
	case *parse.PipeNode:
		c.pipe(n, dot)
	case *parse.ChainNode:
		c.arg(n.Node, dot, false)
	}
}

// chain checks a field chain starting from type t (nil: unknown).
func (c *checker) chain(n parse.Node, t reflect.Type, idents []string) {
	for _, id := range idents {
		if t == nil {
			return
		}
		next, ok := fieldType(t, id)
		if !ok {
			c.fail(n, "can't evaluate field %s in type %s", id, t)
			return
		}
		t = next
	}
}

// fieldType is the type of t.name in a template, nil when unknown; ok is
// false when a template could not evaluate it.
func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	for {
		if m, ok := t.MethodByName(name); ok {
			if m.Type.NumOut() == 0 {
				return nil, true
			}
			return m.Type.Out(0), true
		}
		if t.Kind() != reflect.Pointer {
			if m, ok := reflect.PointerTo(t).MethodByName(name); ok {
				if m.Type.NumOut() == 0 {
					return nil, true
				}
				return m.Type.Out(0), true
			}
			break
		}
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil, true
	case reflect.Struct:
		f, ok := t.FieldByName(name)
		if !ok || !f.IsExported() {
			return nil, false
		}
		return f.Type, true
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			return t.Elem(), true
		}
		return nil, true
	}
	return nil, false
}

// errOutputTooLarge is what a limitWriter returns past MaxBodyBytes.
var errOutputTooLarge = errors.New("template output over MaxBodyBytes")

// limitWriter is a bytes.Buffer that refuses to grow past MaxBodyBytes.
type limitWriter struct{ buf bytes.Buffer }

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxBodyBytes {
		return 0, errOutputTooLarge
	}
	return w.buf.Write(p)
}

// execute runs a session's template and returns its output, which the
// caller owns.
func (w *limitWriter) execute(t *template.Template, data any) ([]byte, error) {
	w.buf.Reset()
	if err := t.Execute(w, data); err != nil {
		return nil, err
	}
	return bytes.Clone(w.buf.Bytes()), nil
}
