package gateway_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/gateway"
	"github.com/gatecast/gatecast/routes"
)

// FuzzParseConfig feeds arbitrary YAML to the strict config decoder and the
// route table built from it. Neither may panic; a config that decodes gives
// routes.New either an error or a table, never both or neither; and a table
// it builds has every route resolved and routes every message somewhere
// consistent.
func FuzzParseConfig(f *testing.F) {
	for _, path := range exampleConfigs(f) {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"listen: 127.0.0.1:0\nroutes:\n  websocket: {}\n",
		"routes:\n  subject_prefix: acme\n  route_selection_expression: $request.body.meta.type\n",
		"routes:\n  websocket:\n    $connect: {route_response: true, timeout: 5s}\n    $default: {integration: echo}\n    sendmessage: {subject: chat.send, timeout: 15m}\n",
		"routes:\n  websocket:\n    join: {integration: subscribe, topic_from: $request.body.room, topic_prefix: \"room.\"}\n    leave: {integration: unsubscribe, topic_from: $request.body.room}\n",
		"routes:\n  websocket:\n    x: {subject: \"a.*\", timeout: -1s}\n    $bad: {}\n",
		"routes:\n  websocket:\n    $default: {timeout: 30}\n",
		"routes:\n  websocket:\n    a: &r {integration: echo}\n    b: *r\n",
		"routes: {websocket: {$default: {unknown_field: 1}}}\n",
		"routes:\n  websocket:\n    $default:\n      key: x\n",
		"routes:\n  http:\n    \"GET /users/{id}\": {subject: api.users, timeout: 2m}\n    \"ANY /files/{proxy+}\": {subject: api.files, stream: sse}\n    $default: {}\n",
		"routes:\n  http:\n    \"POST /o/{id}\":\n      subject: o\n      mode: mapping\n      request_parameters: {\"overwrite:path\": \"/v2/$request.path.id\"}\n      request_template: '{{json (field \"a\")}}'\n",
		"routes:\n  http:\n    \"GET /a/{x}\": {subject: a}\n    \"GET /a/{y}\": {subject: b}\n",
		"routes:\n  http:\n    \"GET /a\": {subject: a, request_template: x, throttle: {per_second: 5}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := gateway.ParseConfig(data)
		if err != nil {
			return
		}
		tab, err := routes.New(cfg.Routes)
		if (tab == nil) == (err == nil) {
			t.Fatalf("routes.New = %v, %v: want exactly one of a table and an error", tab, err)
		}
		if err != nil {
			if _, err2 := routes.New(cfg.Routes); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("routes.New is not deterministic:\n%v\n%v", err, err2)
			}
			return
		}
		checkTable(t, tab, cfg.Routes)
		for _, r := range tab.HTTP().Routes() {
			if r.Subject == "" || r.Timeout <= 0 || r.MaxBodyBytes <= 0 || r.StreamBuffer <= 0 ||
				(r.Mode == routes.ModeMapping) != (r.Mapper != nil) || (r.Key != routes.KeyDefault && r.Path == "") {
				t.Fatalf("HTTP route %q not resolved: %+v", r.Key, r)
			}
		}
	})
}

// checkTable checks that every route in tab has its defaults resolved and
// that Select only ever picks configured routes.
func checkTable(t *testing.T, tab *routes.Table, cfg routes.Config) {
	t.Helper()
	keys := tab.Keys()
	if cfg.WebSocket != nil && len(keys) != len(cfg.WebSocket) {
		t.Fatalf("table has keys %q, config has %d routes", keys, len(cfg.WebSocket))
	}
	if tab.Prefix() == "" || tab.Selection().IsZero() {
		t.Fatalf("table has prefix %q and selection %q", tab.Prefix(), tab.Selection())
	}
	for _, k := range keys {
		r, ok := tab.WebSocket(k)
		if !ok || r.Key != k {
			t.Fatalf("WebSocket(%q) = %+v, %v", k, r, ok)
		}
		switch r.Integration {
		case routes.IntegrationNATS:
			if r.Subject == "" || strings.ContainsAny(r.Subject, "*> \t\r\n") || r.Timeout <= 0 || r.Timeout > routes.MaxTimeout {
				t.Fatalf("nats route %q unresolved: subject %q, timeout %v", k, r.Subject, r.Timeout)
			}
		case routes.IntegrationEcho:
			if !r.TwoWay() {
				t.Fatalf("echo route %q is one-way", k)
			}
		case routes.IntegrationSubscribe, routes.IntegrationUnsubscribe:
			if r.Topic.IsZero() {
				t.Fatalf("%s route %q has no topic path", r.Integration, k)
			}
		default:
			t.Fatalf("route %q has integration %q", k, r.Integration)
		}
		if (k == routes.KeyConnect || k == routes.KeyDisconnect) && r.Integration != routes.IntegrationNATS {
			t.Fatalf("%s uses %s", k, r.Integration)
		}
		if k == routes.KeyDisconnect && r.TwoWay() {
			t.Fatalf("$disconnect is two-way")
		}
	}
	_, hasDefault := tab.WebSocket(routes.KeyDefault)
	for _, k := range append(keys, "", "nosuchroute", routes.KeyConnect) {
		key, r, ok := tab.Select([]byte(`{"action":` + quote(k) + `}`))
		if ok != (hasDefault || slices.Contains(keys, k) && k != routes.KeyConnect && k != routes.KeyDisconnect) {
			t.Fatalf("Select for %q: ok = %v", k, ok)
		}
		if ok && (r == nil || r.Key != key || key == routes.KeyConnect || key == routes.KeyDisconnect) {
			t.Fatalf("Select for %q = %q, %+v", k, key, r)
		}
	}
}

// quote writes s as a JSON string without escaping anything but quotes,
// backslashes and control characters, so keys with odd bytes stay odd.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// exampleConfigs lists the YAML files under examples/.
func exampleConfigs(t testing.TB) []string {
	t.Helper()
	top, err1 := filepath.Glob("../examples/*.yaml")
	nested, err2 := filepath.Glob("../examples/*/*.yaml")
	paths := append(top, nested...)
	if err1 != nil || err2 != nil || len(paths) == 0 {
		t.Fatalf("no example configurations: %v %v", err1, err2)
	}
	return paths
}

// TestExampleConfigs loads every example configuration and builds its route
// table.
func TestExampleConfigs(t *testing.T) {
	for _, path := range exampleConfigs(t) {
		t.Run(strings.TrimPrefix(path, "../examples/"), func(t *testing.T) {
			cfg, err := gateway.LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			tab, err := routes.New(cfg.Routes)
			if err != nil {
				t.Fatal(err)
			}
			checkTable(t, tab, cfg.Routes)
			if path == "../examples/echo.yaml" {
				key, r, ok := tab.Select([]byte("hello"))
				if !ok || key != routes.KeyDefault || r.Integration != routes.IntegrationEcho {
					t.Fatalf("echo.yaml sends a message to %q (%+v), want $default: echo", key, r)
				}
			}
		})
	}
}
