package tlsrecord

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// FuzzOpen feeds a server Layer records the client sealed around fuzzed
// inner plaintext (inner type and padding included), and fuzzed raw
// bytes. Open must never panic, and application data must come out as it
// went in.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("hello\x17"), []byte{23, 3, 3, 0, 1, 0})
	f.Add([]byte{handshakeKeyUpdate, 0, 0, 1, 1, typeHandshake}, []byte{})
	f.Add([]byte{1, AlertCloseNotify, typeAlert, 0, 0}, []byte{21, 3, 3, 0, 2, 1, 0})
	f.Fuzz(func(t *testing.T, inner, raw []byte) {
		if len(inner) == 0 || len(inner) > MaxPlaintext {
			return
		}
		server, client := peers(t, tls.TLS_AES_128_GCM_SHA256)
		// As application data: what went in comes out.
		data, err := server.Open(client.AppendData(nil, inner, nil))
		if err != nil || !bytes.Equal(data, inner) {
			t.Fatalf("opened %q, %v from %q", data, err, inner)
		}
		// As the whole inner plaintext, type and padding included.
		server.Open(client.out.seal(client.suite, nil, inner[len(inner)-1], inner[:len(inner)-1], nil))
		if n, err := RecordLen(raw); err == nil && n > 0 && n <= len(raw) {
			server.Open(raw[:n])
		}
	})
}
