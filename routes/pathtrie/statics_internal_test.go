package pathtrie

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
)

// BenchmarkStatics compares ways to find a static child, the choice behind
// maxLinear: a linear scan, a binary search of sorted keys, a map, and
// statics.get as built. The keys share a prefix and a length, the worst case
// for comparing strings.
func BenchmarkStatics(b *testing.B) {
	for _, n := range []int{2, 4, 8, 16, 64, 256} {
		var bld builder
		parent := &node{}
		keys := make([]string, n)
		m := make(map[string]*node, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("resource%03d", i*7%n)
			m[keys[i]] = bld.static(parent, keys[i])
		}
		bld.freeze(parent)
		nodes := make([]*node, n)
		for i, k := range keys {
			nodes[i] = m[k]
		}
		sorted := slices.Sorted(maps.Keys(m))
		sortedNodes := make([]*node, n)
		for i, k := range sorted {
			sortedNodes[i] = m[k]
		}
		lookups := []struct {
			impl string
			get  func(string) *node
		}{
			{"linear", func(seg string) *node {
				for i, k := range keys {
					if k == seg {
						return nodes[i]
					}
				}
				return nil
			}},
			{"binary", func(seg string) *node {
				if i, ok := slices.BinarySearch(sorted, seg); ok {
					return sortedNodes[i]
				}
				return nil
			}},
			{"map", func(seg string) *node { return m[seg] }},
			{"get", parent.statics.get},
		}
		for _, l := range lookups {
			for _, q := range []struct{ name, seg string }{{"hit", keys[n/2]}, {"miss", "resource-xx"}} {
				if (l.get(q.seg) != nil) != (q.name == "hit") {
					b.Fatalf("impl=%s: lookup of %q is wrong", l.impl, q.seg)
				}
				b.Run("children="+strconv.Itoa(n)+"/impl="+l.impl+"/lookup="+q.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						l.get(q.seg)
					}
				})
			}
		}
	}
}

// TestStaticsLayout checks that freeze picks the layout maxLinear says and
// that both layouts find every child and nothing else.
func TestStaticsLayout(t *testing.T) {
	for _, n := range []int{1, maxLinear, maxLinear + 1, 100} {
		t.Run("children="+strconv.Itoa(n), func(t *testing.T) {
			var bld builder
			parent := &node{}
			want := map[string]*node{}
			for i := range n {
				k := "k" + strconv.Itoa(i)
				want[k] = bld.static(parent, k)
			}
			bld.freeze(parent)
			if (parent.statics.m != nil) != (n > maxLinear) {
				t.Fatalf("map layout = %v with %d children", parent.statics.m != nil, n)
			}
			for k, c := range want {
				if parent.statics.get(k) != c {
					t.Fatalf("get(%q) did not find its child", k)
				}
			}
			for _, k := range []string{"", "k", "k-1", "K0"} {
				if parent.statics.get(k) != nil {
					t.Fatalf("get(%q) found a child", k)
				}
			}
		})
	}
}
