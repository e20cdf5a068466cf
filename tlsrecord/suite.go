package tlsrecord

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// suite is a TLS 1.3 cipher suite: its AEAD and the hash of its key
// schedule (RFC 8446 B.4).
type suite struct {
	id      uint16
	keyLen  int
	hashLen int
	hash    func() hash.Hash
	aead    func(key []byte) (cipher.AEAD, error)
}

var suites = [...]suite{
	{tls.TLS_AES_128_GCM_SHA256, 16, sha256.Size, sha256.New, newGCM},
	{tls.TLS_AES_256_GCM_SHA384, 32, sha512.Size384, sha512.New384, newGCM},
	{tls.TLS_CHACHA20_POLY1305_SHA256, chacha20poly1305.KeySize, sha256.Size, sha256.New, chacha20poly1305.New},
}

func suiteByID(id uint16) *suite {
	for i := range suites {
		if suites[i].id == id {
			return &suites[i]
		}
	}
	return nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 7.1) with an empty context.
func (s *suite) expandLabel(secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 4+len("tls13 ")+len(label))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len("tls13 ")+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0) // context: empty
	out, err := hkdf.Expand(s.hash, secret, string(info), n)
	if err != nil {
		panic("tlsrecord: " + err.Error()) // only for n > 255 hash lengths
	}
	return out
}

const (
	ivLen        = 12
	maxSecretLen = sha512.Size384
)

// direction is one direction's traffic secret, keys and sequence number.
type direction struct {
	secret    [maxSecretLen]byte // kept for KeyUpdate
	secretLen uint8
	key       [32]byte
	iv        [ivLen]byte
	seq       uint64
	aead      cipher.AEAD // built from key when records move; nil while idle
	scratch   [ivLen]byte // the nonce of the record being sealed or opened
}

// set installs a traffic secret: keys from it, sequence number 0
// (RFC 8446 7.3).
func (d *direction) set(s *suite, secret []byte) {
	d.secretLen = uint8(copy(d.secret[:], secret))
	copy(d.key[:], s.expandLabel(secret, "key", s.keyLen))
	copy(d.iv[:], s.expandLabel(secret, "iv", ivLen))
	d.seq = 0
	d.aead = nil
}

// update moves to the next traffic secret (RFC 8446 7.2).
func (d *direction) update(s *suite) {
	d.set(s, s.expandLabel(d.secret[:d.secretLen], "traffic upd", s.hashLen))
}

func (d *direction) cipher(s *suite) cipher.AEAD {
	if d.aead == nil {
		a, err := s.aead(d.key[:s.keyLen])
		if err != nil {
			panic("tlsrecord: " + err.Error()) // key lengths are the suite's own
		}
		d.aead = a
	}
	return d.aead
}

// nonce is the per-record nonce: the IV with the sequence number XORed
// into its last 8 bytes (RFC 8446 5.3). It is built in d itself: a nonce
// on the stack would escape through the AEAD interface, an allocation per
// record.
func (d *direction) nonce() []byte {
	d.scratch = d.iv
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], d.seq)
	for i, b := range seq {
		d.scratch[ivLen-8+i] ^= b
	}
	return d.scratch[:]
}
