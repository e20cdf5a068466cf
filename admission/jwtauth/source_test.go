package jwtauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatecast/gatecast/admission/jwtauth"
)

func TestParseSource(t *testing.T) {
	tests := []struct {
		in   string
		want jwtauth.Source
		str  string
		ok   bool
	}{
		{"", jwtauth.Source{}, "header", true},
		{"header", jwtauth.Source{Kind: "header"}, "header", true},
		{"header:X-Token", jwtauth.Source{Kind: "header", Name: "X-Token"}, "header:X-Token", true},
		{"query", jwtauth.Source{Kind: "query"}, "query", true},
		{"query:access_token", jwtauth.Source{Kind: "query", Name: "access_token"}, "query:access_token", true},
		{"cookie:session", jwtauth.Source{Kind: "cookie", Name: "session"}, "cookie:session", true},
		{"protocol", jwtauth.Source{Kind: "protocol"}, "protocol", true},
		{"protocol:jwt", jwtauth.Source{Kind: "protocol", Name: "jwt"}, "protocol:jwt", true},
		{"cookie", jwtauth.Source{}, "", false},
		{"body:token", jwtauth.Source{}, "", false},
		{"query:a b", jwtauth.Source{}, "", false},
		{"protocol:a,b", jwtauth.Source{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := jwtauth.ParseSource(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseSource(%q) = %+v, %v", tt.in, got, err)
			}
			if !tt.ok {
				return
			}
			if got.String() != tt.str {
				t.Errorf("String = %q, want %q", got.String(), tt.str)
			}
			var back jwtauth.Source
			if err := back.UnmarshalText([]byte(got.String())); err != nil || (back != got && tt.in != "") {
				t.Errorf("round trip: %+v, %v", back, err)
			}
		})
	}
}

func TestSourceToken(t *testing.T) {
	hdr := func(k, v string) request { return request{header: map[string]string{k: v}} }
	tests := []struct {
		name string
		src  string
		r    request
		want string
	}{
		{"bearer", "header", hdr("Authorization", "Bearer abc.def.ghi"), "abc.def.ghi"},
		{"bearer lower case", "header", hdr("Authorization", "bearer abc"), "abc"},
		{"BEARER, spaces", "", hdr("Authorization", "BEARER   abc  "), "abc"},
		{"basic", "header", hdr("Authorization", "Basic dXNlcjpwdw=="), ""},
		{"bearer without token", "header", hdr("Authorization", "Bearer "), ""},
		{"raw token in Authorization", "header", hdr("Authorization", "abc"), ""},
		{"no header", "header", request{}, ""},
		{"custom header, raw", "header:X-Token", hdr("X-Token", "abc"), "abc"},
		{"custom header, bearer", "header:X-Token", hdr("X-Token", "Bearer abc"), "abc"},
		{"query default", "query", request{query: map[string]string{"access_token": "abc"}}, "abc"},
		{"query named", "query:t", request{query: map[string]string{"t": "abc", "access_token": "x"}}, "abc"},
		{"query missing", "query:t", request{query: map[string]string{"access_token": "x"}}, ""},
		{"cookie", "cookie:session", request{cookie: map[string]string{"session": "abc"}}, "abc"},
		{"cookie missing", "cookie:session", request{cookie: map[string]string{"other": "abc"}}, ""},
		{"protocol", "protocol", hdr("Sec-WebSocket-Protocol", "bearer, abc.def.ghi"), "abc.def.ghi"},
		{"protocol among others", "protocol", hdr("Sec-WebSocket-Protocol", "chat.v2 ,Bearer,abc ,json"), "abc"},
		{"protocol marker last", "protocol", hdr("Sec-WebSocket-Protocol", "chat, bearer"), ""},
		{"protocol no marker", "protocol", hdr("Sec-WebSocket-Protocol", "abc.def.ghi"), ""},
		{"protocol custom marker", "protocol:jwt", hdr("Sec-WebSocket-Protocol", "bearer, x, jwt, abc"), "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := jwtauth.ParseSource(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := src.Token(tt.r)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("Token = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestSourceTokenAllocs(t *testing.T) {
	// A pointer, so the conversion to Request does not allocate either.
	r := &request{header: map[string]string{"Authorization": "Bearer abc", "Sec-WebSocket-Protocol": "bearer, abc"}}
	for _, s := range []string{"header", "protocol"} {
		src, _ := jwtauth.ParseSource(s)
		if n := testing.AllocsPerRun(100, func() { src.Token(r) }); n != 0 {
			t.Errorf("%s: %v allocations", s, n)
		}
	}
}

func TestHTTPRequest(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/chat?access_token=q%2Btok", nil)
	req.Header.Set("Authorization", "Bearer htok")
	req.Header.Add("Sec-WebSocket-Protocol", "chat")
	req.Header.Add("Sec-WebSocket-Protocol", "bearer, ptok")
	req.AddCookie(&http.Cookie{Name: "session", Value: "ctok"})
	r := jwtauth.HTTPRequest(req)
	for src, want := range map[string]string{
		"header":         "htok",
		"query":          "q+tok",
		"cookie:session": "ctok",
		"protocol":       "ptok",
	} {
		s, _ := jwtauth.ParseSource(src)
		if got, _ := s.Token(r); got != want {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}
