package waf_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/admission/waf"
)

// The corpus tests measure the two numbers that matter for a WAF: how much
// of a known attack corpus it catches, and how much of a tricky benign
// corpus it wrongly blocks. Both are logged (go test -v -run Corpus) and
// held to thresholds set just under what was measured when the package
// was written, so that a change that makes either worse fails.

// lines reads a corpus file: one entry per line, blank lines and lines
// starting with "# " skipped, nothing trimmed (leading spaces and tabs are
// part of some payloads).
func lines(t testing.TB, name string) []string {
	t.Helper()
	file, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var out []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "# ") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: empty corpus", name)
	}
	return out
}

func hdr(name, value string) waf.Header {
	return waf.Header{Name: []byte(name), Value: []byte(value)}
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// position puts a value where a client would send it, encoded as a
// client encodes it there.
type position struct {
	name  string
	check func(f *waf.Firewall, v string) (waf.Finding, bool)
}

var positions = []position{
	{"path", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckRequest(&waf.Request{Path: []byte("/api/items/" + url.PathEscape(v))})
	}},
	{"query", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckRequest(&waf.Request{Path: []byte("/search"), RawQuery: []byte("page=2&q=" + url.QueryEscape(v))})
	}},
	{"header", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckRequest(&waf.Request{Path: []byte("/"), Header: []waf.Header{hdr("User-Agent", v)}})
	}},
	{"cookie", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckRequest(&waf.Request{Path: []byte("/"), Header: []waf.Header{hdr("Cookie", "session=abc123; pref="+url.PathEscape(v))}})
	}},
	{"form", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckRequest(&waf.Request{Path: []byte("/submit"),
			Header: []waf.Header{hdr("Content-Type", "application/x-www-form-urlencoded")},
			Body:   []byte("name=x&q=" + url.QueryEscape(v))})
	}},
	{"body", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckRequest(&waf.Request{Path: []byte("/submit"),
			Header: []waf.Header{hdr("Content-Type", "application/json")},
			Body:   []byte(`{"name":"x","q":` + jsonString(v) + `}`)})
	}},
	{"multipart", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		const ct = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"
		return f.CheckBody(ct, []byte("------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"+
			"Content-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n"+
			"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"+
			"Content-Disposition: form-data; name=\"q\"\r\n\r\n"+v+"\r\n"+
			"------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"))
	}},
	{"message", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckMessage([]byte(`{"action":"send","text":` + jsonString(v) + `}`))
	}},
	{"text", func(f *waf.Firewall, v string) (waf.Finding, bool) {
		return f.CheckMessage([]byte(v))
	}},
}

// tally counts matches per position over a corpus.
type tally struct {
	hits, total map[string]int
	matched     map[string][]string // position -> values, for the log
	missed      map[string][]string
}

func measure(f *waf.Firewall, corpus []string) tally {
	t := tally{hits: map[string]int{}, total: map[string]int{}, matched: map[string][]string{}, missed: map[string][]string{}}
	for _, v := range corpus {
		for _, p := range positions {
			t.total[p.name]++
			if fd, ok := p.check(f, v); ok {
				t.hits[p.name]++
				t.matched[p.name] = append(t.matched[p.name], fmt.Sprintf("%q (%s)", v, fd))
			} else {
				t.missed[p.name] = append(t.missed[p.name], fmt.Sprintf("%q", v))
			}
		}
	}
	return t
}

func (t tally) rate() (hits, total int, pct float64) {
	for _, p := range positions {
		hits += t.hits[p.name]
		total += t.total[p.name]
	}
	return hits, total, 100 * float64(hits) / float64(total)
}

func (t tally) table() string {
	var b strings.Builder
	for _, p := range positions {
		fmt.Fprintf(&b, " %s=%d/%d", p.name, t.hits[p.name], t.total[p.name])
	}
	return b.String()
}

func newFirewall(t testing.TB, cfg waf.Config) *waf.Firewall {
	t.Helper()
	f, err := waf.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCorpusDetections(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	for _, tc := range []struct {
		file string
		// minPct is the detection floor over all positions, just under
		// what was measured at writing: SQLi 94.4% (84 of 89 payloads in
		// each of 9 positions), XSS 97.4% (76 of 78). The misses are
		// libinjection's, the same in every position, and listed in the
		// log: stacked queries without a quote ("1;SELECT * FROM users",
		// "'; SHUTDOWN --"), "admin' #", "1 WAITFOR DELAY '0:0:10'",
		// "1 PROCEDURE ANALYSE()"; an entity-encoded tab inside a
		// javascript: URL, and "<scr<script>ipt>", which a browser parses
		// as a harmless "scr<script" tag (it only beats filters that strip
		// <script> once).
		minPct float64
	}{
		{"sqli.txt", 94},
		{"xss.txt", 97},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := measure(f, lines(t, tc.file))
			hits, total, pct := res.rate()
			t.Logf("%s: detected %d/%d = %.1f%%;%s", tc.file, hits, total, pct, res.table())
			for _, p := range positions {
				for _, m := range res.missed[p.name] {
					t.Logf("  missed in %s: %s", p.name, m)
				}
			}
			if pct < tc.minPct {
				t.Errorf("detection rate %.1f%% < %.1f%%", pct, tc.minPct)
			}
		})
	}
}

func TestCorpusFalsePositives(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	t.Run("benign.txt", func(t *testing.T) {
		res := measure(f, lines(t, "benign.txt"))
		hits, total, pct := res.rate()
		t.Logf("benign.txt: flagged %d/%d = %.2f%%;%s", hits, total, pct, res.table())
		logMatched(t, res)
		// maxPct is the false-positive ceiling. Measured at writing: 1.54%
		// (27 of 1755): three values in every position — a code snippet
		// "if (a < b && c > d)" (libinjection reads IF( as the MySQL
		// function), "(1 + 2) * 3", and "the <script> tag runs code", which
		// would indeed open a script element if printed unescaped.
		const maxPct = 2.0
		if pct > maxPct {
			t.Errorf("false positives %.2f%% > %.2f%%", pct, maxPct)
		}
	})
	t.Run("benign-messages.txt", func(t *testing.T) {
		msgs := lines(t, "benign-messages.txt")
		var flagged []string
		for _, m := range msgs {
			if fd, ok := f.CheckMessage([]byte(m)); ok {
				flagged = append(flagged, fmt.Sprintf("%s (%s)", m, fd))
			}
		}
		pct := 100 * float64(len(flagged)) / float64(len(msgs))
		t.Logf("benign-messages.txt: flagged %d/%d = %.2f%%", len(flagged), len(msgs), pct)
		for _, m := range flagged {
			t.Logf("  flagged: %s", m)
		}
		// Measured at writing: 3.80% (3 of 79). The corpus is built from
		// the hard cases of a developer chat and an LLM prompt stream —
		// code, talk about SQL and HTML — so the rate on ordinary chat is
		// lower; a route whose users talk code is one to run in count
		// mode first. The ceiling allows one more, not a regression.
		const maxPct = 5.1
		if pct > maxPct {
			t.Errorf("false positives %.2f%% > %.2f%%", pct, maxPct)
		}
	})
	t.Run("benign-headers.txt", func(t *testing.T) {
		hs := lines(t, "benign-headers.txt")
		var flagged []string
		for _, line := range hs {
			name, value, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("bad line %q", line)
			}
			r := &waf.Request{Path: []byte("/"), Header: []waf.Header{hdr(name, value)}}
			if fd, ok := f.CheckRequest(r); ok {
				flagged = append(flagged, fmt.Sprintf("%s (%s)", line, fd))
			}
		}
		pct := 100 * float64(len(flagged)) / float64(len(hs))
		t.Logf("benign-headers.txt: flagged %d/%d = %.2f%%", len(flagged), len(hs), pct)
		for _, m := range flagged {
			t.Logf("  flagged: %s", m)
		}
		if len(flagged) > 0 {
			t.Errorf("%d common header values flagged; browsers send these on every request", len(flagged))
		}
	})
}

func logMatched(t *testing.T, res tally) {
	t.Helper()
	for _, p := range positions {
		for _, m := range res.matched[p.name] {
			t.Logf("  flagged in %s: %s", p.name, m)
		}
	}
}

// TestCorpusEncoded: attacks that arrive already encoded (percent, double
// percent, JSON escapes, HTML character references) are each caught in the
// position they were written for.
func TestCorpusEncoded(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	for _, line := range lines(t, "encoded.txt") {
		pos, sent, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		t.Run(line, func(t *testing.T) {
			var fd waf.Finding
			var found bool
			switch {
			case pos == "message":
				fd, found = f.CheckMessage([]byte(sent))
			default:
				fd, found = f.CheckRequest(encodedRequest(t, pos, sent))
			}
			if !found {
				t.Fatalf("%s: not detected", line)
			}
			t.Logf("%s", fd)
		})
	}
}

func encodedRequest(t *testing.T, pos, sent string) *waf.Request {
	t.Helper()
	r := &waf.Request{Path: []byte("/")}
	switch {
	case pos == "path":
		r.Path = []byte(sent)
	case pos == "query":
		r.RawQuery = []byte(sent)
	case pos == "cookie":
		r.Header = []waf.Header{hdr("Cookie", sent)}
	case strings.HasPrefix(pos, "header:"):
		r.Header = []waf.Header{hdr(strings.TrimPrefix(pos, "header:"), sent)}
	case pos == "body":
		r.Header = []waf.Header{hdr("Content-Type", "application/json")}
		r.Body = []byte(sent)
	case pos == "form":
		r.Header = []waf.Header{hdr("Content-Type", "application/x-www-form-urlencoded")}
		r.Body = []byte(sent)
	default:
		t.Fatalf("unknown position %q", pos)
	}
	return r
}

// TestMessageJSONvsRaw measures the choice CheckMessage makes: JSON
// messages inspected string by string, against the same messages
// inspected whole. The string-by-string scan must flag no more benign
// messages and catch no fewer attacks.
func TestMessageJSONvsRaw(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	var benign, attacks []string
	benign = append(benign, lines(t, "benign-messages.txt")...)
	for _, v := range lines(t, "benign.txt") {
		benign = append(benign, `{"action":"send","text":`+jsonString(v)+`}`)
	}
	for _, file := range []string{"sqli.txt", "xss.txt"} {
		for _, v := range lines(t, file) {
			attacks = append(attacks, `{"action":"send","text":`+jsonString(v)+`}`)
		}
	}
	count := func(check func([]byte) (waf.Finding, bool), msgs []string) (n int, which []string) {
		for _, m := range msgs {
			if _, ok := check([]byte(m)); ok {
				n++
				which = append(which, m)
			}
		}
		return n, which
	}
	fpScan, _ := count(f.CheckMessage, benign)
	fpWhole, whichWhole := count(waf.CheckMessageWhole(f), benign)
	tpScan, _ := count(f.CheckMessage, attacks)
	tpWhole, _ := count(waf.CheckMessageWhole(f), attacks)
	t.Logf("benign JSON messages flagged: string by string %d/%d, whole %d/%d", fpScan, len(benign), fpWhole, len(benign))
	t.Logf("attack JSON messages caught:  string by string %d/%d, whole %d/%d", tpScan, len(attacks), tpWhole, len(attacks))
	sort.Strings(whichWhole)
	for _, m := range whichWhole {
		t.Logf("  flagged whole: %s", m)
	}
	// Measured at writing: benign 6/274 string by string, 2/274 whole;
	// attacks 160/167 string by string, 81/167 whole. Whole-message
	// inspection is quieter only because it is half blind.
	if tpScan < tpWhole*3/2 {
		t.Errorf("string-by-string scan catches %d attacks, whole-message inspection %d: the scan is no longer worth its false positives", tpScan, tpWhole)
	}
	if fpScan > fpWhole+6 {
		t.Errorf("string-by-string scan flags %d benign messages, whole-message inspection %d", fpScan, fpWhole)
	}
}
