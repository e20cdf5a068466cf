package load

import "time"

// StampSize is the length of the stamp at the start of every fan-out
// message, and so the smallest fan-out message.
//
// A stamp is ASCII, so the message is valid UTF-8 and can go out as a
// text frame the way chat and notification fan-out does: 20 decimal digits
// of the publish time in Unix nanoseconds, ' ', 10 digits of the sequence
// number (from 1), ' '. The rest of the message is filler.
const StampSize = 32

const (
	stampTimeDigits = 20
	stampSeqDigits  = 10
	stampFiller     = 'x'
)

// NewMessage returns a fan-out message of size bytes (at least StampSize)
// with its filler in place, ready for Stamp.
func NewMessage(size int) []byte {
	b := make([]byte, max(size, StampSize))
	for i := range b {
		b[i] = stampFiller
	}
	return b
}

// Stamp writes seq and the publish time t into the first StampSize bytes
// of msg, which must be at least that long.
func Stamp(msg []byte, seq uint64, t time.Time) {
	putDigits(msg[:stampTimeDigits], uint64(t.UnixNano()))
	msg[stampTimeDigits] = ' '
	putDigits(msg[stampTimeDigits+1:stampTimeDigits+1+stampSeqDigits], seq)
	msg[StampSize-1] = ' '
}

// ParseStamp reads what Stamp wrote. ok is false for a message that does
// not start with a stamp, such as an error frame from the server.
func ParseStamp(msg []byte) (seq uint64, sent int64, ok bool) {
	if len(msg) < StampSize || msg[stampTimeDigits] != ' ' || msg[StampSize-1] != ' ' {
		return 0, 0, false
	}
	ns, ok1 := digits(msg[:stampTimeDigits])
	seq, ok2 := digits(msg[stampTimeDigits+1 : stampTimeDigits+1+stampSeqDigits])
	if !ok1 || !ok2 || ns > 1<<63-1 {
		return 0, 0, false
	}
	return seq, int64(ns), true
}

// putDigits writes v as len(dst) decimal digits, zero-padded; higher digits
// that do not fit are lost.
func putDigits(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

func digits(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
