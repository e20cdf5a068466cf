package routes_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatecast/gatecast/routes"
)

func ptr[T any](v T) *T { return &v }

// mustNew builds a table or fails the test.
func mustNew(t *testing.T, cfg routes.Config) *routes.Table {
	t.Helper()
	tab, err := routes.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tab
}

// ws is shorthand for a config with only WebSocket routes.
func ws(m map[string]routes.Route) routes.Config { return routes.Config{WebSocket: m} }

// want is what a resolved route must look like.
type want struct {
	integration string
	subject     string
	timeout     time.Duration
	twoWay      bool
	topic       string // TopicFrom as parsed
}

func checkRoute(t *testing.T, tab *routes.Table, key string, w want) {
	t.Helper()
	r, ok := tab.WebSocket(key)
	if !ok {
		t.Fatalf("no route %s; keys %v", key, tab.Keys())
	}
	if r.Key != key || r.Integration != w.integration || r.Subject != w.subject || r.Timeout != w.timeout || r.TwoWay() != w.twoWay || r.Topic.String() != w.topic {
		t.Errorf("route %s = {key %q integration %q subject %q timeout %v two-way %v topic %q}, want {integration %q subject %q timeout %v two-way %v topic %q}",
			key, r.Key, r.Integration, r.Subject, r.Timeout, r.TwoWay(), r.Topic.String(),
			w.integration, w.subject, w.timeout, w.twoWay, w.topic)
	}
	if r.RouteResponse == nil || *r.RouteResponse != w.twoWay {
		t.Errorf("route %s: RouteResponse = %v, want a pointer to %v", key, r.RouteResponse, w.twoWay)
	}
}

func TestDefaultTable(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		want   map[string]want
	}{
		{
			name: "default prefix",
			want: map[string]want{
				routes.KeyConnect:    {integration: "nats", subject: "gatecast.connect", timeout: 29 * time.Second, twoWay: false},
				routes.KeyDisconnect: {integration: "nats", subject: "gatecast.disconnect", timeout: 29 * time.Second, twoWay: false},
				routes.KeyDefault:    {integration: "nats", subject: "gatecast.default", timeout: 29 * time.Second, twoWay: true},
			},
		},
		{
			name:   "custom prefix",
			prefix: "acme.ws-1",
			want: map[string]want{
				routes.KeyConnect:    {integration: "nats", subject: "acme.ws-1.connect", timeout: 29 * time.Second},
				routes.KeyDisconnect: {integration: "nats", subject: "acme.ws-1.disconnect", timeout: 29 * time.Second},
				routes.KeyDefault:    {integration: "nats", subject: "acme.ws-1.default", timeout: 29 * time.Second, twoWay: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustNew(t, routes.Config{SubjectPrefix: tt.prefix})
			if got := strings.Join(tab.Keys(), " "); got != "$connect $default $disconnect" {
				t.Fatalf("keys = %s, want $connect $default $disconnect", got)
			}
			wantPrefix := tt.prefix
			if wantPrefix == "" {
				wantPrefix = "gatecast"
			}
			if tab.Prefix() != wantPrefix {
				t.Errorf("Prefix() = %q, want %q", tab.Prefix(), wantPrefix)
			}
			if got := tab.Selection().String(); got != "$request.body.action" {
				t.Errorf("Selection() = %q, want $request.body.action", got)
			}
			for k, w := range tt.want {
				checkRoute(t, tab, k, w)
			}
		})
	}
}

func TestNewResolves(t *testing.T) {
	const d = 29 * time.Second
	long := strings.Repeat("k", routes.MaxKeyBytes)
	tests := []struct {
		name string
		cfg  routes.Config
		key  string
		want want
	}{
		{"custom key default subject", ws(map[string]routes.Route{"sendmessage": {}}), "sendmessage",
			want{integration: "nats", subject: "gatecast.route.sendmessage", timeout: d, twoWay: true}},
		{"custom key with digits _ and -", ws(map[string]routes.Route{"Send_msg-2": {}}), "Send_msg-2",
			want{integration: "nats", subject: "gatecast.route.Send_msg-2", timeout: d, twoWay: true}},
		{"custom key under a custom prefix", routes.Config{SubjectPrefix: "acme", WebSocket: map[string]routes.Route{"join": {}}}, "join",
			want{integration: "nats", subject: "acme.route.join", timeout: d, twoWay: true}},
		{"$default default subject", ws(map[string]routes.Route{routes.KeyDefault: {Integration: "nats"}}), routes.KeyDefault,
			want{integration: "nats", subject: "gatecast.default", timeout: d, twoWay: true}},
		{"$connect default subject", ws(map[string]routes.Route{routes.KeyConnect: {}}), routes.KeyConnect,
			want{integration: "nats", subject: "gatecast.connect", timeout: d}},
		{"$disconnect default subject", ws(map[string]routes.Route{routes.KeyDisconnect: {}}), routes.KeyDisconnect,
			want{integration: "nats", subject: "gatecast.disconnect", timeout: d}},
		{"key that is no token but has a subject", ws(map[string]routes.Route{"send message": {Subject: "chat.send"}}), "send message",
			want{integration: "nats", subject: "chat.send", timeout: d, twoWay: true}},
		{"explicit subject outside the prefix", ws(map[string]routes.Route{"a": {Subject: "other.app-1.x_y"}}), "a",
			want{integration: "nats", subject: "other.app-1.x_y", timeout: d, twoWay: true}},
		{"256-byte subject", ws(map[string]routes.Route{"a": {Subject: strings.Repeat("s", 256)}}), "a",
			want{integration: "nats", subject: strings.Repeat("s", 256), timeout: d, twoWay: true}},
		{"128-byte key", ws(map[string]routes.Route{long: {}}), long,
			want{integration: "nats", subject: "gatecast.route." + long, timeout: d, twoWay: true}},
		{"$connect waits for the verdict", ws(map[string]routes.Route{routes.KeyConnect: {RouteResponse: ptr(true), Timeout: 3 * time.Second}}), routes.KeyConnect,
			want{integration: "nats", subject: "gatecast.connect", timeout: 3 * time.Second, twoWay: true}},
		{"$disconnect route_response false", ws(map[string]routes.Route{routes.KeyDisconnect: {RouteResponse: ptr(false)}}), routes.KeyDisconnect,
			want{integration: "nats", subject: "gatecast.disconnect", timeout: d}},
		{"one-way $default", ws(map[string]routes.Route{routes.KeyDefault: {RouteResponse: ptr(false)}}), routes.KeyDefault,
			want{integration: "nats", subject: "gatecast.default", timeout: d}},
		{"one-way custom key", ws(map[string]routes.Route{"log": {RouteResponse: ptr(false)}}), "log",
			want{integration: "nats", subject: "gatecast.route.log", timeout: d}},
		{"timeout raised to the maximum", ws(map[string]routes.Route{"llm": {Timeout: 15 * time.Minute}}), "llm",
			want{integration: "nats", subject: "gatecast.route.llm", timeout: 15 * time.Minute, twoWay: true}},
		{"echo on $default", ws(map[string]routes.Route{routes.KeyDefault: {Integration: "echo"}}), routes.KeyDefault,
			want{integration: "echo", twoWay: true}},
		{"echo on a custom key", ws(map[string]routes.Route{"ping": {Integration: "echo", RouteResponse: ptr(true)}}), "ping",
			want{integration: "echo", twoWay: true}},
		{"subscribe", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.room.name", TopicPrefix: "room."}}), "join",
			want{integration: "subscribe", twoWay: true, topic: "$request.body.room.name"}},
		{"unsubscribe on $default, empty prefix, no answer", ws(map[string]routes.Route{routes.KeyDefault: {Integration: "unsubscribe", TopicFrom: "$request.body.topic", RouteResponse: ptr(false)}}), routes.KeyDefault,
			want{integration: "unsubscribe", topic: "$request.body.topic"}},
		{"topic prefix mid-token", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.t", TopicPrefix: "chat:"}}), "join",
			want{integration: "subscribe", twoWay: true, topic: "$request.body.t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustNew(t, tt.cfg)
			checkRoute(t, tab, tt.key, tt.want)
			if got := tab.Keys(); len(got) != 1 || got[0] != tt.key {
				t.Errorf("keys = %v, want only %s: a configured table gets no default routes", got, tt.key)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	subscribe := routes.Route{Integration: "subscribe", TopicFrom: "$request.body.topic"}
	tests := []struct {
		name string
		cfg  routes.Config
		want []string // every one must appear in the error
	}{
		// Subjects.
		{"wildcard *", ws(map[string]routes.Route{"sendmessage": {Subject: "a.*"}}),
			[]string{`routes.websocket.sendmessage: subject "a.*" contains a wildcard; use a literal subject such as "gatecast.route.sendmessage"`}},
		{"wildcard >", ws(map[string]routes.Route{"m": {Subject: "a.>"}}), []string{`routes.websocket.m: subject "a.>" contains a wildcard`}},
		{"wildcard inside a token", ws(map[string]routes.Route{"m": {Subject: "a.b*c"}}), []string{"contains a wildcard"}},
		{"space", ws(map[string]routes.Route{"m": {Subject: "a b"}}), []string{`subject "a b" contains whitespace`}},
		{"tab", ws(map[string]routes.Route{"m": {Subject: "a\tb"}}), []string{"contains whitespace or a control character"}},
		{"control character", ws(map[string]routes.Route{"m": {Subject: "a\x01b"}}), []string{"control character"}},
		{"empty token", ws(map[string]routes.Route{"m": {Subject: "a..b"}}), []string{`subject "a..b" has an empty token`}},
		{"leading dot", ws(map[string]routes.Route{"m": {Subject: ".a"}}), []string{"starts or ends with a dot"}},
		{"trailing dot", ws(map[string]routes.Route{"m": {Subject: "a."}}), []string{"starts or ends with a dot"}},
		{"257 bytes", ws(map[string]routes.Route{"m": {Subject: strings.Repeat("s", 257)}}), []string{"longer than 256 bytes"}},
		{"invalid UTF-8", ws(map[string]routes.Route{"m": {Subject: "a.\xff"}}), []string{"not valid UTF-8"}},
		{"key is no subject token", ws(map[string]routes.Route{"send message": {}}),
			[]string{`routes.websocket["send message"]: subject is missing and the key cannot be a subject token (only letters, digits, _ and -); set subject, such as "gatecast.route.send_message"`}},
		{"key with a dot", ws(map[string]routes.Route{"chat.send": {}}), []string{`routes.websocket["chat.send"]: subject is missing`, `"gatecast.route.chat_send"`}},
		{"non-ASCII key", ws(map[string]routes.Route{"café": {}}), []string{"subject is missing"}},
		{"default subject too long", routes.Config{SubjectPrefix: strings.Repeat("p", 200), WebSocket: map[string]routes.Route{strings.Repeat("k", 100): {}}},
			[]string{"default subject", "longer than 256 bytes; set a shorter subject"}},
		{"subject on echo", ws(map[string]routes.Route{"m": {Integration: "echo", Subject: "a.b"}}), []string{"routes.websocket.m: subject applies to nats routes only; remove it"}},
		{"subject on subscribe", ws(map[string]routes.Route{"m": {Integration: "subscribe", TopicFrom: "$request.body.t", Subject: "a.b"}}), []string{"subject applies to nats routes only"}},

		// Subject prefix.
		{"prefix wildcard", routes.Config{SubjectPrefix: "a.*"}, []string{`routes.subject_prefix: "a.*" contains a wildcard; use one or more tokens joined by dots, such as "gatecast"`}},
		{"prefix space", routes.Config{SubjectPrefix: "my app"}, []string{`routes.subject_prefix: "my app" contains whitespace`}},
		{"prefix trailing dot", routes.Config{SubjectPrefix: "acme."}, []string{"routes.subject_prefix", "starts or ends with a dot"}},
		{"prefix empty token", routes.Config{SubjectPrefix: "acme..gc"}, []string{"routes.subject_prefix", "empty token"}},
		{"prefix too long", routes.Config{SubjectPrefix: strings.Repeat("p", 257)}, []string{"routes.subject_prefix", "longer than 256"}},

		// Selection expression.
		{"selection without $request.body.", routes.Config{SelectionExpression: "request.body.action"},
			[]string{`routes.route_selection_expression: expression "request.body.action" must be "$request.body." followed by a field name, such as "$request.body.action"`}},
		{"selection without a field", routes.Config{SelectionExpression: "$request.body."}, []string{"routes.route_selection_expression", "followed by a field name"}},
		{"selection is the whole body", routes.Config{SelectionExpression: "$request.body"}, []string{"routes.route_selection_expression", "followed by a field name"}},
		{"selection with an empty field", routes.Config{SelectionExpression: "$request.body.a..b"}, []string{"empty field name"}},
		{"selection ending in a dot", routes.Config{SelectionExpression: "$request.body.a."}, []string{"empty field name"}},
		{"selection with 9 fields", routes.Config{SelectionExpression: "$request.body.a.b.c.d.e.f.g.h.i"}, []string{"more than 8 field names"}},
		{"selection with an index", routes.Config{SelectionExpression: "$request.body.a[0]"}, []string{"'['"}},
		{"selection with a header", routes.Config{SelectionExpression: "$request.header.x"}, []string{"must be \"$request.body.\""}},

		// Keys.
		{"empty key", ws(map[string]routes.Route{"": {}}), []string{"routes.websocket: a route key must not be empty"}},
		{"reserved key", ws(map[string]routes.Route{"$foo": {}}), []string{"routes.websocket.$foo: keys starting with $ are reserved"}},
		{"bare $", ws(map[string]routes.Route{"$": {}}), []string{"routes.websocket.$: keys starting with $ are reserved"}},
		{"case matters for special keys", ws(map[string]routes.Route{"$Default": {}}), []string{"$Default: keys starting with $ are reserved"}},
		{"129-byte key", ws(map[string]routes.Route{strings.Repeat("k", 129): {}}), []string{"longer than 128 bytes"}},
		{"key with a control character", ws(map[string]routes.Route{"a\x00b": {}}), []string{`routes.websocket["a\x00b"]`, "control character"}},
		{"key not UTF-8", ws(map[string]routes.Route{"a\xffb": {}}), []string{"not valid UTF-8"}},

		// Integrations.
		{"unknown integration", ws(map[string]routes.Route{routes.KeyDefault: {Integration: "lambda"}}),
			[]string{`routes.websocket.$default: unknown integration "lambda"; use nats, echo, subscribe or unsubscribe`}},
		{"integration is case-sensitive", ws(map[string]routes.Route{"m": {Integration: "NATS"}}), []string{`unknown integration "NATS"`}},
		{"echo on $connect", ws(map[string]routes.Route{routes.KeyConnect: {Integration: "echo"}}),
			[]string{"routes.websocket.$connect: integration echo cannot serve $connect; only nats can"}},
		{"subscribe on $disconnect", ws(map[string]routes.Route{routes.KeyDisconnect: {Integration: "subscribe", TopicFrom: "$request.body.t"}}),
			[]string{"integration subscribe cannot serve $disconnect"}},
		{"unsubscribe on $connect", ws(map[string]routes.Route{routes.KeyConnect: {Integration: "unsubscribe", TopicFrom: "$request.body.t"}}),
			[]string{"integration unsubscribe cannot serve $connect"}},

		// Route responses.
		{"two-way $disconnect", ws(map[string]routes.Route{routes.KeyDisconnect: {RouteResponse: ptr(true)}}),
			[]string{"routes.websocket.$disconnect: route_response cannot be true"}},
		{"one-way echo", ws(map[string]routes.Route{"m": {Integration: "echo", RouteResponse: ptr(false)}}), []string{"route_response cannot be false for echo"}},

		// Timeouts.
		{"negative timeout", ws(map[string]routes.Route{"m": {Timeout: -time.Second}}), []string{"routes.websocket.m: timeout -1s is negative"}},
		{"timeout over 15m", ws(map[string]routes.Route{"m": {Timeout: 15*time.Minute + time.Nanosecond}}), []string{"over the maximum of 15m"}},
		{"timeout on echo", ws(map[string]routes.Route{"m": {Integration: "echo", Timeout: time.Second}}), []string{"timeout applies to nats routes only"}},

		// Topics.
		{"subscribe without topic_from", ws(map[string]routes.Route{"join": {Integration: "subscribe"}}),
			[]string{`routes.websocket.join: topic_from is missing; say where messages name the topic, such as "$request.body.topic"`}},
		{"unsubscribe without topic_from", ws(map[string]routes.Route{"leave": {Integration: "unsubscribe"}}), []string{"routes.websocket.leave: topic_from is missing"}},
		{"topic_from not in body form", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "topic"}}),
			[]string{`routes.websocket.join: topic_from: expression "topic" must be "$request.body."`}},
		{"topic_from too deep", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.1.2.3.4.5.6.7.8.9"}}), []string{"topic_from", "more than 8"}},
		{"topic_prefix leading dot", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.t", TopicPrefix: ".room"}}),
			[]string{`routes.websocket.join: topic_prefix ".room" cannot start a topic`}},
		{"topic_prefix empty segment", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.t", TopicPrefix: "a..b"}}), []string{"topic_prefix"}},
		{"topic_prefix wildcard", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.t", TopicPrefix: "room.*"}}), []string{"topic_prefix"}},
		{"topic_prefix too long", ws(map[string]routes.Route{"join": {Integration: "subscribe", TopicFrom: "$request.body.t", TopicPrefix: strings.Repeat("r", 129)}}), []string{"topic_prefix"}},
		{"topic_from on nats", ws(map[string]routes.Route{"m": {TopicFrom: "$request.body.t"}}), []string{"routes.websocket.m: topic_from and topic_prefix apply to subscribe and unsubscribe routes only"}},
		{"topic_prefix on echo", ws(map[string]routes.Route{"m": {Integration: "echo", TopicPrefix: "room."}}), []string{"topic_from and topic_prefix apply"}},

		// Errors are collected.
		{"every problem is reported", routes.Config{
			SubjectPrefix:       "a b",
			SelectionExpression: "action",
			WebSocket: map[string]routes.Route{
				"$foo": {}, "join": subscribe, "x": {Subject: "a.*"}, routes.KeyDisconnect: {RouteResponse: ptr(true)},
			},
		}, []string{"routes.subject_prefix", "routes.route_selection_expression", "$foo", "routes.websocket.x", "$disconnect: route_response"}},
		{"several problems in one route", ws(map[string]routes.Route{"m": {Integration: "echo", Subject: "s", Timeout: time.Second, TopicFrom: "$request.body.t"}}),
			[]string{"subject applies", "timeout applies", "topic_from and topic_prefix apply"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := routes.New(tt.cfg)
			if err == nil {
				t.Fatalf("New succeeded (keys %v), want an error containing %q", tab.Keys(), tt.want)
			}
			if tab != nil {
				t.Errorf("New returned a table with its error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n\t%v\ndoes not contain\n\t%s", err, w)
				}
			}
		})
	}
}

func TestNewErrorOrderIsStable(t *testing.T) {
	cfg := ws(map[string]routes.Route{"b": {Subject: "*"}, "a": {Subject: "*"}, "c": {Subject: "*"}, "$x": {}})
	_, err := routes.New(cfg)
	if err == nil {
		t.Fatal("New succeeded")
	}
	got := err.Error()
	for i := 0; i < 20; i++ {
		if _, err := routes.New(cfg); err.Error() != got {
			t.Fatalf("errors changed order:\n%v\n%v", got, err)
		}
	}
	lines := strings.Split(got, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "routes.websocket.$x") || !strings.HasPrefix(lines[1], "routes.websocket.a") || !strings.HasPrefix(lines[3], "routes.websocket.c") {
		t.Fatalf("errors not one per line in key order:\n%s", got)
	}
}

func TestSelectionExpressionError(t *testing.T) {
	_, err := routes.New(routes.Config{SelectionExpression: "$request.body"})
	if !errors.Is(err, routes.ErrExpression) {
		t.Fatalf("New error %v does not match ErrExpression", err)
	}
}

func TestEmptyTable(t *testing.T) {
	tab := mustNew(t, ws(map[string]routes.Route{}))
	if keys := tab.Keys(); len(keys) != 0 {
		t.Fatalf("keys = %v, want none", keys)
	}
	if _, _, ok := tab.Select([]byte(`{"action":"x"}`)); ok {
		t.Fatal("Select found a route in an empty table")
	}
}

func TestTableIsImmutable(t *testing.T) {
	yes := true
	cfg := ws(map[string]routes.Route{"m": {RouteResponse: &yes}})
	tab := mustNew(t, cfg)
	yes = false
	cfg.WebSocket["m"] = routes.Route{Subject: "changed"}
	r, _ := tab.WebSocket("m")
	if !r.TwoWay() || !*r.RouteResponse || r.Subject != "gatecast.route.m" {
		t.Fatalf("changing the config after New changed the table: %+v", r)
	}
	keys := tab.Keys()
	keys[0] = "x"
	if tab.Keys()[0] != "m" {
		t.Fatal("Keys returned the table's own slice")
	}
}

func TestValidTopic(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		want  bool
	}{
		{"one token", "news", true},
		{"tokens", "room.42.chat", true},
		{"colon dash underscore", "chat:room_1-a", true},
		{"128 bytes", strings.Repeat("t", 128), true},
		{"129 bytes", strings.Repeat("t", 129), false},
		{"empty", "", false},
		{"leading dot", ".a", false},
		{"trailing dot", "a.", false},
		{"empty segment", "a..b", false},
		{"only a dot", ".", false},
		{"wildcard *", "room.*", false},
		{"wildcard >", "room.>", false},
		{"space", "a b", false},
		{"slash", "a/b", false},
		{"non-ASCII", "café", false},
		{"NUL", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routes.ValidTopic(tt.topic); got != tt.want {
				t.Fatalf("ValidTopic(%q) = %v, want %v", tt.topic, got, tt.want)
			}
		})
	}
}

func TestTopicName(t *testing.T) {
	tab := mustNew(t, ws(map[string]routes.Route{
		"join":  {Integration: "subscribe", TopicFrom: "$request.body.room", TopicPrefix: "room."},
		"watch": {Integration: "subscribe", TopicFrom: "$request.body.q.topic"},
	}))
	tests := []struct {
		name  string
		key   string
		body  string
		want  string
		found bool
	}{
		{"with prefix", "join", `{"action":"join","room":"room.42"}`, "room.42", true},
		{"prefix itself is not enough", "join", `{"room":"room."}`, "", false},
		{"without prefix", "join", `{"room":"lobby"}`, "", false},
		{"invalid topic", "join", `{"room":"room.*"}`, "", false},
		{"escaped", "join", `{"room":"room\u002e7"}`, "room.7", true},
		{"missing", "join", `{"action":"join"}`, "", false},
		{"not a string", "join", `{"room":42}`, "", false},
		{"nested, empty prefix", "watch", `{"q":{"topic":"prices:EUR"}}`, "prices:EUR", true},
		{"nested, invalid", "watch", `{"q":{"topic":""}}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := tab.WebSocket(tt.key)
			got, ok := r.TopicName([]byte(tt.body))
			if ok != tt.found || string(got) != tt.want {
				t.Fatalf("TopicName(%s) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.found)
			}
		})
	}
}
