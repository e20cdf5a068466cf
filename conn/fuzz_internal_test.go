package conn

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func FuzzParseHeader(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{0x81},
		{0x81, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'},
		{0x82, 0xfe, 0x01, 0x00, 0, 0, 0, 0},
		{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 9, 9, 9, 9},
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9},
		{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0xf9, 0x80, 0, 0, 0, 0},
		{0x08, 0x7e, 0},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHeader(b)
		if n != 0 && (n < 2 || n > maxHeaderBytes || n > len(b)) {
			t.Fatalf("n = %d for %d input bytes", n, len(b))
		}
		r := bytes.NewReader(b)
		ref, rerr := ws.ReadHeader(r)
		switch {
		case err != nil:
			if !errors.Is(err, ws.ErrHeaderLengthMSB) || n != 10 {
				t.Fatalf("err = %v with n = %d; only ErrHeaderLengthMSB at n = 10 is expected", err, n)
			}
			// gobwas reads the mask before it looks at the length, so it
			// agrees only when the mask is there.
			if len(b) >= 14 || b[1]&0x80 == 0 {
				if !errors.Is(rerr, ws.ErrHeaderLengthMSB) {
					t.Fatalf("parseHeader: %v; ws.ReadHeader: %v", err, rerr)
				}
			}
		case n == 0:
			if len(b) >= maxHeaderBytes {
				t.Fatalf("no header found in %d bytes", len(b))
			}
			if rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
				t.Fatalf("parseHeader wants more bytes, ws.ReadHeader = %+v, %v", ref, rerr)
			}
		default:
			if rerr != nil || ref != h {
				t.Fatalf("parseHeader = %+v; ws.ReadHeader = %+v, %v", h, ref, rerr)
			}
			if used := len(b) - r.Len(); used != n {
				t.Fatalf("parseHeader used %d bytes, ws.ReadHeader %d", n, used)
			}
			// The header is there as soon as its n bytes are.
			if _, m, _ := parseHeader(b[:n-1]); m != 0 {
				t.Fatalf("header found in %d bytes, but it is %d long", n-1, n)
			}
			// Re-encoded as a server frame, the header reads back the
			// same, unmasked, in the shortest length encoding.
			var out [maxHeaderBytes]byte
			m := putHeader(out[:], h.OpCode, h.Fin, int(h.Length))
			want := ws.Header{Fin: h.Fin, OpCode: h.OpCode, Length: h.Length}
			back, bn, berr := parseHeader(out[:m])
			if berr != nil || bn != m || back != want {
				t.Fatalf("re-encoded %+v as % x, parsed back %+v, %d, %v", want, out[:m], back, bn, berr)
			}
			wantM := 10
			switch {
			case h.Length < 126:
				wantM = 2
			case h.Length <= 0xffff:
				wantM = 4
			}
			if m != wantM {
				t.Fatalf("length %d encoded in a %d-byte header, want %d", h.Length, m, wantM)
			}
		}
	})
}

func FuzzValidUTF8Prefix(f *testing.F) {
	for _, seed := range []string{
		"", "hello", "h€llo", "a\xe2", "a\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xc0\x80", "\xe0\x9f", "\xff", "\x80", "\xe2\x82\xac\x80", "\xf4\x8f\xbf",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		n, ok := validUTF8Prefix(p)
		if utf8.Valid(p) && (!ok || n != len(p)) {
			t.Fatalf("valid %q: got %d, %v", p, n, ok)
		}
		// p can be continued into valid UTF-8 iff some cut k leaves a
		// valid head and a tail that is a proper prefix of one rune.
		continuable := false
		for k := max(0, len(p)-3); k <= len(p); k++ {
			if utf8.Valid(p[:k]) && (k == len(p) || !utf8.FullRune(p[k:])) {
				continuable = true
			}
		}
		if ok != continuable {
			t.Fatalf("validUTF8Prefix(%q) = %d, %v; but continuable = %v", p, n, ok, continuable)
		}
		if ok {
			if n > len(p) || n < len(p)-3 || !utf8.Valid(p[:n]) {
				t.Fatalf("validUTF8Prefix(%q) = %d, true: p[:n] is not the valid head", p, n)
			}
			if n < len(p) && utf8.FullRune(p[n:]) {
				t.Fatalf("validUTF8Prefix(%q) = %d, true: tail %q is not an unfinished rune", p, n, p[n:])
			}
		}
		if len(p) > 0 {
			if got, want := incompleteRune(p), !utf8.FullRune(p); got != want {
				t.Fatalf("incompleteRune(%q) = %v, want %v", p, got, want)
			}
		}
	})
}
