package waf_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/textproto"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/admission/waf"
)

// httpReq is an HTTP request as net/http's server hands it over.
func httpReq(method, target string, headers map[string]string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return r
}

// formData builds a multipart/form-data body with a real encoder; a file
// is a field whose name holds "|": "field|filename".
func formData(t testing.TB, fields ...[2]string) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		var (
			part interface{ Write([]byte) (int, error) }
			err  error
		)
		if name, file, ok := strings.Cut(f[0], "|"); ok {
			part, err = w.CreateFormFile(name, file)
		} else {
			part, err = w.CreateFormField(f[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		part.Write([]byte(f[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

const (
	sqliPayload = "1' OR '1'='1"
	xssPayload  = "<script>alert(1)</script>"
)

// TestCheckHTTP: SQL injection and XSS in every place of an HTTP request
// are found, and named where they are.
func TestCheckHTTP(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	upload := func(fields ...[2]string) (*http.Request, string) {
		ct, body := formData(t, fields...)
		return httpReq("POST", "/up", map[string]string{"Content-Type": ct}), string(body)
	}
	mpSQLi, mpSQLiBody := upload([2]string{"title", "hello"}, [2]string{"user", sqliPayload})
	mpXSS, mpXSSBody := upload([2]string{"bio", xssPayload})
	mpFile, mpFileBody := upload([2]string{"avatar|<img src=x onerror=alert(1)>.png", "\x89PNG..."})
	mpJSON, mpJSONBody := upload([2]string{"meta", `{"note":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`})
	tests := []struct {
		name string
		r    *http.Request
		body string
		rule string
		loc  string
	}{
		{name: "path sqli", r: httpReq("GET", "/items/1%27%20OR%20%271%27%3D%271", nil), rule: "sqli", loc: "path"},
		{name: "path xss", r: httpReq("GET", "/p/%3Cscript%3Ealert(1)%3C%2Fscript%3E", nil), rule: "xss", loc: "path"},
		{name: "query sqli", r: httpReq("GET", "/search?page=2&q=1%27+OR+%271%27%3D%271", nil), rule: "sqli", loc: "query:q"},
		{name: "query xss", r: httpReq("GET", "/search?q=%3Csvg%20onload%3Dalert(1)%3E", nil), rule: "xss", loc: "query:q"},
		{name: "header sqli", r: httpReq("GET", "/", map[string]string{"User-Agent": sqliPayload}), rule: "sqli", loc: "header:User-Agent"},
		{name: "header xss", r: httpReq("GET", "/", map[string]string{"user-agent": xssPayload}), rule: "xss", loc: "header:User-Agent"},
		{name: "referer xss", r: httpReq("GET", "/", map[string]string{"Referer": "https://x.example/?q=%3Cscript%3Ealert(1)%3C/script%3E"}), rule: "xss", loc: "header:Referer"},
		{name: "cookie sqli", r: httpReq("GET", "/", map[string]string{"Cookie": "session=abc; id=1%27%20OR%20%271%27%3D%271"}), rule: "sqli", loc: "cookie:id"},
		{name: "cookie xss", r: httpReq("GET", "/", map[string]string{"Cookie": "theme=%3Cscript%3Ealert(1)%3C/script%3E"}), rule: "xss", loc: "cookie:theme"},
		{name: "json sqli", r: httpReq("POST", "/users", map[string]string{"Content-Type": "application/json"}),
			body: `{"user":{"name":"admin'--"}}`, rule: "sqli", loc: "body:name"},
		{name: "json escaped xss", r: httpReq("POST", "/users", map[string]string{"Content-Type": "application/json; charset=utf-8"}),
			body: `{"bio":"\u003cscript\u003ealert(1)\u003c/script\u003e"}`, rule: "xss", loc: "body:bio"},
		{name: "vendor json", r: httpReq("POST", "/users", map[string]string{"Content-Type": "application/vnd.api+json"}),
			body: `{"data":{"q":"` + sqliPayload + `"}}`, rule: "sqli", loc: "body:q"},
		{name: "form sqli", r: httpReq("POST", "/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}),
			body: "user=admin%27--&pw=x", rule: "sqli", loc: "body:user"},
		{name: "form xss", r: httpReq("POST", "/c", map[string]string{"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}),
			body: "comment=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E", rule: "xss", loc: "body:comment"},
		{name: "multipart sqli", r: mpSQLi, body: mpSQLiBody, rule: "sqli", loc: "body:user"},
		{name: "multipart xss", r: mpXSS, body: mpXSSBody, rule: "xss", loc: "body:bio"},
		{name: "multipart filename", r: mpFile, body: mpFileBody, rule: "xss", loc: "body:avatar"},
		{name: "multipart json part", r: mpJSON, body: mpJSONBody, rule: "xss", loc: "body:note"},
		{name: "text", r: httpReq("POST", "/notes", map[string]string{"Content-Type": "text/plain"}), body: "hi " + xssPayload, rule: "xss", loc: "body"},
		{name: "text that is json", r: httpReq("POST", "/notes", map[string]string{"Content-Type": "text/plain"}),
			body: `{"q":"\u0027 OR \u00271\u0027=\u00271"}`, rule: "sqli", loc: "body:q"},
		{name: "no content type", r: httpReq("POST", "/notes", nil), body: `{"q":"` + sqliPayload + `"}`, rule: "sqli", loc: "body:q"},
		{name: "xml", r: httpReq("POST", "/soap", map[string]string{"Content-Type": "application/xml"}),
			body: `<?xml version="1.0"?><q><![CDATA[<script>alert(1)</script>]]></q>`, rule: "xss", loc: "body"},
		{name: "svg", r: httpReq("PUT", "/icons/a.svg", map[string]string{"Content-Type": "image/svg+xml"}),
			body: `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, rule: "xss", loc: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			fd, ok := f.CheckHTTP(tt.r, netip.Addr{}, body)
			if !ok || fd.Rule != tt.rule || fd.Location != tt.loc {
				t.Fatalf("got %+v, %v; want %s in %s", fd, ok, tt.rule, tt.loc)
			}
			if body != nil {
				fd2, ok2 := f.CheckBody(tt.r.Header.Get("Content-Type"), body)
				if strings.HasPrefix(tt.loc, "body") && (!ok2 || fd2 != fd) {
					t.Errorf("CheckBody: %+v, %v; CheckHTTP found %+v", fd2, ok2, fd)
				}
			}
		})
	}
}

// TestCheckHTTPBenign: look-alikes that real users send, in every place,
// pass.
func TestCheckHTTPBenign(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	mpCT, mp := formData(t,
		[2]string{"name", "Miles O'Brien"},
		[2]string{"note", "I'll be there at 5 -- see you"},
		[2]string{"snippet", "for (i = 0; i < n; i++) { sum += i; }"},
		[2]string{"photo|o'brien.jpg", "\xff\xd8\xff\xe0 <script> ' OR 1=1 -- binary"},
	)
	tests := []struct {
		name string
		r    *http.Request
		body string
	}{
		{"path apostrophe", httpReq("GET", "/users/o%27brien/posts", nil), ""},
		{"query apostrophes", httpReq("GET", "/search?q=O%27Reilly+Media&name=D%27Angelo", nil), ""},
		{"query select", httpReq("GET", "/search?q=select+a+plan&sort=order+by+price", nil), ""},
		{"cookie", httpReq("GET", "/", map[string]string{"Cookie": "session=9f8e7d6c; last=it%27s+fine; theme=dark"}), ""},
		{"user agent", httpReq("GET", "/", map[string]string{"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"}), ""},
		{"json names", httpReq("POST", "/users", map[string]string{"Content-Type": "application/json"}),
			`{"name":"Miles O'Brien","company":"O'Reilly Media","note":"I'll be there at 5 -- see you","tags":["drop me a line"]}`},
		{"json code", httpReq("POST", "/gists", map[string]string{"Content-Type": "application/json"}),
			`{"lang":"c","code":"for (i = 0; i < n; i++) { sum += i; }","q":"x = y + 1"}`},
		{"form apostrophes", httpReq("POST", "/c", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}),
			"name=Miles+O%27Brien&comment=it%27s+fine%2C+I%27ll+update+your+profile"},
		{"multipart", httpReq("POST", "/up", map[string]string{"Content-Type": mpCT}), string(mp)},
		{"text", httpReq("POST", "/notes", map[string]string{"Content-Type": "text/plain; charset=utf-8"}),
			"Don't forget: select the plan that's right for you -- and update your profile."},
		{"markdown", httpReq("POST", "/notes", map[string]string{"Content-Type": "text/markdown"}),
			"# Notes\n\nUse `a <= b` and `x = y + 1`; O'Brien's team ships Friday."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			if fd, ok := f.CheckHTTP(tt.r, netip.MustParseAddr("192.0.2.10"), body); ok {
				t.Fatalf("flagged: %s", fd)
			}
		})
	}
}

// TestCheckBodyTypes: what each Content-Type makes of a body.
func TestCheckBodyTypes(t *testing.T) {
	f := newFirewall(t, waf.Config{})
	attack := []byte("<script>alert(1)</script> ' OR '1'='1")
	tests := []struct {
		contentType string
		body        string
		want        bool
	}{
		{"image/png", string(attack), false},
		{"IMAGE/JPEG", string(attack), false},
		{"application/octet-stream", string(attack), false},
		{"video/mp4", string(attack), false},
		{"font/woff2", string(attack), false},
		{"application/grpc+proto", string(attack), false},
		{"application/x-protobuf", string(attack), false},
		{"application/pdf", string(attack), false},
		{"image/svg+xml", string(attack), true},
		{"text/html", string(attack), true},
		{"application/octet-streams", string(attack), true}, // not the binary type
		{"", string(attack), true},
		{"garbage;;;", string(attack), true},
		// multipart: the boundary quoted, LF line ends, a preamble
		{`multipart/form-data; boundary="b;1"`, "preamble\n--b;1\ncontent-disposition: form-data; name=\"q\"\n\n" + xssPayload + "\n--b;1--\n", true},
		{`multipart/form-data; boundary="b;1"`, "--b;1\r\nContent-Disposition: form-data; name=\"q\"\r\n\r\nhello\r\n--b;1--\r\n", false},
		// a part after a clean one, a Content-Type line, a quoted name with ';'
		{"multipart/form-data; charset=utf-8; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nok\r\n--XyZ\r\nContent-Type: text/plain\r\nContent-Disposition: form-data; name=\"b;c\"\r\n\r\n" + sqliPayload + "\r\n--XyZ--", true},
		// the boundary text inside a value does not end the part
		{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsee --XyZ later " + xssPayload + "\r\n--XyZ--", true},
		// a file's contents are not read; its filename is
		{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n\r\n" + string(attack) + "\r\n--XyZ--", false},
		{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%3Cscript%3Ealert(1)%3C%2Fscript%3E.png\r\n\r\nx\r\n--XyZ--", true},
		// a field name
		{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"" + sqliPayload + "\"\r\n\r\nx\r\n--XyZ--", true},
		// not multipart after all (no boundary, or never in the body): whole
		{"multipart/form-data", string(attack), true},
		{"multipart/form-data; boundary=XyZ", string(attack), true},
		// cut in its headers or its value: read as far as it goes
		{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + xssPayload, true},
		{"multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-da", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType+" "+tt.body[:min(len(tt.body), 24)], func(t *testing.T) {
			fd, ok := f.CheckBody(tt.contentType, []byte(tt.body))
			if ok != tt.want {
				t.Fatalf("found = %v (%s), want %v", ok, fd, tt.want)
			}
		})
	}

	t.Run("compressed", func(t *testing.T) {
		body := []byte(`{"q":"` + xssPayload + `"}`)
		for _, enc := range []string{"gzip", "br", " deflate "} {
			r := httpReq("POST", "/", map[string]string{"Content-Type": "application/json", "Content-Encoding": enc})
			if fd, ok := f.CheckHTTP(r, netip.Addr{}, body); ok {
				t.Errorf("%s body inspected: %s", enc, fd)
			}
			req := &waf.Request{Header: []waf.Header{hdr("Content-Encoding", enc)}, Body: body}
			if fd, ok := f.CheckRequest(req); ok {
				t.Errorf("%s body inspected: %s", enc, fd)
			}
		}
		r := httpReq("POST", "/", map[string]string{"Content-Type": "application/json", "Content-Encoding": "identity"})
		if _, ok := f.CheckHTTP(r, netip.Addr{}, body); !ok {
			t.Error("identity body not inspected")
		}
	})

	t.Run("off and nil", func(t *testing.T) {
		var nilF *waf.Firewall
		off := newFirewall(t, waf.Config{Mode: waf.ModeOff})
		r := httpReq("GET", "/?q=%3Cscript%3Ealert(1)%3C/script%3E", nil)
		for _, fw := range []*waf.Firewall{nilF, off} {
			if _, ok := fw.CheckBody("text/plain", attack); ok {
				t.Error("CheckBody found something")
			}
			if _, ok := fw.CheckHTTP(r, netip.Addr{}, nil); ok {
				t.Error("CheckHTTP found something")
			}
		}
	})

	t.Run("cap", func(t *testing.T) {
		small := newFirewall(t, waf.Config{InspectBytes: 128})
		pad := strings.Repeat("a", 200)
		ct, before := formData(t, [2]string{"q", xssPayload}, [2]string{"pad", pad})
		_, after := formData(t, [2]string{"pad", pad}, [2]string{"q", xssPayload})
		if _, ok := small.CheckBody(ct, before); !ok {
			t.Error("a part inside the cap not inspected")
		}
		if fd, ok := small.CheckBody(ct, after); ok {
			t.Errorf("a part past the cap inspected: %s", fd)
		}
	})
}

// TestCheckHTTPRules: the custom rules read the net/http headers and the
// client address too.
func TestCheckHTTPRules(t *testing.T) {
	f := newFirewall(t, waf.Config{
		Headers:      []string{"x-forwarded-host"},
		BlockCIDRs:   []string{"203.0.113.0/24"},
		BlockPaths:   []string{`^/admin(/|$)`},
		BlockHeaders: []waf.HeaderRule{{Name: "user-agent", Pattern: `(?i)sqlmap`}},
	})
	tests := []struct {
		name string
		r    *http.Request
		ip   string
		want waf.Finding
	}{
		{"cidr", httpReq("GET", "/", nil), "203.0.113.9", waf.Finding{Rule: "cidr", Location: "ip", Pattern: "203.0.113.0/24"}},
		{"path", httpReq("GET", "/x/../%61dmin/users", nil), "192.0.2.1", waf.Finding{Rule: "path", Location: "path", Pattern: `^/admin(/|$)`}},
		{"header rule", httpReq("GET", "/", map[string]string{"User-Agent": "sqlmap/1.7"}), "192.0.2.1", waf.Finding{Rule: "header", Location: "header:user-agent", Pattern: "(?i)sqlmap"}},
		{"listed header", httpReq("GET", "/", map[string]string{"X-Forwarded-Host": xssPayload}), "192.0.2.1", waf.Finding{Rule: "xss", Location: "header:x-forwarded-host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, ok := f.CheckHTTP(tt.r, netip.MustParseAddr(tt.ip), nil)
			if !ok || fd != tt.want {
				t.Fatalf("got %+v, %v; want %+v", fd, ok, tt.want)
			}
		})
	}
	// Both header forms in one Request: each is read.
	r := &waf.Request{Header: []waf.Header{hdr("Accept", "*/*")},
		HTTPHeader: map[string][]string{textproto.CanonicalMIMEHeaderKey("x-forwarded-host"): {"ok", xssPayload}}}
	if fd, ok := f.CheckRequest(r); !ok || fd.Location != "header:x-forwarded-host" {
		t.Fatalf("second value of an HTTPHeader: %+v, %v", fd, ok)
	}
}

// TestCheckHTTPAllocs: CheckHTTP copies nothing, so a clean request whose
// values need no detector allocates nothing, and one whose values do
// allocates what libinjection does and no more than the same request
// given to CheckRequest as Header fields.
func TestCheckHTTPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	f := newFirewall(t, waf.Config{})
	plain := map[string]string{"User-Agent": "okhttp/4.12.0", "Cookie": "session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark"}
	get := httpReq("GET", "/v1/orders/12345?limit=10&cursor=abc%3F", plain)
	post := httpReq("POST", "/v1/messages", map[string]string{"Content-Type": "application/json", "User-Agent": "okhttp/4.12.0"})
	body := []byte(`{"room":"lobby","text":"hello","n":3}`)
	mpCT, mp := formData(t, [2]string{"title", "hello"}, [2]string{"photo|avatar", "\x89PNG"})
	for _, tt := range []struct {
		name string
		run  func()
	}{
		{"get", func() { f.CheckHTTP(get, netip.Addr{}, nil) }},
		{"post json", func() { f.CheckHTTP(post, netip.Addr{}, body) }},
		{"multipart", func() { f.CheckBody(mpCT, mp) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.run()
			if n := testing.AllocsPerRun(100, tt.run); n != 0 {
				t.Errorf("%v allocations per clean check, want 0", n)
			}
		})
	}

	t.Run("as CheckRequest", func(t *testing.T) {
		hs := map[string]string{"User-Agent": chromeUA, "Referer": "https://shop.example.com/search?q=running+shoes&page=1",
			"Cookie": "session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; last=it%27s+fine"}
		r := httpReq("GET", "/v1/search?q=running+shoes&page=2", hs)
		req := &waf.Request{Path: []byte("/v1/search"), RawQuery: []byte("q=running+shoes&page=2")}
		for k, v := range hs {
			req.Header = append(req.Header, hdr(k, v))
		}
		viaHTTP := testing.AllocsPerRun(100, func() { f.CheckHTTP(r, netip.Addr{}, nil) })
		viaRequest := testing.AllocsPerRun(100, func() { f.CheckRequest(req) })
		if viaHTTP > viaRequest {
			t.Errorf("CheckHTTP %v allocations, CheckRequest %v", viaHTTP, viaRequest)
		}
	})
}

func FuzzCheckBody(f *testing.F) {
	f.Add("multipart/form-data; boundary=XyZ", []byte("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--"))
	f.Add(`multipart/form-data; boundary="a b"`, []byte("--a b\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\n\n\x00\n--a b--"))
	f.Add("application/x-www-form-urlencoded", []byte("a=1&b=%27"))
	f.Add("application/json", []byte(`{"a":["b",1,null]}`))
	f.Add("image/png", []byte("\x89PNG"))
	fws := fuzzFirewalls(f)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		orig := string(body)
		for _, fw := range fws {
			fd, ok := fw.CheckBody(contentType, body)
			checkFinding(t, fd, ok)
			if fd2, ok2 := fw.CheckBody(contentType, body); fd2 != fd || ok2 != ok {
				t.Fatalf("not deterministic: %+v %v, then %+v %v", fd, ok, fd2, ok2)
			}
		}
		if string(body) != orig {
			t.Fatal("CheckBody modified its input")
		}
	})
}

func BenchmarkCheckHTTP(b *testing.B) {
	f := newFirewall(b, waf.Config{})
	get := httpReq("GET", "/v1/search?q=running+shoes&page=2", map[string]string{
		"User-Agent": chromeUA,
		"Referer":    "https://shop.example.com/search?q=running+shoes&page=1",
		"Cookie":     "session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark; consent=yes",
		"Accept":     "application/json",
	})
	post := httpReq("POST", "/v1/messages", map[string]string{"Content-Type": "application/json", "User-Agent": "okhttp/4.12.0"})
	postBody := []byte(`{"room":"lobby","text":"Sure, I'll send the report by Friday.","attachments":[]}`)
	mpCT, mp := formData(b, [2]string{"title", "Quarterly report"}, [2]string{"notes", "see attached"}, [2]string{"file|q3.pdf", strings.Repeat("\x00%PDF", 200)})
	mpReq := httpReq("POST", "/v1/uploads", map[string]string{"Content-Type": mpCT, "User-Agent": "okhttp/4.12.0"})
	for _, bc := range []struct {
		name string
		r    *http.Request
		body []byte
	}{
		{"browser-get", get, nil},
		{"api-post-json", post, postBody},
		{"multipart", mpReq, mp},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if fd, ok := f.CheckHTTP(bc.r, netip.Addr{}, bc.body); ok {
				b.Fatalf("benchmark request flagged: %s", fd)
			}
			b.ReportAllocs()
			for b.Loop() {
				f.CheckHTTP(bc.r, netip.Addr{}, bc.body)
			}
		})
	}
}
