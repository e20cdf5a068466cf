package conn

import "unicode/utf8"

// validUTF8Prefix checks p, which may end in the middle of a character
// because the message continues in the next fragment. It returns how many
// leading bytes form complete, valid characters, and false if p holds an
// invalid sequence (one that no continuation could repair), so a bad
// fragmented message fails on the fragment that breaks it.
func validUTF8Prefix(p []byte) (int, bool) {
	if utf8.Valid(p) {
		return len(p), true
	}
	for tail := 1; tail <= 3 && tail <= len(p); tail++ {
		k := len(p) - tail
		if utf8.RuneStart(p[k]) {
			if incompleteRune(p[k:]) && utf8.Valid(p[:k]) {
				return k, true
			}
			return 0, false
		}
	}
	return 0, false
}

// incompleteRune reports whether p is a proper prefix of some valid UTF-8
// encoding (Unicode Table 3-7: no overlongs, no surrogates, nothing past
// U+10FFFF).
func incompleteRune(p []byte) bool {
	lo, hi := byte(0x80), byte(0xBF)
	var size int
	switch b := p[0]; {
	case b >= 0xC2 && b <= 0xDF:
		size = 2
	case b == 0xE0:
		size, lo = 3, 0xA0
	case b == 0xED:
		size, hi = 3, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		size = 3
	case b == 0xF0:
		size, lo = 4, 0x90
	case b >= 0xF1 && b <= 0xF3:
		size = 4
	case b == 0xF4:
		size, hi = 4, 0x8F
	default:
		return false
	}
	if len(p) >= size {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i] < lo || p[i] > hi {
			return false
		}
		lo, hi = 0x80, 0xBF
	}
	return true
}
