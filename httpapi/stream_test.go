package httpapi

import (
	"net/http"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestAppendEvent(t *testing.T) {
	for _, c := range []struct {
		event, id, data, want string
	}{
		{"", "", "hello", "data: hello\n\n"},
		{"", "", "", "data: \n\n"},
		{"token", "7", "a", "event: token\nid: 7\ndata: a\n\n"},
		{"", "", "one\ntwo", "data: one\ndata: two\n\n"},
		{"", "", "one\r\ntwo\rthree\n", "data: one\ndata: two\ndata: three\ndata: \n\n"},
		// A chunk cannot start fields of its own, nor an event name or id
		// span lines.
		{"", "", "x\n\nevent: evil", "data: x\ndata: \ndata: event: evil\n\n"},
		{"a\nevent: b", "1\r\nid: 2", "d", "event: a\nid: 1\ndata: d\n\n"},
	} {
		if got := string(appendEvent(nil, c.event, c.id, []byte(c.data))); got != c.want {
			t.Errorf("appendEvent(%q, %q, %q) = %q, want %q", c.event, c.id, c.data, got, c.want)
		}
	}
}

func TestAnswerStatus(t *testing.T) {
	for status, want := range map[string]int{"": 200, "201": 201, "599": 599, "404": 404, "199": 0, "600": 0, "ok": 0, "2O0": 0} {
		m := nats.NewMsg("x")
		if status != "" {
			m.Header.Set("Gatecast-Status", status)
		}
		got, err := answerStatus(m)
		if want == 0 && err == nil || want != 0 && (err != nil || got != want) {
			t.Errorf("status %q: got %d, %v; want %d", status, got, err, want)
		}
	}
}

func TestCopyHeaders(t *testing.T) {
	src := nats.Header{
		"content-type":    {"text/plain"},
		"X-Multi":         {"a", "b"},
		"Gatecast-Status": {"200"},    // the gateway's own: never a response header
		"Nats-Msg-Id":     {"1"},      // NATS': never
		"Connection":      {"close"},  // hop-by-hop: never
		"Content-Length":  {"999999"}, // the gateway sets it
	}
	dst := http.Header{}
	if err := copyHeaders(dst, src); err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Content-Type": {"text/plain"}, "X-Multi": {"a", "b"}}
	if len(dst) != len(want) || dst.Get("Content-Type") != "text/plain" || len(dst["X-Multi"]) != 2 {
		t.Errorf("copied %v, want %v", dst, want)
	}
	for _, bad := range []nats.Header{{"X-A": {"a\x00b"}}, {"X A": {"v"}}, {"X-A": {"a\x7fb"}}} {
		if err := copyHeaders(http.Header{}, bad); err == nil {
			t.Errorf("copyHeaders(%q) accepted an invalid header", bad)
		}
	}
}

func TestCallBuffer(t *testing.T) {
	c := &call{notify: make(chan struct{}, 1), limit: 10}
	msg := func(n int) *nats.Msg { return &nats.Msg{Data: make([]byte, n)} }
	c.push(msg(50)) // one message always fits
	c.push(msg(1))  // over the limit behind it: overflow
	got, overflow := c.take(nil)
	if !overflow || len(got) != 0 {
		t.Errorf("after overflow: %d messages, overflow %v; want none and true", len(got), overflow)
	}
	c = &call{notify: make(chan struct{}, 1), limit: 10}
	c.push(msg(4))
	c.push(msg(6))
	got, overflow = c.take(nil)
	if overflow || len(got) != 2 {
		t.Errorf("within the limit: %d messages, overflow %v; want 2 and false", len(got), overflow)
	}
	select {
	case <-c.notify:
	default:
		t.Error("push did not wake the reader")
	}
}
