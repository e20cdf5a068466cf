package httpsyntax

import "testing"

func TestIsToken(t *testing.T) {
	for s, want := range map[string]bool{
		"X-Api-Key": true, "GET": true, "!#$%&'*+-.^_`|~09azAZ": true,
		"": false, "a b": false, "a:b": false, "a\tb": false, "é": false, "a\x7f": false,
		`"`: false, "(": false, ")": false, ",": false, "/": false, ";": false, "<": false, "=": false,
		">": false, "?": false, "@": false, "[": false, `\`: false, "]": false, "{": false, "}": false,
	} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}
