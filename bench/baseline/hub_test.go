package baseline

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestPublishReachesEveryMember(t *testing.T) {
	s, url := start(t)
	members := []*websocket.Conn{dial(t, url+BroadcastPath), dial(t, url+BroadcastPath), dial(t, url+BroadcastPath)}
	echo := dial(t, url+"/other")
	checkFor(t, 5*time.Second, "members did not join", func() bool { return s.Hub().Stats().Members == 3 })

	const msgs = 50
	for i := range msgs {
		if !s.Publish([]byte(strconv.Itoa(i))) {
			t.Fatal("Publish returned false on an open server")
		}
	}
	for mi, c := range members {
		for i := range msgs {
			op, got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("member %d, message %d: %v", mi, i, err)
			}
			if op != websocket.TextMessage || string(got) != strconv.Itoa(i) {
				t.Fatalf("member %d got (%d, %q), want (text, %q): order lost?", mi, op, got, strconv.Itoa(i))
			}
		}
	}
	// A connection on another path still echoes and gets no broadcasts.
	echo.WriteMessage(websocket.BinaryMessage, []byte("e"))
	if _, got, err := echo.ReadMessage(); err != nil || string(got) != "e" {
		t.Fatalf("echo path: %q, %v", got, err)
	}
	st := s.Hub().Stats()
	if st.Broadcasts != msgs || st.Queued != 3*msgs || st.Dropped != 0 {
		t.Errorf("stats %+v, want %d broadcasts, %d queued, none dropped", st, msgs, 3*msgs)
	}
}

func TestMemberMessagesAreBroadcast(t *testing.T) {
	s, url := start(t)
	a, b := dial(t, url+BroadcastPath), dial(t, url+BroadcastPath)
	checkFor(t, 5*time.Second, "members did not join", func() bool { return s.Hub().Stats().Members == 2 })
	a.WriteMessage(websocket.BinaryMessage, []byte("from a"))
	for i, c := range []*websocket.Conn{a, b} {
		op, got, err := c.ReadMessage()
		if err != nil || op != websocket.BinaryMessage || string(got) != "from a" {
			t.Fatalf("member %d: (%d, %q, %v), want the binary message a sent", i, op, got, err)
		}
	}
}

func TestPublishEndpoint(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{name: "small", body: "hello", status: http.StatusNoContent},
		{name: "over the read limit", body: strings.Repeat("x", maxMessageSize+1), status: http.StatusRequestEntityTooLarge},
	}
	s, url := start(t)
	c := dial(t, url+BroadcastPath)
	checkFor(t, 5*time.Second, "member did not join", func() bool { return s.Hub().Stats().Members == 1 })
	httpURL := "http" + strings.TrimPrefix(url, "ws") + PublishPath
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(httpURL, "text/plain", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("POST %s: %d, want %d", PublishPath, resp.StatusCode, tt.status)
			}
			if tt.status != http.StatusNoContent {
				return
			}
			if _, got, err := c.ReadMessage(); err != nil || string(got) != tt.body {
				t.Fatalf("member got %q, %v", got, err)
			}
		})
	}
}

func TestSlowMemberIsDropped(t *testing.T) {
	s, url := start(t)
	slow := dial(t, url+BroadcastPath) // never reads
	checkFor(t, 5*time.Second, "member did not join", func() bool { return s.Hub().Stats().Members == 1 })
	big := make([]byte, 64<<10)
	// The kernel buffers take some megabytes, then the 256-message queue
	// fills and the hub drops the member, as the chat example does.
	for i := 0; s.Hub().Stats().Dropped == 0; i++ {
		if i > 100000 {
			t.Fatal("the member was never dropped")
		}
		s.Publish(big)
	}
	if st := s.Hub().Stats(); st.Members != 0 || st.Dropped != 1 {
		t.Errorf("stats %+v, want no members and one dropped", st)
	}
	// Its write pump is stuck on the full socket until the write deadline
	// (10 s); the peer going away ends it sooner.
	slow.Close()
	checkFor(t, 5*time.Second, "the dropped member's pumps did not end", func() bool { return s.Conns() == 0 })
}

func TestPublishAfterClose(t *testing.T) {
	s, url := start(t)
	dial(t, url+BroadcastPath)
	checkFor(t, 5*time.Second, "member did not join", func() bool { return s.Hub().Stats().Members == 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Publish([]byte("late")) {
		t.Error("Publish after Close returned true")
	}
}
