package routes_test

import (
	"testing"

	"github.com/gatecast/gatecast/mapping"
	"github.com/gatecast/gatecast/routes"
)

// httpRoute builds a table with the one HTTP route "GET /x" and returns
// the route as resolved, or New's error.
func httpRoute(t *testing.T, r routes.HTTPRoute) (*routes.HTTPRoute, error) {
	t.Helper()
	tab, err := routes.New(routes.Config{HTTP: map[string]routes.HTTPRoute{"GET /x": r}})
	if err != nil {
		return nil, err
	}
	rs := tab.HTTP().Routes()
	if len(rs) != 1 {
		t.Fatalf("%d HTTP routes, want 1", len(rs))
	}
	return rs[0], nil
}

// enumFields are the HTTP route's enum-like fields as resolved.
type enumFields struct{ mode, stream, overflow, authorization, waf string }

func enums(r *routes.HTTPRoute) enumFields {
	return enumFields{r.Mode, r.Stream, r.StreamOverflow, r.Authorization, r.WAF}
}

func TestHTTPRouteEnums(t *testing.T) {
	tests := []struct {
		name  string
		route routes.HTTPRoute
		want  enumFields
	}{
		{"zero values take the defaults", routes.HTTPRoute{Subject: "api.x"},
			enumFields{routes.ModeProxy, routes.StreamChunked, "wait", "none", ""}},
		{"every other value", routes.HTTPRoute{Subject: "api.x", Mode: routes.ModeMapping, Stream: routes.StreamSSE, StreamOverflow: "cut", Authorization: "jwt", WAF: "block"},
			enumFields{routes.ModeMapping, routes.StreamSSE, "cut", "jwt", "block"}},
		{"the defaults spelled out", routes.HTTPRoute{Subject: "api.x", Mode: routes.ModeProxy, Stream: routes.StreamChunked, StreamOverflow: "wait", Authorization: "none", WAF: "off"},
			enumFields{routes.ModeProxy, routes.StreamChunked, "wait", "none", "off"}},
		{"waf count", routes.HTTPRoute{Subject: "api.x", WAF: "count"},
			enumFields{routes.ModeProxy, routes.StreamChunked, "wait", "none", "count"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := httpRoute(t, tt.route)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := enums(r); got != tt.want {
				t.Errorf("resolved %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHTTPRouteEnumErrors(t *testing.T) {
	tests := []struct {
		name  string
		route routes.HTTPRoute
		want  string // the whole error
	}{
		{"mode", routes.HTTPRoute{Subject: "api.x", Mode: "rest"}, `routes.http["GET /x"]: mode "rest": want proxy or mapping`},
		{"stream", routes.HTTPRoute{Subject: "api.x", Stream: "ws"}, `routes.http["GET /x"]: stream "ws": want chunked or sse`},
		{"stream_overflow", routes.HTTPRoute{Subject: "api.x", StreamOverflow: "drop"}, `routes.http["GET /x"]: stream_overflow "drop": want wait or cut`},
		{"authorization", routes.HTTPRoute{Subject: "api.x", Authorization: "JWT"}, `routes.http["GET /x"]: authorization "JWT": want none or jwt`},
		{"waf", routes.HTTPRoute{Subject: "api.x", WAF: "on"}, `routes.http["GET /x"]: waf "on": want block, count or off`},
		{"an unknown authorization is not jwt", routes.HTTPRoute{Subject: "api.x", Authorization: "oauth", Scopes: []string{"read"}},
			`routes.http["GET /x"]: authorization "oauth": want none or jwt` + "\n" + `routes.http["GET /x"]: scopes need authorization: jwt`},
		{"an unknown mode is not mapping", routes.HTTPRoute{Subject: "api.x", Mode: "Mapping", Config: mapping.Config{ResponseTemplate: "{}"}},
			`routes.http["GET /x"]: mode "Mapping": want proxy or mapping` + "\n" + `routes.http["GET /x"]: request_parameters, request_template, response_parameters and response_template need mode: mapping`},
		{"every field is checked", routes.HTTPRoute{Subject: "api.x", Mode: "a", Stream: "b", StreamOverflow: "c", Authorization: "d", WAF: "e"},
			`routes.http["GET /x"]: mode "a": want proxy or mapping` + "\n" +
				`routes.http["GET /x"]: stream "b": want chunked or sse` + "\n" +
				`routes.http["GET /x"]: stream_overflow "c": want wait or cut` + "\n" +
				`routes.http["GET /x"]: authorization "d": want none or jwt` + "\n" +
				`routes.http["GET /x"]: waf "e": want block, count or off`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := httpRoute(t, tt.route)
			if err == nil {
				t.Fatalf("New succeeded with %+v, want the error\n\t%s", enums(r), tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n\t%v\nwant\n\t%s", err, tt.want)
			}
		})
	}
}
