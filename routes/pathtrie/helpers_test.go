package pathtrie_test

import (
	"strings"
	"testing"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

// parseRoutes turns route keys such as "GET /users/{id}" into Routes.
func parseRoutes(keys ...string) []pathtrie.Route {
	routes := make([]pathtrie.Route, len(keys))
	for i, k := range keys {
		routes[i].Method, routes[i].Path, _ = strings.Cut(k, " ")
	}
	return routes
}

func mustNew(t testing.TB, keys ...string) *pathtrie.Trie {
	t.Helper()
	tr, err := pathtrie.New(parseRoutes(keys...))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// formatParams writes p as "name=value name=value".
func formatParams(p *pathtrie.Params) string {
	var b strings.Builder
	for i := range p.Len() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Name(i) + "=" + p.Value(i))
	}
	return b.String()
}
