package pathtrie

import "slices"

// maxLinear is the most static children searched linearly; a node with more
// keeps them in a map. In BenchmarkStatics a linear scan wins at 2 children
// and ties with a map at 4; from 8 on a map costs a flat 8-10 ns against
// 12-34 ns for a binary search of 8-256 sorted keys and 15-800 ns for a
// linear scan.
const maxLinear = 4

// statics are a node's static children.
type statics struct {
	keys  []string // sorted; set when there are at most maxLinear children
	nodes []*node  // nodes[i] continues with keys[i]
	m     map[string]*node
}

func (s *statics) empty() bool { return len(s.keys) == 0 && len(s.m) == 0 }

// get returns the child for seg, or nil.
func (s *statics) get(seg string) *node {
	if s.m != nil {
		return s.m[seg]
	}
	for i, k := range s.keys {
		if k == seg {
			return s.nodes[i]
		}
	}
	return nil
}

// builder collects static children in maps while New inserts routes.
type builder struct {
	children map[*node]map[string]*node
}

// static returns n's static child for seg, creating it.
func (b *builder) static(n *node, seg string) *node {
	if b.children == nil {
		b.children = make(map[*node]map[string]*node)
	}
	m := b.children[n]
	if m == nil {
		m = make(map[string]*node)
		b.children[n] = m
	}
	c := m[seg]
	if c == nil {
		c = &node{}
		m[seg] = c
	}
	return c
}

// freeze gives n and its descendants their final statics.
func (b *builder) freeze(n *node) {
	m := b.children[n]
	if len(m) > maxLinear {
		n.statics.m = m
	} else if len(m) > 0 {
		n.statics.keys = make([]string, 0, len(m))
		for k := range m {
			n.statics.keys = append(n.statics.keys, k)
		}
		slices.Sort(n.statics.keys)
		n.statics.nodes = make([]*node, len(m))
		for i, k := range n.statics.keys {
			n.statics.nodes[i] = m[k]
		}
	}
	for _, c := range m {
		b.freeze(c)
	}
	if n.param != nil {
		b.freeze(n.param)
	}
}
