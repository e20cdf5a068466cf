package routes_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/routes"
)

func chatTable(t testing.TB) *routes.Table {
	t.Helper()
	tab, err := routes.New(routes.Config{WebSocket: map[string]routes.Route{
		routes.KeyConnect:    {},
		routes.KeyDisconnect: {},
		routes.KeyDefault:    {},
		"sendmessage":        {},
		"join":               {Integration: routes.IntegrationSubscribe, TopicFrom: "$request.body.room"},
		"ping":               {Integration: routes.IntegrationEcho},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestSelect(t *testing.T) {
	chat := chatTable(t)
	noDefault := mustNew(t, ws(map[string]routes.Route{"sendmessage": {}}))
	nested := mustNew(t, routes.Config{
		SelectionExpression: "$request.body.meta.type",
		WebSocket:           map[string]routes.Route{"sendmessage": {}, routes.KeyDefault: {Integration: "echo"}},
	})
	tests := []struct {
		name    string
		tab     *routes.Table
		body    string
		wantKey string // "" means ok=false
	}{
		{"by value", chat, `{"action":"sendmessage","data":"hello"}`, "sendmessage"},
		{"field not first", chat, `{"data":"hello","action":"join","room":"r"}`, "join"},
		{"echo route", chat, `{"action":"ping"}`, "ping"},
		{"escaped value", chat, `{"action":"send\u006dessage"}`, "sendmessage"},
		{"unknown value", chat, `{"action":"nosuchroute"}`, routes.KeyDefault},
		{"value differs in case", chat, `{"action":"SendMessage"}`, routes.KeyDefault},
		{"not JSON", chat, `hello`, routes.KeyDefault},
		{"binary", chat, "\x00\x01\xff", routes.KeyDefault},
		{"empty message", chat, ``, routes.KeyDefault},
		{"field absent", chat, `{"data":"hello"}`, routes.KeyDefault},
		{"field nested elsewhere", chat, `{"data":{"action":"sendmessage"}}`, routes.KeyDefault},
		{"non-string value", chat, `{"action":7}`, routes.KeyDefault},
		{"array at top", chat, `["sendmessage"]`, routes.KeyDefault},
		{"$connect as value", chat, `{"action":"$connect"}`, routes.KeyDefault},
		{"$disconnect as value", chat, `{"action":"$disconnect"}`, routes.KeyDefault},
		{"$default as value", chat, `{"action":"$default"}`, routes.KeyDefault},
		{"truncated after value", chat, `{"action":"join"`, "join"},
		{"truncated before value", chat, `{"action":"jo`, routes.KeyDefault},
		{"no $default: match", noDefault, `{"action":"sendmessage"}`, "sendmessage"},
		{"no $default: unknown", noDefault, `{"action":"other"}`, ""},
		{"no $default: not JSON", noDefault, `hi`, ""},
		{"nested expression", nested, `{"action":"x","meta":{"type":"sendmessage"}}`, "sendmessage"},
		{"nested expression, top-level field ignored", nested, `{"type":"sendmessage"}`, routes.KeyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, r, ok := tt.tab.Select([]byte(tt.body))
			if tt.wantKey == "" {
				if ok || key != "" || r != nil {
					t.Fatalf("Select(%q) = %q, %v, %v; want no route", tt.body, key, r, ok)
				}
				return
			}
			if !ok || key != tt.wantKey {
				t.Fatalf("Select(%q) = %q, %v; want %q", tt.body, key, ok, tt.wantKey)
			}
			if want, _ := tt.tab.WebSocket(key); r != want || r.Key != key {
				t.Fatalf("Select returned route %p (key %q), want the table's %p", r, r.Key, want)
			}
		})
	}
}

func TestSelectDoesNotAllocate(t *testing.T) {
	tab := chatTable(t)
	for _, body := range []string{
		`{"action":"sendmessage","data":"hello"}`,
		`{"data":{"nested":[1,2,{"x":"y\"z"}]},"action":"join","room":"room.1"}`,
		`{"action":"nosuchroute"}`,
		`not json at all`,
		`{"action":"日本"}`,
	} {
		t.Run(body, func(t *testing.T) {
			b := []byte(body)
			allocs := testing.AllocsPerRun(1000, func() {
				if _, _, ok := tab.Select(b); !ok {
					t.Fatal("no route")
				}
			})
			if allocs != 0 {
				t.Fatalf("Select allocated %v times per call, want 0", allocs)
			}
		})
	}
	t.Run("TopicName", func(t *testing.T) {
		r, _ := tab.WebSocket("join")
		b := []byte(`{"action":"join","room":"room.1"}`)
		if allocs := testing.AllocsPerRun(1000, func() { r.TopicName(b) }); allocs != 0 {
			t.Fatalf("TopicName allocated %v times per call, want 0", allocs)
		}
	})
}

// BenchmarkSelect routes a message whose selection field comes last, after
// padding in a string field: the cost of scanning to the field.
func BenchmarkSelect(b *testing.B) {
	tab := chatTable(b)
	for _, size := range []int{64, 4 << 10} {
		b.Run(fmt.Sprintf("size=%s", sizeName(size)), func(b *testing.B) {
			body := paddedMessage(size)
			if key, _, _ := tab.Select(body); key != "sendmessage" {
				b.Fatalf("selected %q, want sendmessage", key)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tab.Select(body)
			}
		})
	}
}

// BenchmarkLookup compares structures the scanner has to walk.
func BenchmarkLookup(b *testing.B) {
	p := mustPath(b, "$request.body.action")
	bodies := []struct{ name, body string }{
		{"shape=flat", `{"id":1234,"ts":1712345678.25,"user":"alice","ok":true,"action":"sendmessage"}`},
		{"shape=nested", `{"meta":{"a":[1,2,3],"b":{"c":[{"d":null},{"e":false}]}},"tags":["x","y"],"action":"sendmessage"}`},
		{"shape=escaped", `{"text":"line\n\"quoted\" \\ \u00e9","action":"send\u006dessage"}`},
	}
	for _, bb := range bodies {
		b.Run(bb.name, func(b *testing.B) {
			body := []byte(bb.body)
			if v, ok := p.Lookup(body); !ok || string(v) != "sendmessage" {
				b.Fatalf("Lookup = %q, %v", v, ok)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p.Lookup(body)
			}
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// paddedMessage returns a size-byte message {"data":"aaa…","action":"sendmessage"}.
func paddedMessage(size int) []byte {
	const frame = `{"data":"","action":"sendmessage"}`
	body := []byte(`{"data":"` + strings.Repeat("a", size-len(frame)) + `","action":"sendmessage"}`)
	if len(body) != size {
		panic("paddedMessage: wrong size")
	}
	return body
}
