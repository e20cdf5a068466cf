// Package tlsrecord protects the records of a TLS 1.3 connection whose
// handshake crypto/tls has done, so that the connection can go on without
// the tls.Conn.
//
// Why: a tls.Conn keeps, for as long as it lives, a read buffer as large
// as the largest record it has received (up to 17 KiB, it never shrinks),
// the handshake messages it has buffered, and two AEAD states (about
// 1 KiB each). An idle WebSocket connection needs none of it: only the
// traffic keys and sequence numbers. A Layer holds exactly that (about
// 250 bytes) and builds the AEAD states again when records move.
//
// Use: give crypto/tls a Secrets as its Config.KeyLogWriter for the
// connection, run the handshake, make sure crypto/tls read nothing past
// the client's Finished (feed it whole records), then
//
//	l, err := tlsrecord.NewServer(state.CipherSuite, &secrets)
//	err = l.CountSent(bytesTheHandshakeWrote) // the session ticket, if any
//	...
//	n, _ := tlsrecord.RecordLen(buf)  // how many bytes make the next record
//	data, err := l.Open(buf[:n])      // decrypts in place
//	out = l.AppendData(out, a, b)     // a then b, as records
//
// Only what RFC 8446 allows after the handshake is accepted: application
// data, alerts, and KeyUpdate messages (answered when the peer asks).
// Anything else ends the connection with the alert the error carries.
//
// Concurrency: a Layer is not safe for concurrent use, except that one
// goroutine may Open while another seals (AppendData, AppendAlert): the
// two directions share only an atomic flag. Conn is a net.Conn over a
// socket for goroutines that block (the HTTP side).
package tlsrecord
