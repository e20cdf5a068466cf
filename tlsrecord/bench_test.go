package tlsrecord

import (
	"crypto/tls"
	"strconv"
	"testing"
)

// BenchmarkRoundTrip seals a message on one side and opens it on the
// other, with the AEAD states kept (warm) or rebuilt for every message
// (cold, as for a connection that was idle): the cost conn's warm list
// saves.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{64, 16 << 10} {
		for _, cold := range []bool{false, true} {
			name := "size=" + strconv.Itoa(size) + "B/aead=warm"
			if cold {
				name = "size=" + strconv.Itoa(size) + "B/aead=cold"
			}
			b.Run(name, func(b *testing.B) {
				server, client := peers(b, tls.TLS_AES_128_GCM_SHA256)
				msg := make([]byte, size)
				buf := make([]byte, 0, SealedLen(size))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if cold {
						server.Idle()
						client.Idle()
					}
					recs := server.AppendData(buf[:0], msg, nil)
					for len(recs) > 0 {
						n, _ := RecordLen(recs)
						if _, err := client.Open(recs[:n]); err != nil {
							b.Fatal(err)
						}
						recs = recs[n:]
					}
				}
			})
		}
	}
}
