package accesslog

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		wantErr error  // nil: compiles
		inErr   string // also in the error message
	}{
		{name: "default", format: ""},
		{name: "clf", format: CLFFormat},
		{name: "custom json", format: `{"id":"$context.requestId","s":$context.status,"sub":"$context.authorizer.claims.sub"}`},
		{name: "json over lines", format: "\n  {\n  \"id\": \"$context.requestId\",\n\t\"s\": $context.status\n}\n"},
		{name: "literal dollars", format: `$ $1 $context $contextual $context.status$`},
		{name: "variable then punctuation", format: `$context.status, $context.path. $context.path-x $context.error.message:`},
		{name: "claim names", format: `$context.authorizer.claims.cognito:username $context.authorizer.claims.https://example.com/roles`},
		{name: "aliases", format: `$context.integration.latency $context.integration.status $context.extendedRequestId`},
		{name: "no variables", format: `hello`},
		{name: "no variables json", format: `{"hello":"world"}`},

		{name: "unknown", format: `$context.foo`, wantErr: ErrUnknownVariable, inErr: `"$context.foo" at offset 0 of the format; valid variables: $context.requestId, `},
		{name: "unknown lists claims", format: `$context.foo`, wantErr: ErrUnknownVariable, inErr: `$context.node, $context.authorizer.claims.<name>`},
		{name: "longer word", format: `$context.pathX`, wantErr: ErrUnknownVariable, inErr: `"$context.pathX"`},
		{name: "longer dotted", format: `$context.path.x`, wantErr: ErrUnknownVariable, inErr: `"$context.path.x"`},
		{name: "wrong case", format: `$context.identity.sourceIP`, wantErr: ErrUnknownVariable, inErr: `"$context.identity.sourceIP"`},
		{name: "bare prefix", format: `x $context. y`, wantErr: ErrUnknownVariable, inErr: `"$context." at offset 2`},
		{name: "epoch typo", format: `$context.requestTimeEpochs`, wantErr: ErrUnknownVariable},
		{name: "no claim name", format: `$context.authorizer.claims.`, wantErr: ErrUnknownVariable, inErr: "needs a claim name"},
		{name: "unknown in json", format: `{"a":"$context.nope"}`, wantErr: ErrUnknownVariable},
		{name: "text over lines", format: "$context.path\n$context.status", wantErr: ErrInvalidFormat, inErr: "one line"},
		{name: "unclosed json", format: `{"a":"$context.path"`, wantErr: ErrInvalidFormat, inErr: "valid JSON"},
		{name: "bare dash json", format: `{"a":-$context.path}`, wantErr: ErrInvalidFormat},
		{name: "two values json", format: `{"a":1}{"b":2}`, wantErr: ErrInvalidFormat},
		{name: "escaped dollar json", format: `{"a":"\$context.path"}`, wantErr: ErrInvalidFormat},
		{name: "variable as json key", format: `{$context.path:1}`, wantErr: ErrInvalidFormat, inErr: "{null:1}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config{Format: tt.format}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			_, err = compile(cfg.Format)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("compile: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("compile: %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.inErr) {
				t.Fatalf("error %q does not contain %q", err, tt.inErr)
			}
		})
	}
}

func TestLongestMatch(t *testing.T) {
	e := fullEntry()
	tests := []struct {
		format, want string
	}{
		{`$context.requestTimeEpoch`, "1700000000123"},
		{`$context.requestTime`, "14/Nov/2023:22:13:20 +0000"},
		{`[$context.requestTime]`, "[14/Nov/2023:22:13:20 +0000]"},
		{`$context.requestTime.`, "14/Nov/2023:22:13:20 +0000."},
		{`$context.requestTimeEpoch$context.requestTime`, "170000000012314/Nov/2023:22:13:20 +0000"},
		{`$context.integrationStatus/$context.integration.status`, "201/201"},
		{`$context.integrationLatency/$context.integration.latency`, "0.312/0.312"},
		{`$context.path-$context.status`, "/chat-200"},
		{`$context.authorizer.claims.sub-$context.status`, "ann-200"},
		{`$context.authorizer.claims.sub.`, "ann."},
		{`$context.status$context.status`, "200200"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			if got := render(mustCompile(t, tt.format), &e); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// stringVariables sets each string variable's field.
var stringVariables = []struct {
	name string
	set  func(e *Entry, s string)
}{
	{"requestId", func(e *Entry, s string) { e.RequestID = s }},
	{"extendedRequestId", func(e *Entry, s string) { e.RequestID = s }},
	{"connectionId", func(e *Entry, s string) { e.ConnectionID = s }},
	{"eventType", func(e *Entry, s string) { e.EventType = s }},
	{"identity.sourceIp", func(e *Entry, s string) { e.SourceIP = s }},
	{"identity.userAgent", func(e *Entry, s string) { e.UserAgent = s }},
	{"httpMethod", func(e *Entry, s string) { e.Method = s }},
	{"path", func(e *Entry, s string) { e.Path = s }},
	{"protocol", func(e *Entry, s string) { e.Protocol = s }},
	{"routeKey", func(e *Entry, s string) { e.RouteKey = s }},
	{"error.message", func(e *Entry, s string) { e.Error = s }},
	{"node", func(e *Entry, s string) { e.Node = s }},
	{"authorizer.claims.sub", func(e *Entry, s string) { e.Claims = map[string]any{"sub": s} }},
}

func TestJSONEscaping(t *testing.T) {
	values := []struct {
		name, in, want string // want: the value decoded back
	}{
		{"plain", "hello", "hello"},
		{"quotes", `say "hi"`, `say "hi"`},
		{"backslash", `C:\path\`, `C:\path\`},
		{"newlines", "a\nb\r\nc", "a\nb\r\nc"},
		{"controls", "\x00\x01\x08\x0c\x1b[31m\x1f\x7f", "\x00\x01\x08\x0c\x1b[31m\x1f\x7f"},
		{"unicode", "héllo ☃ 日本 🎉", "héllo ☃ 日本 🎉"},
		{"line separators", "a\u2028b\u2029c", "a\u2028b\u2029c"},
		{"c1 control", "a\u009bb", "a\u009bb"},
		{"invalid utf8", "a\xffb\xc3", "a\ufffdb\ufffd"},
		{"html", "<script>&</script>", "<script>&</script>"},
		{"looks like a variable", "$context.path", "$context.path"},
	}
	for _, v := range stringVariables {
		f := mustCompile(t, `{"q":"[$context.`+v.name+`]","b":$context.`+v.name+`}`)
		for _, val := range values {
			t.Run(v.name+"/"+val.name, func(t *testing.T) {
				var e Entry
				v.set(&e, val.in)
				line := render(f, &e)
				for i := 0; i < len(line); i++ {
					if line[i] < 0x20 || line[i] == 0x7f {
						t.Fatalf("raw control byte %#x in %q", line[i], line)
					}
				}
				if !utf8.ValidString(line) || strings.ContainsAny(line, "\u2028\u2029\u009b") {
					t.Fatalf("line %q is not safe UTF-8", line)
				}
				var got struct{ Q, B string }
				if err := json.Unmarshal([]byte(line), &got); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				if got.Q != "["+val.want+"]" || got.B != val.want {
					t.Fatalf("decoded %q and %q from %q, want %q", got.Q, got.B, line, val.want)
				}
			})
		}
	}
}

func TestTextEscaping(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"quotes", `say "hi"`, `say \"hi\"`},
		{"backslash", `a\b`, `a\\b`},
		{"newlines", "a\nb\r\tc", `a\nb\r\tc`},
		{"controls", "\x00\x1b[31m\x7f", `\x00\x1b[31m\x7f`},
		{"unicode", "héllo ☃ 🎉", "héllo ☃ 🎉"},
		{"c1 control", "a\u009bb", `a\xc2\x9bb`},
		{"invalid utf8", "a\xffb", `a\xffb`},
	}
	for _, v := range stringVariables {
		f := mustCompile(t, `"$context.`+v.name+`"`)
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				var e Entry
				v.set(&e, tt.in)
				if got, want := render(f, &e), `"`+tt.want+`"`; got != want {
					t.Fatalf("got %s, want %s", got, want)
				}
			})
		}
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name, format, want string
	}{
		{"default", "", `{"requestId":"-","ip":"-","requestTime":"-","eventType":"-","routeKey":"-","method":"-","path":"-","status":null,"protocol":"-","responseLength":null,"responseLatency":null,"integrationLatency":null,"connectionId":"-","error":"-"}`},
		{"clf", CLFFormat, `- - - [-] "- - -" - - -`},
		{"bare strings", `{"a":$context.path,"t":$context.requestTime,"e":$context.requestTimeEpoch,"c":$context.authorizer.claims.sub}`, `{"a":null,"t":null,"e":null,"c":null}`},
		{"every variable in text", `$context.requestId $context.connectionId $context.eventType $context.identity.sourceIp $context.identity.userAgent $context.httpMethod $context.path $context.protocol $context.routeKey $context.status $context.requestTime $context.requestTimeEpoch $context.responseLength $context.responseLatency $context.integrationLatency $context.integrationStatus $context.error.message $context.authorizer.claims.sub $context.node`, strings.TrimSpace(strings.Repeat("- ", 19))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(mustCompile(t, tt.format), &Entry{}); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestValues(t *testing.T) {
	e := fullEntry()
	tests := []struct {
		name, format, want string
	}{
		{"default", "", `{"requestId":"req-1","ip":"192.0.2.7","requestTime":"14/Nov/2023:22:13:20 +0000","eventType":"REQUEST","routeKey":"GET /chat","method":"GET","path":"/chat","status":200,"protocol":"HTTP/1.1","responseLength":1234,"responseLatency":1.5,"integrationLatency":0.312,"connectionId":"conn-1","error":"boom"}`},
		{"clf", CLFFormat, `192.0.2.7 - - [14/Nov/2023:22:13:20 +0000] "GET GET /chat HTTP/1.1" 200 1234 req-1`},
		{"quoted numbers", `{"s":"$context.status","l":"$context.responseLatency","t":"$context.requestTimeEpoch"}`, `{"s":"200","l":"1.5","t":"1700000000123"}`},
		{"bare time", `{"t":$context.requestTime}`, `{"t":"14/Nov/2023:22:13:20 +0000"}`},
		{"claims bare", `{"sub":$context.authorizer.claims.sub,"exp":$context.authorizer.claims.exp,"roles":$context.authorizer.claims.roles}`, `{"sub":"ann","exp":1700000000,"roles":["a","b"]}`},
		{"claims quoted", `{"exp":"$context.authorizer.claims.exp","roles":"$context.authorizer.claims.roles"}`, `{"exp":"1700000000","roles":"[\"a\",\"b\"]"}`},
		{"claims text", `$context.authorizer.claims.sub $context.authorizer.claims.exp $context.authorizer.claims.roles $context.authorizer.claims.none`, `ann 1700000000 [\"a\",\"b\"] -`},
		{"node and user agent", `$context.node "$context.identity.userAgent"`, `node-a "curl/8.5.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(mustCompile(t, tt.format), &e); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMillis(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Nanosecond, "0"},
		{499 * time.Nanosecond, "0"},
		{500 * time.Nanosecond, "0.001"},
		{312 * time.Microsecond, "0.312"},
		{1500 * time.Microsecond, "1.5"},
		{1230 * time.Microsecond, "1.23"},
		{12 * time.Millisecond, "12"},
		{time.Hour, "3600000"},
		{-time.Millisecond, "-1"},
		{-250 * time.Microsecond, "-0.25"},
		{-time.Nanosecond, "0"},
		{math.MaxInt64, "9223372036854.776"},
		{math.MinInt64, "-9223372036854.776"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			got := string(appendMillis(nil, tt.d))
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("%s is not a JSON number", got)
			}
		})
	}
}

func TestCLFTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{t0, "14/Nov/2023:22:13:20 +0000"},
		{time.Date(2024, 2, 3, 4, 5, 6, 0, time.FixedZone("X", -7*3600)), "03/Feb/2024:11:05:06 +0000"},
		{time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), "01/Jan/0001:00:00:00 +0000"},
		{time.Date(12345, 12, 31, 23, 59, 59, 0, time.UTC), "31/Dec/12345:23:59:59 +0000"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := string(appendCLF(nil, tt.t)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestClaimTypes(t *testing.T) {
	f := mustCompile(t, `{"q":"$context.authorizer.claims.c","b":$context.authorizer.claims.c}`)
	tests := []struct {
		name  string
		claim any
		want  string
	}{
		{"string", "x", `{"q":"x","b":"x"}`},
		{"empty string", "", `{"q":"-","b":null}`},
		{"nil", nil, `{"q":"-","b":null}`},
		{"bool", true, `{"q":"true","b":true}`},
		{"float", 1.7e9, `{"q":"1700000000","b":1700000000}`},
		{"small float", 1e-7, `{"q":"1e-7","b":1e-7}`},
		{"float32", float32(0.5), `{"q":"0.5","b":0.5}`},
		{"int", -3, `{"q":"-3","b":-3}`},
		{"int64", int64(1 << 40), `{"q":"1099511627776","b":1099511627776}`},
		{"uint64", uint64(math.MaxUint64), `{"q":"18446744073709551615","b":18446744073709551615}`},
		{"json number", json.Number("12.5"), `{"q":"12.5","b":12.5}`},
		{"NaN", math.NaN(), `{"q":"-","b":null}`},
		{"infinity", math.Inf(-1), `{"q":"-","b":null}`},
		{"object", map[string]any{"k": "<v\n>"}, `{"q":"{\"k\":\"<v\\n>\"}","b":{"k":"<v\n>"}}`},
		{"unencodable", make(chan int), `{"q":"-","b":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(f, &Entry{Claims: map[string]any{"c": tt.claim}})
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("%s is not valid JSON", got)
			}
		})
	}
	if got := render(f, &Entry{}); got != `{"q":"-","b":null}` {
		t.Fatalf("nil claims: %s", got)
	}
}

func TestFormatDoesNotAllocate(t *testing.T) {
	e := fullEntry()
	e.Claims = map[string]any{"sub": "ann", "exp": 1.7e9}
	for _, src := range []string{"", CLFFormat, `{"sub":"$context.authorizer.claims.sub","exp":$context.authorizer.claims.exp,"t":$context.requestTimeEpoch}`} {
		f := mustCompile(t, src)
		var sc scratch
		buf := make([]byte, 0, 4096)
		if n := testing.AllocsPerRun(100, func() { buf = f.appendEntry(buf[:0], &e, &sc) }); n != 0 {
			t.Errorf("format %q allocates %v times per entry", src, n)
		}
	}
}

// FuzzFormat checks that any format New accepts produces exactly one valid
// line for any value: valid JSON for a JSON template, no line break in a
// text format.
func FuzzFormat(f *testing.F) {
	f.Add(DefaultFormat, "hello")
	f.Add(CLFFormat, "a\nb")
	f.Add(`{"c":$context.authorizer.claims.x,"p":"$context.path"}`, "\"\\\x00\xff\u2028")
	f.Add(`$context.requestTimeEpoch$context.requestTime`, "")
	f.Add(`{"a":[$context.status,"$context.status"]}`, "$context.path")
	f.Fuzz(func(t *testing.T, src, value string) {
		cfg, err := Config{Format: src}.withDefaults()
		if err != nil {
			t.Skip()
		}
		fm, err := compile(cfg.Format)
		if err != nil {
			if !errors.Is(err, ErrUnknownVariable) && !errors.Is(err, ErrInvalidFormat) {
				t.Fatalf("compile error without a sentinel: %v", err)
			}
			return
		}
		e := fullEntry()
		for _, v := range stringVariables {
			v.set(&e, value)
		}
		claims := map[string]any{}
		for _, s := range fm.segs {
			if s.v == varClaim {
				claims[s.claim] = value
			}
		}
		e.Claims = claims
		line := render(fm, &e)
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("format %q wrote a line break: %q", src, line)
		}
		if fm.json && !json.Valid([]byte(line)) {
			t.Fatalf("JSON template %q wrote invalid JSON: %s", src, line)
		}
	})
}
