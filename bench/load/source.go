package load

import (
	"fmt"
	"net/netip"
)

// SourceIP returns the i-th client source address counting from 127.0.0.2:
// 127.0.0.2, 127.0.0.3, ... The whole of 127.0.0.0/8 is local on Linux, and
// each address has its own ephemeral ports, so giving every client process
// its own address keeps ports from running out (also across runs, while
// closed connections sit in TIME_WAIT).
func SourceIP(i int) string {
	n := uint32(i) + 2
	if i < 0 || n >= 1<<24-1 {
		panic(fmt.Sprintf("load: source address index %d out of 127.0.0.0/8", i))
	}
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// Shares splits total into parts shares that differ by at most one, larger
// ones first. Shares(10, 3) is [4 3 3].
func Shares(total, parts int) []int {
	s := make([]int, parts)
	for i := range s {
		s[i] = total / parts
		if i < total%parts {
			s[i]++
		}
	}
	return s
}

// SharesOf splits total into the fewest shares of at most per each.
// SharesOf(12000, 5000) is [4000 4000 4000].
func SharesOf(total, per int) []int {
	return Shares(total, max(1, (total+per-1)/per))
}
