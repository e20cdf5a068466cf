package protocol

import "testing"

func TestConnectionIDRoundTrip(t *testing.T) {
	id := ConnectionID{Node: "n0de_1", N: 0xdeadbeef00000042}
	s := id.String()
	if s != "n0de_1-deadbeef00000042" {
		t.Fatalf("String = %q", s)
	}
	got, err := ParseConnectionID(s)
	if err != nil || got != id {
		t.Fatalf("Parse(%q) = %+v, %v", s, got, err)
	}
}

func TestParseConnectionIDRejects(t *testing.T) {
	for _, s := range []string{
		"", "-0000000000000001", "node-1", "node-000000000000000g", "no.de-0000000000000001",
		"node*-0000000000000001", "node>-0000000000000001", "node-00000000000000001", "node -0000000000000001",
	} {
		if _, err := ParseConnectionID(s); err == nil {
			t.Errorf("ParseConnectionID(%q) accepted it", s)
		}
	}
}

func TestValidTopic(t *testing.T) {
	for name, want := range map[string]bool{
		"room": true, "room.42": true, "a-b_c:d": true, "a.b.c": true,
		"": false, ".a": false, "a.": false, "a..b": false, "a*": false, ">": false, "a b": false,
		string(make([]byte, 129)): false,
	} {
		if got := ValidTopic(name); got != want {
			t.Errorf("ValidTopic(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSubjects(t *testing.T) {
	s := Subjects{Prefix: "gc"}
	id := ConnectionID{Node: "n1", N: 5}
	cmd := s.Command(id, CommandSend)
	if cmd != "gc.conn.n1.0000000000000005.send" {
		t.Fatalf("Command = %q", cmd)
	}
	n, c, ok := s.ParseCommand("n1", cmd)
	if !ok || n != 5 || c != CommandSend {
		t.Fatalf("ParseCommand = %d %q %v", n, c, ok)
	}
	for _, bad := range []string{"gc.conn.n2.0000000000000005.send", "gc.conn.n1.5.send", "gc.conn.n1.0000000000000005.send.x", "gc.topic.x"} {
		if _, _, ok := s.ParseCommand("n1", bad); ok {
			t.Errorf("ParseCommand(%q) accepted it", bad)
		}
	}
	if got := s.Topic("room.1"); got != "gc.topic.room.1" {
		t.Errorf("Topic = %q", got)
	}
}
