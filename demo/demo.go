package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"time"
)

// AssetPrefix is where the page's script and style sheet are served; the
// page itself is at "/".
const AssetPrefix = "/@demo/"

//go:embed static
var static embed.FS

// page is static/index.html, a template only for the WebSocket path.
var page = template.Must(template.ParseFS(static, "static/index.html"))

// assets are the files served under AssetPrefix, with their content types.
var assets = map[string]string{
	"chat.js":  "text/javascript; charset=utf-8",
	"chat.css": "text/css; charset=utf-8",
}

// pagePolicy keeps the page to its own origin: its script, its style sheet
// and its WebSocket ('self' covers ws:// and wss:// on the same host).
const pagePolicy = "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the demo page at "/" and its assets under AssetPrefix to
// GET and HEAD requests that are not WebSocket upgrades; every other
// request goes to next (nil: 404). wsPath is the gateway's WebSocket path,
// which the page connects to on its own host; "" means "/".
func Handler(wsPath string, next http.Handler) http.Handler {
	if wsPath == "" {
		wsPath = "/"
	}
	if next == nil {
		next = http.NotFoundHandler()
	}
	var html bytes.Buffer
	if err := page.Execute(&html, struct{ WebSocketPath string }{wsPath}); err != nil {
		panic("demo: index.html: " + err.Error()) // the template is embedded: a bug
	}
	files := map[string]file{"/": newFile(html.Bytes(), "text/html; charset=utf-8", pagePolicy)}
	for name, ctype := range assets {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			panic("demo: " + err.Error()) // listed but not embedded: a bug
		}
		files[AssetPrefix+name] = newFile(b, ctype, "")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		f.serve(w, r)
	})
}

// file is one response, built once.
type file struct {
	body                   []byte
	contentType, etag, csp string
}

func newFile(body []byte, contentType, csp string) file {
	sum := sha256.Sum256(body)
	return file{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, csp: csp}
}

func (f file) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	// Revalidated on every load, so a rebuilt gateway's page is never stale.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if f.csp != "" {
		h.Set("Content-Security-Policy", f.csp)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
