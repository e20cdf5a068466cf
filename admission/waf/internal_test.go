package waf

import (
	"bufio"
	"math/rand/v2"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/corazawaf/libinjection-go"
)

// skippable reports whether the byte-class pass lets s skip a detector.
func skippable(s string) (sqli, xss bool) {
	var seen uint8
	for i := 0; i < len(s); i++ {
		seen |= classes[s[i]]
	}
	return !sqlCandidate(seen), seen&classXSS == 0
}

// checkPrefilter fails if the byte-class pass would skip a detector that
// flags s: the pass must change no verdict.
func checkPrefilter(t testing.TB, s string) {
	t.Helper()
	noSQL, noXSS := skippable(s)
	if noSQL {
		if ok, fp := libinjection.IsSQLi(s); ok {
			t.Errorf("prefilter skips %q, which IsSQLi flags (%s)", s, fp)
		}
	}
	if noXSS && libinjection.IsXSS(s) {
		t.Errorf("prefilter skips %q, which IsXSS flags", s)
	}
}

// TestPrefilterAgrees builds values from SQL and HTML fragments joined by
// the bytes the pass treats as harmless, and checks each against
// libinjection. This is how the harmless sets were found (FuzzPrefilter
// searches further).
func TestPrefilterAgrees(t *testing.T) {
	words := []string{"union", "select", "or", "and", "1", "0", "a", "x", "sleep", "version", "from", "where",
		"null", "true", "like", "having", "order", "by", "char", "if", "case", "when", "drop", "table",
		"information_schema", "e1", "0x41", "1e1", "u", "n", "b", "N", "x41", "q", "SELECT", "UNION", "AND",
		"OR", "exec", "xp_cmdshell", "waitfor", "delay", "benchmark", "concat", "div", "mod", "xor", "not",
		"is", "in", "between", "rlike", "regexp", "binary", "collate", "limit", "offset", "procedure",
		"into", "outfile", "load_file", "1.e", "1.", "user", "database", "onerror", "onload", "script",
		"javascript", "alert", "style", "href", "src", "svg", "img", "iframe", "é", "日本", "\x80", "\xff"}
	joins := []string{"", "", ".", "_", "?", "é"}
	r := rand.New(rand.NewPCG(1, 2))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for range n {
		var b strings.Builder
		for k := 1 + r.IntN(6); k > 0; k-- {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteString(joins[r.IntN(len(joins))])
		}
		checkPrefilter(t, b.String())
	}
	// Every corpus value, benign or not, with the bytes the pass would
	// act on removed, must be skippable and clean.
	for _, file := range []string{"sqli.txt", "xss.txt", "benign.txt"} {
		for _, line := range readLines(t, file) {
			checkPrefilter(t, line)
			var plain strings.Builder
			for i := 0; i < len(line); i++ {
				if classes[line[i]]&^(classWord|classDot) == 0 {
					plain.WriteByte(line[i])
				}
			}
			checkPrefilter(t, plain.String())
		}
	}
}

// FuzzPrefilter: no value the byte-class pass lets through is flagged by
// the detector it skips.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"1union", "0x41", "version", "a.b", "?x", "é", "abc_def", "1.2.3", "0OR.OR.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkPrefilter(t, s) })
}

func readLines(t testing.TB, name string) []string {
	t.Helper()
	file, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var out []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "# ") {
			out = append(out, l)
		}
	}
	return out
}

func TestPercentDecode(t *testing.T) {
	tests := []struct {
		in   string
		plus bool
		want string
	}{
		{"abc", false, "abc"},
		{"a%20b", false, "a b"},
		{"a+b", true, "a b"},
		{"a+b", false, "a+b"},
		{"%27%20OR%201%3D1", false, "' OR 1=1"},
		{"%2527", false, "'"},       // double encoding
		{"%252527", false, "%27"},   // triple: two rounds only
		{"%", false, "%"},           // a lone '%'
		{"%4", false, "%4"},         // cut short
		{"%zz%41", false, "%zzA"},   // bad escape kept
		{"100%25", false, "100%"},   // decodes to a lone '%'
		{"%2B", true, "+"},          // an encoded plus is a plus
		{"%E2%82%AC", false, "€"},   // UTF-8
		{"%25%32%37", false, "'"},   // %27 spelt in escapes
		{"a%2Fb", false, "a/b"},     // encoded slash
		{"%%41", false, "%A"},       // '%' before an escape
		{"+%2B+", true, " + "},      // plus and encoded plus
		{"%3c%3E", false, "<>"},     // either case
		{"%u003c", false, "%u003c"}, // IIS %u escapes are not decoded
		{"%C0%BCscript", false, "\xc0\xbcscript"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := needsDecode([]byte(tt.in), tt.plus); got != (tt.want != tt.in) {
				t.Errorf("needsDecode = %v", got)
			}
			dst := make([]byte, len(tt.in))
			if got := string(percentDecode(dst, []byte(tt.in), tt.plus)); got != tt.want {
				t.Errorf("percentDecode = %q, want %q", got, tt.want)
			}
			// in place, as the path code does
			buf := []byte(tt.in)
			if got := string(percentDecode(buf, buf, tt.plus)); got != tt.want {
				t.Errorf("in place = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCleanPath compares cleanPath with path.Clean on generated paths.
func TestCleanPath(t *testing.T) {
	parts := []string{"/", "//", ".", "..", "a", "bc", "/.", "/..", "./", "../", "..."}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b strings.Builder
		for k := r.IntN(8); k >= 0; k-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		checkClean(t, b.String())
	}
	for _, p := range []string{"", "/", "a", "/a/b/../../..", "/x/%2e%2e/admin", "//admin//", "/./admin/./"} {
		checkClean(t, p)
	}
}

func checkClean(t testing.TB, p string) {
	t.Helper()
	want := path.Clean("/" + p)
	dst := make([]byte, len(p)+1)
	if got := string(cleanPath(dst, []byte(p))); got != want {
		t.Errorf("cleanPath(%q) = %q, want %q", p, got, want)
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/a/../b", "//x/./y/", "/../..", "a/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) { checkClean(t, p) })
}

func TestJSONScanner(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		truncated bool
		want      []string // strings in order; keys marked with a trailing ':'
		err       bool
	}{
		{"object", `{"a":"b","c":1,"d":[true,false,null,"e"]}`, false, []string{"a:", "b", "c:", "d:", "e"}, false},
		{"escapes", `{"k":"\u003cscript\u003e \"q\" \\ \/ \n\t\b\f\r"}`, false, []string{"k:", "<script> \"q\" \\ / \n\t\b\f\r"}, false},
		{"surrogates", `["\ud83d\ude00","\ud800x","\udc00"]`, false, []string{"😀", "\uFFFDx", "\uFFFD"}, false},
		{"numbers", `[-1,2.5e10,0,-0.0E-2]`, false, nil, false},
		{"string", `"just text"`, false, []string{"just text"}, false},
		{"spaces", " { \"a\" :\t\"b\" }\n", false, []string{"a:", "b"}, false},
		{"bareword", `{"a": 1 OR 1=1}`, false, []string{"a:"}, true},
		{"after the value", `"a" OR "b"`, false, []string{"a"}, true},
		{"after the object", `{"a":1} x`, false, []string{"a:"}, true},
		{"two values", `{} {}`, false, nil, true},
		{"unbalanced", `{"a":1}}`, false, []string{"a:"}, true},
		{"bad literal", `[nul]`, false, nil, true},
		{"literal prefix", `[nullx]`, false, nil, true},
		{"bad escape", `["\x"]`, false, nil, true},
		{"bad unicode", `["\u12G4"]`, false, nil, true},
		{"open string", `{"a":"b`, false, []string{"a:"}, true},
		{"cut string", `{"a":"b`, true, []string{"a:", "b"}, false},
		{"cut escape", `{"a":"b\u00`, true, []string{"a:", "b"}, false},
		{"cut literal", `[tr`, true, nil, false},
		{"cut number", `[12`, true, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := jsonScanner{src: []byte(tt.doc), truncated: tt.truncated}
			var got []string
			var err error
			for {
				var str jsonString
				var ok bool
				str, ok, err = s.next()
				if err != nil || !ok {
					break
				}
				v, verr := str.value(make([]byte, len(str.raw)))
				if verr != nil {
					err = verr
					break
				}
				if str.key {
					got = append(got, string(v)+":")
				} else {
					got = append(got, string(v))
				}
			}
			if (err != nil) != tt.err {
				t.Errorf("err = %v, want error %v", err, tt.err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("strings %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScriptURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"javascript:alert(1)", "javascript:"},
		{"JAVASCRIPT:alert(1)", "javascript:"},
		{"  \x01javascript:alert(1)", "javascript:"},
		{"java\tscr\nipt:alert(1)", "javascript:"},
		{"&#106;avascript:alert(1)", "javascript:"},
		{"&#x6A;avascript&colon;alert(1)", "javascript:"},
		{"javascript&#58alert(1)", "javascript:"},
		{"javascript&Tab;:alert(1)", "javascript:"},
		{"javascript:location=name", "javascript:"},
		{"javascript:alert`1`", "javascript:"},
		{"javascript:\\u0061lert(1)", "javascript:"},
		{"vbscript:msgbox(1)", "vbscript:"},
		{"data:text/html,<script>", "data:text/html"},
		{"DATA: TEXT/HTML;base64,xx", "data:text/html"},
		{"data:image/svg+xml;base64,xx", "data:image/svg+xml"},
		{"JavaScript: the good parts", ""},
		{"javascript:void", ""},
		{"I like javascript:alert(1)", ""}, // not at the start: libinjection's part if in HTML
		{"data:image/png;base64,xx", ""},
		{"data: 42 rows", ""},
		{"https://example.com/", ""},
		{"javascrip:alert(1)", ""},
		{"javascriptx:alert(1)", ""},
		{"&#1000;avascript:alert(1)", ""},
		{"&", ""},
		{"&#", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := scriptURL([]byte(tt.in)); got != tt.want {
				t.Errorf("scriptURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`^/admin(/|$)`, []string{"/admin"}},
		{`(?i)sqlmap|nikto|masscan`, []string{"masscan", "nikto", "sqlmap"}},
		{`\.(env|git)$`, []string{"env", "git"}},
		{`(?i)Évian`, nil}, // non-ASCII case folding: no prefilter
		{`évian`, []string{"évian"}},
		{`^/v[0-9]+/`, []string{"/v"}},
		{`a*`, nil},
		{`.*`, nil},
		{`x|.*`, nil},
		{`(ab){2,}`, []string{"ab"}},
		{`(ab)?c`, []string{"c"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			if got := requiredLiterals(tt.pattern); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("requiredLiterals = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzRequiredLiterals: the literal prefilter never skips a value its
// regexp matches.
func FuzzRequiredLiterals(f *testing.F) {
	f.Add(`(?i)sqlmap|nikto`, "Mozilla/5.0 NIKTO")
	f.Add(`^/admin(/|$)`, "/admin")
	f.Add(`\.(env|git)$`, "/.GIT")
	f.Add(`(?i)k`, "\u212a") // Kelvin sign folds to k
	f.Fuzz(func(t *testing.T, pattern, s string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		lits := requiredLiterals(pattern)
		if re.MatchString(s) && !mayMatch([]byte(s), lits) {
			t.Errorf("pattern %q matches %q, but the prefilter (%q) skips it", pattern, s, lits)
		}
	})
}

func TestCleanCache(t *testing.T) {
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := f.cache
	v := []byte("Mozilla/5.0 (X11; Linux x86_64)")
	if ok, _ := c.clean(v); ok {
		t.Fatal("empty cache knows a value")
	}
	_, h := c.clean(v)
	c.add(v, h)
	if ok, _ := c.clean(v); !ok {
		t.Fatal("added value not known")
	}
	// A value in the same slot with another hash, or the same hash and
	// other bytes, is not taken for the cached one.
	c.slots[h%cacheSlots].Store(&cacheEntry{hash: h, value: "something else"})
	if ok, _ := c.clean(v); ok {
		t.Fatal("a different value with the same hash passed for v")
	}
	long := []byte(strings.Repeat("a", cacheMaxValue+1))
	_, h = c.clean(long)
	c.add(long, h)
	if ok, _ := c.clean(long); ok {
		t.Fatal("a value over cacheMaxValue was cached")
	}
	// Through CheckRequest: an attack in a header is never cached as clean.
	r := &Request{Header: []Header{{Name: []byte("User-Agent"), Value: []byte("<script>alert(1)</script>")}}}
	for range 3 {
		if _, ok := f.CheckRequest(r); !ok {
			t.Fatal("attack in User-Agent missed on a repeat")
		}
	}
}

func TestQueryEscapeRoundTrip(t *testing.T) {
	// What url.QueryEscape produces, pairs decodes back.
	for _, v := range readLines(t, "benign.txt") {
		raw := []byte("k=" + url.QueryEscape(v))
		_, value, _ := nextPair(raw)
		if got := string(percentDecode(make([]byte, len(value)), value, true)); got != v {
			t.Errorf("round trip of %q = %q", v, got)
		}
	}
}
