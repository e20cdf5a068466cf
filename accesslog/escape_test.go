package accesslog

import "testing"

// TestEscapers pins the bytes each escaper writes, for a string and for the
// same text as []byte (a claim rendered as JSON).
func TestEscapers(t *testing.T) {
	tests := []struct {
		name, in, json, text string
	}{
		{"empty", "", "", ""},
		{"plain", "hello /path?q=1", "hello /path?q=1", "hello /path?q=1"},
		{"quote and backslash", `a"b\c`, `a\"b\\c`, `a\"b\\c`},
		{"line ends and tab", "a\nb\rc\td", `a\nb\rc\td`, `a\nb\rc\td`},
		{"other C0 and DEL", "\x00\x01\x1b[m\x1f\x7f", `\u0000\u0001\u001b[m\u001f\u007f`, `\x00\x01\x1b[m\x1f\x7f`},
		{"C1", "a\u0080b\u009bc\u009f", `a\u0080b\u009bc\u009f`, `a\xc2\x80b\xc2\x9bc\xc2\x9f`},
		{"just past C1", "\u00a0\u00e9", "\u00a0\u00e9", "\u00a0\u00e9"},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`, "a\u2028b\u2029c"},
		{"other Unicode", "☃ 日本 🎉 \u2027\u202a", "☃ 日本 🎉 \u2027\u202a", "☃ 日本 🎉 \u2027\u202a"},
		{"invalid bytes", "a\xffb\xfe", `a\ufffdb\ufffd`, `a\xffb\xfe`},
		{"truncated sequence", "a\xe2\x80", `a\ufffd\ufffd`, `a\xe2\x80`},
		{"truncated at the end", "日\xe6\x97", `日\ufffd\ufffd`, `日\xe6\x97`},
		{"overlong encoding", "\xc0\xaf", `\ufffd\ufffd`, `\xc0\xaf`},
		{"surrogate", "\xed\xa0\x80", `\ufffd\ufffd\ufffd`, `\xed\xa0\x80`},
		{"U+FFFD itself", "\ufffd", "\ufffd", "\ufffd"},
		{"mixed", "\"\u2028\x00\xff\u0085é\n", `\"\u2028\u0000\ufffd\u0085é\n`, "\\\"\u2028\\x00\\xff\\xc2\\x85é\\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("> ")
			for _, c := range []struct {
				rule       string
				str, bytes []byte
				want       string
			}{
				{"json", appendJSONContent(prefix, tt.in), appendJSONContent(prefix, []byte(tt.in)), tt.json},
				{"text", appendTextContent(prefix, tt.in), appendTextContent(prefix, []byte(tt.in)), tt.text},
			} {
				if got := string(c.str); got != "> "+c.want {
					t.Errorf("%s of string %q = %q, want %q", c.rule, tt.in, got, "> "+c.want)
				}
				if got := string(c.bytes); got != "> "+c.want {
					t.Errorf("%s of []byte %q = %q, want %q", c.rule, tt.in, got, "> "+c.want)
				}
			}
		})
	}
}

// TestEscapersDoNotAllocate checks that escaping into a buffer with room
// does not allocate, whatever it has to escape.
func TestEscapersDoNotAllocate(t *testing.T) {
	in := "plain \"q\" \\ \n\x00\x7f \u0085 \u2028 \xff 日本"
	raw := []byte(in)
	buf := make([]byte, 0, 256)
	for _, f := range []struct {
		name string
		run  func()
	}{
		{"json/string", func() { buf = appendJSONContent(buf[:0], in) }},
		{"json/bytes", func() { buf = appendJSONContent(buf[:0], raw) }},
		{"text/string", func() { buf = appendTextContent(buf[:0], in) }},
		{"text/bytes", func() { buf = appendTextContent(buf[:0], raw) }},
	} {
		if n := testing.AllocsPerRun(100, f.run); n != 0 {
			t.Errorf("%s: %v allocations per run", f.name, n)
		}
	}
}
