package conn

// HeldBytes reports the capacities of the buffers c holds for an
// unfinished frame (in) and a message being reassembled (msg), and the
// bytes in its write queue. Loop goroutine only.
func HeldBytes(c *Conn) (in, msg, out int) {
	return cap(c.in), cap(c.msg), c.outLen
}

// BufCap is the capacity of the pooled buffer getBuf(n) returns.
func BufCap(n int) int {
	if i := bufClass(n); i >= 0 {
		return bufClasses[i]
	}
	return n
}

// TLSHeld reports whether c's TLS records go through a tlsrecord.Layer
// (TLS 1.3 after the handshake) and the capacity of the buffer it holds
// for records. Loop goroutine only.
func TLSHeld(c *Conn) (layer bool, buf int) {
	if c.tls == nil {
		return false, 0
	}
	return c.tls.rec != nil, cap(c.tls.buf)
}
