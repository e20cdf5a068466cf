package tlsrecord

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echo writes msg from the client, reads it on the server, writes it back
// and reads it on the client.
func echo(t *testing.T, p *pair, msg []byte) {
	t.Helper()
	go func() {
		if _, err := p.client.Write(msg); err != nil {
			t.Error("client write:", err)
		}
	}()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(p.server, got); err != nil {
		t.Fatal("server read:", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("server read other bytes than the client wrote")
	}
	go func() {
		if _, err := p.server.Write(got); err != nil {
			t.Error("server write:", err)
		}
	}()
	back := make([]byte, len(msg))
	if _, err := io.ReadFull(p.client, back); err != nil {
		t.Fatal("client read:", err)
	}
	if !bytes.Equal(back, msg) {
		t.Fatal("client read other bytes than the server wrote")
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestInterop runs the Layer against crypto/tls's client: data both ways
// in sizes around the record limit, with and without a session ticket
// sent by the handshake, and resumption from that ticket.
func TestInterop(t *testing.T) {
	for _, tc := range []struct {
		name       string
		server     *tls.Config
		wantTicket int
	}{
		{"tickets", nil, 1},
		{"no-tickets", &tls.Config{SessionTicketsDisabled: true}, 0},
		{"client takes no tickets", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(1)}
			if tc.name == "client takes no tickets" {
				client = nil // no psk_key_exchange_modes: crypto/tls sends no ticket
			}
			p := dialPair(t, tc.server, client)
			if p.state.Version != tls.VersionTLS13 {
				t.Fatalf("version %x", p.state.Version)
			}
			if p.sent != tc.wantTicket {
				t.Fatalf("CountSent found %d records under the traffic keys, want %d", p.sent, tc.wantTicket)
			}
			for _, n := range []int{1, 100, MaxPlaintext - 1, MaxPlaintext, MaxPlaintext + 1, 40 << 10, 200 << 10} {
				echo(t, p, randomBytes(n))
			}
		})
	}
	t.Run("resumption", func(t *testing.T) {
		server := &tls.Config{}
		server.SetSessionTicketKeys([][32]byte{{1, 2, 3}})
		client := &tls.Config{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		first := dialPair(t, server, client)
		echo(t, first, []byte("hello")) // the client takes the ticket while reading
		second := dialPair(t, server, client)
		if !second.state.DidResume {
			t.Fatal("the second connection did not resume from the first one's ticket")
		}
		echo(t, second, randomBytes(20<<10))
	})
}

// TestCloseNotify: each side's Close reaches the other as a clean end.
func TestCloseNotify(t *testing.T) {
	t.Run("client closes", func(t *testing.T) {
		p := dialPair(t, nil, nil)
		echo(t, p, []byte("x"))
		p.client.Close()
		if _, err := p.server.Read(make([]byte, 10)); err != io.EOF {
			t.Fatalf("server read after the client's close_notify: %v, want io.EOF", err)
		}
	})
	t.Run("server closes", func(t *testing.T) {
		p := dialPair(t, nil, nil)
		echo(t, p, []byte("x"))
		p.server.Close()
		if _, err := p.client.Read(make([]byte, 10)); err != io.EOF {
			t.Fatalf("client read after the server's close_notify: %v, want io.EOF", err)
		}
	})
}

// TestInteropKeyUpdate: the server updates its keys and asks the client to
// update too; crypto/tls answers with its own KeyUpdate, which the server
// must follow to read what comes after.
func TestInteropKeyUpdate(t *testing.T) {
	p := dialPair(t, nil, nil)
	echo(t, p, []byte("before"))
	in, out := p.layer.in.secret, p.layer.out.secret
	p.layer.askPeer.Store(true)
	p.layer.updateOut.Store(true)
	echo(t, p, []byte("server asked for an update"))
	echo(t, p, randomBytes(3*MaxPlaintext))
	if p.layer.out.secret == out {
		t.Fatal("the server's write keys did not change")
	}
	if p.layer.in.secret == in {
		t.Fatal("the client did not update its keys when asked (or the server did not follow)")
	}
	// By itself, after rekeyAfter records.
	out = p.layer.out.secret
	p.layer.rekeyAt = p.layer.out.seq + 1
	echo(t, p, randomBytes(2*MaxPlaintext))
	if p.layer.out.secret == out {
		t.Fatal("the server did not update its keys after rekeyAfter records")
	}
	if p.layer.out.seq != 1 {
		t.Fatalf("write sequence %d after the update, want it restarted (1 record since)", p.layer.out.seq)
	}
}

var allSuites = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}

// TestSuites: every suite's records open on the other side, also across
// key updates, and a Layer that went idle builds its AEADs again.
func TestSuites(t *testing.T) {
	for _, id := range allSuites {
		t.Run(tls.CipherSuiteName(id), func(t *testing.T) {
			server, client := peers(t, id)
			for i, n := range []int{1, MaxPlaintext, 3*MaxPlaintext + 7} {
				msg := randomBytes(n)
				if i == 1 {
					client.askPeer.Store(true)
					client.updateOut.Store(true)
					server.Idle()
				}
				recs := client.AppendData(nil, msg[:n/2], msg[n/2:])
				if got := openAll(t, server, recs); !bytes.Equal(got, msg) {
					t.Fatalf("%d bytes client → server: other bytes came out", n)
				}
				recs = server.AppendData(nil, msg, nil)
				if len(recs) > SealedLen(n) {
					t.Fatalf("AppendData wrote %d bytes, SealedLen promised at most %d", len(recs), SealedLen(n))
				}
				if got := openAll(t, client, recs); !bytes.Equal(got, msg) {
					t.Fatalf("%d bytes server → client: other bytes came out", n)
				}
			}
		})
	}
}

// openAll opens every record of recs with l and returns the data.
func openAll(t *testing.T, l *Layer, recs []byte) []byte {
	t.Helper()
	var data []byte
	for len(recs) > 0 {
		n, err := RecordLen(recs)
		if err != nil || n == 0 || n > len(recs) {
			t.Fatalf("RecordLen: %d, %v (of %d bytes)", n, err, len(recs))
		}
		d, err := l.Open(recs[:n])
		if err != nil {
			t.Fatal("Open:", err)
		}
		data = append(data, d...)
		recs = recs[n:]
	}
	return data
}

// TestOpenRefuses: what a server must not accept after the handshake ends
// the connection with the right alert.
func TestOpenRefuses(t *testing.T) {
	type build func(client *Layer) []byte
	seal := func(typ byte, body ...byte) build {
		return func(c *Layer) []byte { return c.out.seal(c.suite, nil, typ, body, nil) }
	}
	for _, tc := range []struct {
		name  string
		rec   build
		alert uint8
		eof   bool
	}{
		{"tampered", func(c *Layer) []byte {
			r := c.AppendData(nil, []byte("hello"), nil)
			r[7] ^= 1
			return r
		}, AlertBadRecordMAC, false},
		{"plaintext alert", func(*Layer) []byte { return []byte{typeAlert, 3, 3, 0, 2, 2, 40} }, AlertUnexpectedMessage, false},
		{"change_cipher_spec", func(*Layer) []byte { return []byte{typeChangeCipherSpec, 3, 3, 0, 1, 1} }, AlertUnexpectedMessage, false},
		{"version", func(c *Layer) []byte {
			r := c.AppendData(nil, []byte("hello"), nil)
			r[2] = 1
			return r
		}, AlertProtocolVersion, false},
		{"overflow", func(*Layer) []byte { return []byte{typeApplicationData, 3, 3, 0x48, 0x01} }, AlertRecordOverflow, false},
		{"short", func(*Layer) []byte { return []byte{typeApplicationData, 3, 3, 0, 3, 1, 2, 3} }, AlertBadRecordMAC, false},
		{"only padding", seal(0), AlertUnexpectedMessage, false},
		{"unknown inner type", seal(99, 'x'), AlertUnexpectedMessage, false},
		{"close_notify", seal(typeAlert, alertLevelWarning, AlertCloseNotify), 0, true},
		{"long alert", seal(typeAlert, 2, 40, 0), AlertDecodeError, false},
		{"new session ticket from a client", seal(typeHandshake, 4, 0, 0, 1, 0), AlertUnexpectedMessage, false},
		{"split handshake message", seal(typeHandshake, handshakeKeyUpdate, 0), AlertUnexpectedMessage, false},
		{"key update of two bytes", seal(typeHandshake, handshakeKeyUpdate, 0, 0, 2, 0, 0), AlertDecodeError, false},
		{"data after a key update", seal(typeHandshake, handshakeKeyUpdate, 0, 0, 1, 0, handshakeKeyUpdate, 0, 0, 1, 0), AlertUnexpectedMessage, false},
		{"key update request 2", seal(typeHandshake, handshakeKeyUpdate, 0, 0, 1, 2), AlertIllegalParameter, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := peers(t, tls.TLS_AES_128_GCM_SHA256)
			rec := tc.rec(client)
			n, err := RecordLen(rec)
			if err == nil {
				if n != len(rec) {
					t.Fatalf("RecordLen %d of a %d-byte record", n, len(rec))
				}
				_, err = server.Open(rec)
			}
			if tc.eof {
				if err != io.EOF {
					t.Fatalf("got %v, want io.EOF", err)
				}
				return
			}
			var ae *AlertError
			if !errors.As(err, &ae) || ae.Remote || ae.Alert != tc.alert {
				t.Fatalf("got %v, want a local %s alert", err, alertName(tc.alert))
			}
		})
	}
	t.Run("fatal alert from the peer", func(t *testing.T) {
		server, client := peers(t, tls.TLS_AES_128_GCM_SHA256)
		_, err := server.Open(client.AppendAlert(nil, AlertIllegalParameter))
		var ae *AlertError
		if !errors.As(err, &ae) || !ae.Remote || ae.Alert != AlertIllegalParameter {
			t.Fatalf("got %v, want the peer's illegal_parameter", err)
		}
	})
	t.Run("too many records without data", func(t *testing.T) {
		server, client := peers(t, tls.TLS_AES_128_GCM_SHA256)
		var err error
		for i := 0; i <= maxUseless && err == nil; i++ {
			_, err = server.Open(client.out.seal(client.suite, nil, typeApplicationData, nil, nil))
		}
		var ae *AlertError
		if !errors.As(err, &ae) || ae.Alert != AlertUnexpectedMessage {
			t.Fatalf("after %d empty records: %v, want unexpected_message", maxUseless+1, err)
		}
		// Data in between resets the count.
		server, client = peers(t, tls.TLS_AES_128_GCM_SHA256)
		for i := 0; i < 3*maxUseless; i++ {
			body := []byte(nil)
			if i%maxUseless == 0 {
				body = []byte("x")
			}
			if _, err := server.Open(client.out.seal(client.suite, nil, typeApplicationData, body, nil)); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
	})
	t.Run("replayed record", func(t *testing.T) {
		server, client := peers(t, tls.TLS_AES_128_GCM_SHA256)
		rec := client.AppendData(nil, []byte("once"), nil)
		again := bytes.Clone(rec)
		if _, err := server.Open(rec); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Open(again); err == nil {
			t.Fatal("a replayed record opened")
		}
	})
}

// TestCountSentRefuses: records under the traffic keys that are not the
// last ones mean the write sequence number is unknown.
func TestCountSentRefuses(t *testing.T) {
	server, client := peers(t, tls.TLS_AES_128_GCM_SHA256)
	_ = client
	ticket := server.out.seal(server.suite, nil, typeHandshake, []byte{4, 0, 0, 0}, nil)
	other, _ := peers(t, tls.TLS_AES_128_GCM_SHA256)
	handshakeKeys := other.out.seal(other.suite, nil, typeHandshake, []byte{20, 0, 0, 0}, nil)
	server.out.seq = 0
	if err := server.CountSent(append(bytes.Clone(ticket), handshakeKeys...)); err != ErrSentRecords {
		t.Fatalf("ticket then foreign record: %v, want ErrSentRecords", err)
	}
	if err := server.CountSent(ticket[:len(ticket)-1]); err != ErrSentRecords {
		t.Fatalf("cut record: %v, want ErrSentRecords", err)
	}
	if err := server.CountSent(append(bytes.Clone(handshakeKeys), ticket...)); err != nil || server.out.seq != 1 {
		t.Fatalf("handshake record then ticket: %v, seq %d, want nil, 1", err, server.out.seq)
	}
}

// TestSecrets: the key log lines crypto/tls writes fill Secrets; others
// and malformed ones are ignored.
func TestSecrets(t *testing.T) {
	var s Secrets
	lines := []string{
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 0102",
		"CLIENT_TRAFFIC_SECRET_0 abcd 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"SERVER_TRAFFIC_SECRET_0 abcd zz\n",
	}
	for _, l := range lines {
		if n, err := s.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", l, n, err)
		}
	}
	if s.clientLen != 32 || s.client[31] != 0x1f || s.serverLen != 0 {
		t.Fatalf("client %d bytes, server %d bytes", s.clientLen, s.serverLen)
	}
	if _, err := NewServer(tls.TLS_AES_128_GCM_SHA256, &s); err != ErrUnsupported {
		t.Fatalf("NewServer without the server secret: %v, want ErrUnsupported", err)
	}
}

// TestConnDeadline: a read deadline ends a Read, not the connection
// (net/http stops its background read that way and goes on).
func TestConnDeadline(t *testing.T) {
	p := dialPair(t, nil, nil)
	p.server.SetReadDeadline(time.Now().Add(-time.Second))
	_, err := p.server.Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past its deadline: %v, want a timeout", err)
	}
	p.server.SetReadDeadline(time.Time{})
	echo(t, p, []byte("still here"))
}
