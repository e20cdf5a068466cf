package pathtrie_test

import (
	"strconv"
	"testing"

	"github.com/gatecast/gatecast/routes/pathtrie"
)

// BenchmarkMatch matches one request of each kind against realistic route
// sets. kind=miss walks deep before failing: its path shares a long prefix
// with several routes but matches none, and its resource has no catch-all.
func BenchmarkMatch(b *testing.B) {
	type request struct{ kind, method, path string }
	sets := []struct {
		routes   int
		requests []request
	}{
		{10, []request{
			{"static", "GET", "/v1/orders"},
			{"param", "POST", "/v1/orders/o-1/events/e-2/ack"},
			{"greedy", "GET", "/v1/orders/o-1/files/2024/05/report.pdf"},
			{"miss", "POST", "/v1/orders/o-1/events/e-2/nack"},
		}},
		{1000, []request{
			{"static", "GET", "/v3/shipments/search"},
			{"param", "POST", "/v3/shipments/s-1/comments/c-2/replies"},
			{"greedy", "GET", "/v3/shipments/s-1/files/2024/05/report.pdf"},
			{"miss", "POST", "/v3/shipments/s-1/comments/c-2/likes"},
		}},
	}
	for _, set := range sets {
		tr, err := pathtrie.New(sampleRoutes(realisticRoutes(set.routes)))
		if err != nil {
			b.Fatal(err)
		}
		for _, req := range set.requests {
			var p pathtrie.Params
			want := tr.Match(req.method, req.path, &p)
			if (want < 0) != (req.kind == "miss") {
				b.Fatalf("Match(%q, %q) = %d", req.method, req.path, want)
			}
			b.Run("routes="+strconv.Itoa(set.routes)+"/kind="+req.kind, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if tr.Match(req.method, req.path, &p) != want {
						b.Fatal("answer changed")
					}
				}
			})
		}
	}
}

// BenchmarkMatchPath is the 405-or-404 question for a path with no route.
func BenchmarkMatchPath(b *testing.B) {
	tr, err := pathtrie.New(sampleRoutes(realisticRoutes(1000)))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("routes=1000/kind=miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if tr.MatchPath("/v3/shipments/s-1/comments/c-2/likes") {
				b.Fatal("matched")
			}
		}
	})
}

// BenchmarkNew is the cost of building the trie at startup or reload.
func BenchmarkNew(b *testing.B) {
	routes := sampleRoutes(realisticRoutes(1000))
	b.Run("routes=1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pathtrie.New(routes); err != nil {
				b.Fatal(err)
			}
		}
	})
}
