package pathtrie_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

// sample is a route and a request that should select it.
type sample struct {
	route        pathtrie.Route
	method, path string
	params       string // "name=value name=value"
}

// resourceTemplates are the routes of one API resource, below its prefix
// P. The last one differs between even and odd resources so that some
// resources have a catch-all and some do not.
var resourceTemplates = []string{
	"GET P",
	"POST P",
	"GET P/{id}",
	"PUT P/{id}",
	"DELETE P/{id}",
	"GET P/{id}/events",
	"POST P/{id}/events/{eventId}/ack",
	"GET P/search",
	"GET P/{id}/files/{key+}",
	"ANY P/{id}/files/{key+}",
	"OPTIONS P",
	"GET P/{id}/tags/{tag}",
	"DELETE P/{id}/tags/{tag}",
	"GET P/export/{format}",
	"HEAD P/{id}",
	"PATCH P/{id}/settings",
	"GET P/batch/{ids+}",
	"POST P/{id}/comments/{commentId}/replies",
	"GET P/health",
	"ANY P/{proxy+} | GET P/{id}/history/{from}/{to}",
}

var resourceNames = []string{"orders", "users", "billing", "catalog", "inventory", "shipments", "reviews", "carts", "payments", "sessions"}

// realisticRoutes returns n routes (at most 1,000) of a versioned REST API,
// each with a request that selects it. Parameter values are never a static
// segment, so no more specific route takes a sample's request.
func realisticRoutes(n int) []sample {
	var out []sample
	for r := 0; len(out) < n; r++ {
		prefix := fmt.Sprintf("/v%d/%s", r/len(resourceNames)+1, resourceNames[r%len(resourceNames)])
		for _, tmpl := range resourceTemplates {
			if len(out) == n {
				break
			}
			if even, odd, ok := strings.Cut(tmpl, " | "); ok {
				tmpl = even
				if r%2 == 1 {
					tmpl = odd
				}
			}
			method, path, _ := strings.Cut(strings.Replace(tmpl, " P", " "+prefix, 1), " ")
			out = append(out, makeSample(pathtrie.Route{Method: method, Path: path}, len(out)))
		}
	}
	return out
}

// makeSample builds a request for route i: values named after their
// parameter, five segments for a catch-all, PATCH for an ANY route.
func makeSample(rt pathtrie.Route, i int) sample {
	s := sample{route: rt, method: rt.Method}
	if s.method == pathtrie.MethodAny {
		s.method = "PATCH"
	}
	var path, params []string
	for _, seg := range strings.Split(rt.Path[1:], "/") {
		if !strings.HasPrefix(seg, "{") {
			path = append(path, seg)
			continue
		}
		name := strings.Trim(seg, "{+}")
		v := fmt.Sprintf("%s-%d", name, i)
		if strings.HasSuffix(seg, "+}") {
			v = fmt.Sprintf("%s-%d/x-1/x-2/x-3/x-4.json", name, i)
			if name != "proxy" {
				v = fmt.Sprintf("%s-%d/x-1", name, i)
			}
		}
		path = append(path, v)
		params = append(params, name+"="+v)
	}
	s.path = "/" + strings.Join(path, "/")
	s.params = strings.Join(params, " ")
	return s
}

func sampleRoutes(samples []sample) []pathtrie.Route {
	routes := make([]pathtrie.Route, len(samples))
	for i, s := range samples {
		routes[i] = s.route
	}
	return routes
}

// TestRealisticRoutes builds 1,000 routes and checks that each one's own
// request selects it, with the right parameters, as the reference matcher
// says too.
func TestRealisticRoutes(t *testing.T) {
	samples := realisticRoutes(1000)
	routes := sampleRoutes(samples)
	tr, err := pathtrie.New(routes)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, s := range samples {
		var p pathtrie.Params
		got := tr.Match(s.method, s.path, &p)
		if got != i || formatParams(&p) != s.params {
			t.Errorf("Match(%q, %q) = %d [%s]; want route %d %q [%s]", s.method, s.path, got, formatParams(&p), i, s.route, s.params)
			continue
		}
		if ref, refParams := refMatch(routes, s.method, s.path, false); ref != i || refParams != s.params {
			t.Errorf("reference matcher for (%q, %q) = %d [%s]; want %d", s.method, s.path, ref, refParams, i)
		}
		if !tr.MatchPath(s.path) {
			t.Errorf("MatchPath(%q) = false", s.path)
		}
		switch {
		case strings.Contains(s.route.Path, "+}"):
			kinds["greedy"]++
		case strings.Contains(s.route.Path, "{"):
			kinds["param"]++
		default:
			kinds["static"]++
		}
	}
	if kinds["static"] < 100 || kinds["param"] < 100 || kinds["greedy"] < 100 {
		t.Fatalf("route mix %v is not mixed enough", kinds)
	}
}
