package routes

import (
	"errors"
	"fmt"
	"slices"
)

// Table is a validated, immutable route table, safe for concurrent use.
type Table struct {
	rated  int // routes with a MessageRate
	prefix string
	sel    Path
	ws     map[string]*Route
	def    *Route // ws[KeyDefault], or nil
	keys   []string
	http   *HTTPTable
}

// New validates cfg, fills its defaults and builds its table. The error
// lists every problem found, each naming its setting and how to fix it.
func New(cfg Config) (*Table, error) {
	var errs []error
	prefix := cfg.SubjectPrefix
	if prefix == "" {
		prefix = DefaultSubjectPrefix
	}
	prefixOK := true
	if p := subjectProblem(prefix); p != "" {
		prefixOK = false
		errs = append(errs, fmt.Errorf("routes.subject_prefix: %q %s; use one or more tokens joined by dots, such as %q", prefix, p, DefaultSubjectPrefix))
	}
	expr := cfg.SelectionExpression
	if expr == "" {
		expr = DefaultSelectionExpression
	}
	sel, err := ParsePath(expr)
	if err != nil {
		errs = append(errs, fmt.Errorf("routes.route_selection_expression: %w", err))
	}

	ws := cfg.WebSocket
	if ws == nil {
		ws = defaultTable()
	}
	t := &Table{prefix: prefix, sel: sel, ws: make(map[string]*Route, len(ws))}
	t.keys = make([]string, 0, len(ws))
	for k := range ws {
		t.keys = append(t.keys, k)
	}
	slices.Sort(t.keys) // errors in a stable order
	for _, k := range t.keys {
		r, rerrs := resolve(k, ws[k], prefix, prefixOK)
		errs = append(errs, rerrs...)
		if r != nil {
			t.ws[k] = r
		}
	}
	var herrs []error
	t.http, herrs = newHTTPTable(cfg.HTTP, prefix)
	errs = append(errs, herrs...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.def = t.ws[KeyDefault]
	for _, k := range t.keys {
		r := t.ws[k]
		r.RateIndex = -1
		if !r.MessageRate.Unlimited() {
			r.RateIndex = t.rated
			t.rated++
		}
	}
	return t, nil
}

// HTTP is the table of HTTP routes.
func (t *Table) HTTP() *HTTPTable { return t.http }

// RatedRoutes is how many routes have a MessageRate of their own.
func (t *Table) RatedRoutes() int { return t.rated }

// Prefix returns the subject prefix every subject gatecast chooses starts
// with.
func (t *Table) Prefix() string { return t.prefix }

// Selection returns the parsed route selection expression.
func (t *Table) Selection() Path { return t.sel }

// Keys returns the configured route keys, sorted.
func (t *Table) Keys() []string { return slices.Clone(t.keys) }

// WebSocket returns the route configured for key.
func (t *Table) WebSocket(key string) (*Route, bool) {
	r, ok := t.ws[key]
	return r, ok
}

// Select picks the route of a WebSocket message. The string at the
// selection expression names a configured route; a body that is not a JSON
// object, lacks the field, has something other than a string there, names
// no configured route, or names $connect or $disconnect (which clients cannot
// select) goes to $default. ok is false when there is no $default either;
// Amazon answers such a message with {"message":"Forbidden"}.
//
// Select scans only as far as the field and does not allocate unless the
// field's string has escapes.
func (t *Table) Select(body []byte) (key string, r *Route, ok bool) {
	if v, found := t.sel.Lookup(body); found {
		if r := t.ws[string(v)]; r != nil && r.Key != KeyConnect && r.Key != KeyDisconnect {
			return r.Key, r, true
		}
	}
	if t.def == nil {
		return "", nil, false
	}
	return KeyDefault, t.def, true
}
