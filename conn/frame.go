package conn

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// maxHeaderBytes is the longest frame header: 2 bytes, 8 of extended
// length, 4 of mask.
const maxHeaderBytes = ws.MaxHeaderSize

// parseHeader reads a frame header from the start of b without copying or
// allocating. n is the header's length in bytes, or 0 if b does not hold a
// whole header yet. A length with its most significant bit set (2^63 and
// up) is a protocol error (RFC 6455, 5.2) and is reported before anything
// is allocated for it.
func parseHeader(b []byte) (h ws.Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return h, 10, ws.ErrHeaderLengthMSB
		}
		h.Length = int64(u)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// putHeader writes an unmasked server frame header for a payload of length
// n into b (at least maxHeaderBytes long) and returns its length.
func putHeader(b []byte, op ws.OpCode, fin bool, n int) int {
	b[0] = byte(op)
	if fin {
		b[0] |= 0x80
	}
	switch {
	case n < 126:
		b[1] = byte(n)
		return 2
	case n <= 0xffff:
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:4], uint16(n))
		return 4
	default:
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:10], uint64(n))
		return 10
	}
}

// AppendFrame appends one whole unmasked server frame (header and payload)
// to dst. Callers that send the same message to many connections encode it
// once with AppendFrame and pass the bytes to WriteFrame.
func AppendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	var h [maxHeaderBytes]byte
	n := putHeader(h[:], op, true, len(payload))
	dst = append(dst, h[:n]...)
	return append(dst, payload...)
}
