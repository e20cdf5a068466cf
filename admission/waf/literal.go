package waf

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Go's regexp runs an unanchored pattern such as "(?i)sqlmap|nikto" over a
// 110-byte User-Agent in about 5 µs: the whole admission budget. Most
// custom-rule patterns name a literal that every match must contain, so a
// rule first looks for one of those literals (ASCII case ignored) and runs
// the regexp only where one is present: the common, clean request then
// pays a substring search.

// maxLiterals bounds the literal set a pattern may need; beyond it the
// search would cost more than it saves.
const maxLiterals = 16

// requiredLiterals returns strings, lower-case ASCII, one of which every
// match of pattern contains (comparing with ASCII case folded), or nil
// when it cannot say. nil means "always run the regexp": never wrong,
// only slower.
func requiredLiterals(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := literals(re.Simplify())
	if len(lits) == 0 || len(lits) > maxLiterals {
		return nil
	}
	return lits
}

func literals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if re.Flags&syntax.FoldCase != 0 {
			// Only ASCII folds here; a case-folded non-ASCII letter
			// (é/É, or K and the Kelvin sign) would need Unicode folding.
			for _, r := range re.Rune {
				if r >= utf8.RuneSelf {
					return nil
				}
			}
		}
		if s == "" {
			return nil
		}
		return []string{strings.ToLower(s)}
	case syntax.OpCapture:
		return literals(re.Sub[0])
	case syntax.OpPlus:
		return literals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literals(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		// Any one child's literals will do; take the set whose shortest
		// member is longest, as it passes the fewest values.
		var best []string
		for _, sub := range re.Sub {
			l := literals(sub)
			if len(l) > 0 && len(l) <= maxLiterals && (best == nil || shortest(l) > shortest(best)) {
				best = l
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			l := literals(sub)
			if l == nil {
				return nil // this branch matches without a known literal
			}
			all = append(all, l...)
		}
		slices.Sort(all)
		return slices.Compact(all)
	}
	return nil
}

func shortest(l []string) int {
	n := len(l[0])
	for _, s := range l[1:] {
		n = min(n, len(s))
	}
	return n
}

// mayMatch reports whether b contains one of lits (lower-case ASCII),
// ignoring ASCII case; true when lits is nil, and true when b holds a
// non-ASCII byte: under (?i) the Kelvin sign matches k and the long s
// matches s, which an ASCII search would miss.
func mayMatch(b []byte, lits []string) bool {
	if lits == nil {
		return true
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for _, lit := range lits {
		if containsFold(b, lit) {
			return true
		}
	}
	return false
}

// containsFold reports whether b contains lit (lower-case), ignoring
// ASCII case.
func containsFold(b []byte, lit string) bool {
	first := lit[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper -= 'a' - 'A'
	}
	for i := 0; i+len(lit) <= len(b); i++ {
		if c := b[i]; c != first && c != upper {
			continue
		}
		if equalFold(b[i:i+len(lit)], lit) {
			return true
		}
	}
	return false
}
