package waf

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// cidrSet answers "is this address in any blocked prefix" by binary search.
// Two CIDR prefixes are either disjoint or one holds the other, so once
// the held ones are dropped the rest are disjoint ranges that sort by
// their first address: the one range that can hold an address is the last
// that starts at or before it.
type cidrSet struct {
	ranges []addrRange // sorted by lo, disjoint; IPv4 before IPv6
}

type addrRange struct {
	lo, hi netip.Addr
	src    string // the configured entry, for Finding.Pattern
}

// parsePrefix accepts an address or a CIDR. IPv4-mapped IPv6 forms are
// turned into IPv4, as Request.SourceIP is.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func (s *cidrSet) add(p netip.Prefix, src string) {
	s.ranges = append(s.ranges, addrRange{lo: p.Addr(), hi: lastAddr(p), src: src})
}

// build sorts the ranges and drops those inside another.
func (s *cidrSet) build() {
	// Sort by first address, and for equal starts the wider range first, so
	// that a range inside another always comes after it.
	slices.SortStableFunc(s.ranges, func(a, b addrRange) int {
		if c := a.lo.Compare(b.lo); c != 0 {
			return c
		}
		return b.hi.Compare(a.hi)
	})
	out := s.ranges[:0]
	for _, r := range s.ranges {
		if n := len(out); n > 0 && r.hi.Compare(out[n-1].hi) <= 0 && r.lo.BitLen() == out[n-1].lo.BitLen() {
			continue // inside the previous one
		}
		out = append(out, r)
	}
	s.ranges = slices.Clip(out)
}

// match returns the configured entry that holds a, if any.
func (s *cidrSet) match(a netip.Addr) (string, bool) {
	if len(s.ranges) == 0 || !a.IsValid() {
		return "", false
	}
	a = a.Unmap().WithZone("")
	i, found := slices.BinarySearchFunc(s.ranges, a, func(r addrRange, a netip.Addr) int {
		return cmp.Compare(r.lo.Compare(a), 0)
	})
	if !found {
		i-- // the last range starting before a
	}
	if i >= 0 && s.ranges[i].hi.Compare(a) >= 0 && s.ranges[i].lo.BitLen() == a.BitLen() {
		return s.ranges[i].src, true
	}
	return "", false
}

// lastAddr is the highest address in p (p is masked).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As16()
	off := 0
	if p.Addr().Is4() {
		off = 12
	}
	for i := off*8 + p.Bits(); i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}
