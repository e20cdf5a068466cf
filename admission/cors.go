package admission

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/cors"

	"github.com/gatecast/gatecast/internal/httpsyntax"
)

// CORS answers cross-origin requests on the HTTP side: it answers
// preflight requests itself, and adds the CORS headers to the response of
// an actual request from an allowed origin.
//
// The protocol work is github.com/rs/cors (v1.11), which is maintained
// and fits: its HandlerFunc is already this shape (answer a preflight, or
// set the headers of an actual request, and never call a next handler),
// it precomputes its header values, parses Access-Control-Request-Headers
// as the Fetch standard writes it, and echoes the requested headers
// rather than "*" (which browsers read literally when credentials are
// allowed). What this file adds is what rs/cors leaves to its caller:
// checking the configuration (it takes any origin string, and "*" with
// credentials, which browsers refuse), a zero value that means "no CORS"
// rather than its "allow all", defaults after Amazon's, OPTIONS without
// Origin left to the route, and telling the caller whether the request
// was a preflight that has been answered. Its one cost: its debug-log
// calls box their arguments even with logging off, one or two 16-byte
// allocations per cross-origin request (BenchmarkCORSActual).
type CORS struct {
	lib *cors.Cors
}

// CORSConfig is the CORS policy of the HTTP side. Every field's zero value
// means the default in its comment.
type CORSConfig struct {
	// AllowOrigins lists the origins whose pages may call the API:
	// "https://app.example.com" (scheme://host[:port], as a browser
	// sends it: no path, no trailing slash; compared without case),
	// "https://*.example.com" (any subdomain of example.com at any depth,
	// not example.com itself), or "*" (any origin; not with
	// AllowCredentials, which browsers refuse). "null" is refused: it is
	// the origin of every sandboxed frame and file: page. Zero means no
	// CORS: NewCORS returns nil, no CORS header is added, and a preflight
	// goes to its route like any OPTIONS request.
	AllowOrigins []string `yaml:"allow_origins"`
	// AllowMethods lists the methods a page may use (upper case).
	// Zero means GET, HEAD and POST.
	AllowMethods []string `yaml:"allow_methods"`
	// AllowHeaders lists the request headers a page may send beyond
	// the CORS-safelisted ones, without case; "*" allows any. Zero means
	// Authorization, Content-Type, X-Api-Key and X-Requested-With (after
	// Amazon's console default). A custom Config.APIKeyHeader must be
	// listed for pages to send it.
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders lists the response headers a page may read beyond
	// the CORS-safelisted ones (Retry-After is not among those). Zero
	// exposes none.
	ExposeHeaders []string `yaml:"expose_headers"`
	// AllowCredentials lets pages send cookies and TLS client
	// certificates and read the answer. Zero means no.
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how long a browser may keep a preflight answer, in whole
	// seconds, rounded up (browsers cap it: Chrome at 2 h, Firefox at
	// 24 h). Zero sends no Access-Control-Max-Age, so browsers keep it
	// 5 s; negative sends 0: ask every time.
	MaxAge time.Duration `yaml:"max_age"`
}

var varyOrigin = []string{"Origin"}

// defaultCORSHeaders are what a zero CORSConfig.AllowHeaders allows.
var defaultCORSHeaders = []string{"Authorization", "Content-Type", "X-Api-Key", "X-Requested-With"}

// NewCORS checks cfg and returns the policy, or nil (no CORS) when cfg
// allows no origin. Every fault is reported at once, each naming its
// field and value.
func NewCORS(cfg CORSConfig) (*CORS, error) {
	if len(cfg.AllowOrigins) == 0 {
		return nil, nil
	}
	var errs []error
	bad := func(field, value, why string) {
		errs = append(errs, fmt.Errorf("cors.%s %q: %s", field, value, why))
	}
	for _, o := range cfg.AllowOrigins {
		if o == "*" {
			if cfg.AllowCredentials {
				bad("allow_origins", o, `browsers refuse "*" with allow_credentials: list the origins`)
			}
			continue
		}
		if why := checkOrigin(o); why != "" {
			bad("allow_origins", o, why)
		}
	}
	methods := make([]string, 0, len(cfg.AllowMethods))
	for _, m := range cfg.AllowMethods {
		if m == "*" || !httpsyntax.IsToken(m) {
			bad("allow_methods", m, "not a method name (list each method; \"*\" is not supported)")
			continue
		}
		methods = append(methods, strings.ToUpper(m))
	}
	headers := cfg.AllowHeaders
	if len(headers) == 0 {
		headers = defaultCORSHeaders
	}
	for _, h := range headers {
		if h != "*" && !httpsyntax.IsToken(h) {
			bad("allow_headers", h, "not a header name")
		}
	}
	for _, h := range cfg.ExposeHeaders {
		switch {
		case h == "*" && cfg.AllowCredentials:
			bad("expose_headers", h, `browsers read "*" literally with allow_credentials: list the headers`)
		case h != "*" && !httpsyntax.IsToken(h):
			bad("expose_headers", h, "not a header name")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	maxAge := 0
	switch {
	case cfg.MaxAge < 0:
		maxAge = -1 // rs/cors: send 0
	case cfg.MaxAge > 0:
		maxAge = int((cfg.MaxAge + time.Second - 1) / time.Second)
	}
	return &CORS{lib: cors.New(cors.Options{
		AllowedOrigins:   cfg.AllowOrigins,
		AllowedMethods:   methods, // empty: rs/cors's default, GET, HEAD and POST
		AllowedHeaders:   headers,
		ExposedHeaders:   cfg.ExposeHeaders,
		AllowCredentials: cfg.AllowCredentials,
		MaxAge:           maxAge,
	})}, nil
}

// checkOrigin says what is wrong with an AllowOrigins entry other than
// "*", or "".
func checkOrigin(o string) string {
	const want = "want scheme://host[:port] as a browser sends it, such as https://app.example.com, or https://*.example.com"
	if o == "null" {
		return `"null" is the origin of every sandboxed frame and file: page: allowing it allows them all`
	}
	host := o
	if i := strings.Index(o, "://"); i > 0 {
		host = o[i+3:]
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		if strings.Contains(rest, "*") {
			return "one wildcard at most, at the start of the host: " + want
		}
		if name, _, _ := strings.Cut(rest, ":"); !strings.Contains(name, ".") {
			return "a wildcard over a whole top-level domain allows anyone's site: name a domain"
		}
		o = strings.Replace(o, "*.", "x.", 1) // check the rest as a host
	} else if strings.Contains(o, "*") {
		return "a wildcard stands only for subdomains, at the start of the host: " + want
	}
	u, err := url.Parse(o)
	switch {
	case err != nil, u.Scheme == "", u.Host == "", u.Opaque != "", u.User != nil:
		return want
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o[len(u.Scheme)+3:], "/?#"):
		return "an origin has no path, query or trailing slash: " + want
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "port out of range: " + want
		}
	}
	return ""
}

// Handle applies the policy to one request, before anything else looks
// at it: a preflight carries no API key or token.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered in full, 204 with the CORS headers when the origin, method and
// headers are allowed, and 204 without them when not (a browser then
// refuses the call itself; a 403 would tell it nothing more). Handle then
// returns true and the caller writes nothing more.
//
// Any other request gets "Vary: Origin" (so that a cache keeps answers to
// different origins apart) and, from an allowed origin with an allowed
// method, Access-Control-Allow-Origin, -Allow-Credentials and
// -Expose-Headers; Handle returns false and the caller goes on. CORS does
// not stop a disallowed origin's request from arriving, only its page
// from reading the answer.
//
// A nil *CORS does nothing and returns false. Safe for concurrent use.
func (c *CORS) Handle(w http.ResponseWriter, r *http.Request) (preflightAnswered bool) {
	if c == nil {
		return false
	}
	if len(r.Header["Origin"]) == 0 {
		// Not a cross-origin request from a browser: an OPTIONS without
		// Origin is the route's, even with Access-Control-Request-Method
		// (which rs/cors alone would answer as a preflight).
		h := w.Header()
		if v := h["Vary"]; v != nil {
			h["Vary"] = append(v, "Origin")
		} else {
			h["Vary"] = varyOrigin[:1:1] // as rs/cors does: shared, never written in place
		}
		return false
	}
	c.lib.HandlerFunc(w, r)
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}
