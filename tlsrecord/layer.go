package tlsrecord

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"sync/atomic"
)

// Record sizes (RFC 8446 5.1, 5.2).
const (
	HeaderLen = 5
	// MaxPlaintext is the most application data one record carries.
	MaxPlaintext = 1 << 14
	// MaxRecord is the largest record a peer may send, header included.
	MaxRecord = HeaderLen + MaxPlaintext + 256
	// RecordOverhead is what sealing adds to each record's data: the
	// header, the inner content type and the AEAD tag.
	RecordOverhead = HeaderLen + 1 + tagLen

	tagLen = 16
)

// Content types (RFC 8446 5.1).
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23

	handshakeKeyUpdate = 24

	// maxUseless is how many records in a row may carry no application
	// data (empty records, key updates, user_canceled), as crypto/tls.
	maxUseless = 16
)

// rekeyAfter is how many records a direction seals before it moves to
// new keys by itself: well inside AES-GCM's limit of 2^24.5 full records
// per key (RFC 8446 5.5).
const rekeyAfter = 1 << 23

// keyUpdateRecordLen is the size of a sealed KeyUpdate record.
const keyUpdateRecordLen = RecordOverhead + 5

// Layer is the record layer of one established TLS 1.3 connection, server
// side: the traffic keys of both directions and their sequence numbers.
type Layer struct {
	suite   *suite
	in, out direction
	useless int // records in a row that carried no application data
	// rekeyAt is the write sequence number at which the write side moves
	// to new keys by itself: rekeyAfter, lower in tests.
	rekeyAt uint64
	// updateOut: send a KeyUpdate before the next record (the peer asked,
	// or the keys sealed enough records). askPeer: ask the peer to update
	// too.
	updateOut, askPeer atomic.Bool
}

// NewServer returns the record layer of a server connection whose
// handshake negotiated cipherSuite and reported s's secrets. The write
// sequence number starts at 0: call CountSent if the handshake may have
// written records under the traffic keys.
func NewServer(cipherSuite uint16, s *Secrets) (*Layer, error) {
	su := suiteByID(cipherSuite)
	if su == nil || s.clientLen != su.hashLen || s.serverLen != su.hashLen {
		return nil, ErrUnsupported
	}
	l := &Layer{suite: su, rekeyAt: rekeyAfter}
	l.in.set(su, s.client[:s.clientLen])
	l.out.set(su, s.server[:s.serverLen])
	return l, nil
}

// Idle drops the AEAD states; the keys stay, and the next record builds
// them again. For connections that may stay quiet for long.
func (l *Layer) Idle() {
	l.in.aead = nil
	l.out.aead = nil
}

// RecordLen says how many bytes the record at the front of buf takes,
// header included, once its header is there (0 before). A header no TLS
// 1.3 peer would send after the handshake is an error.
func RecordLen(buf []byte) (int, error) {
	if len(buf) < HeaderLen {
		return 0, nil
	}
	switch {
	case buf[0] != typeApplicationData:
		// change_cipher_spec is allowed only before the client's Finished,
		// and everything else is encrypted as application data.
		return 0, protocolError(AlertUnexpectedMessage, "unprotected record of type "+strconv.Itoa(int(buf[0]))+" after the handshake")
	case buf[1] != 3 || buf[2] != 3:
		return 0, protocolError(AlertProtocolVersion, "record version is not TLS 1.2's")
	}
	n := int(binary.BigEndian.Uint16(buf[3:5]))
	if HeaderLen+n > MaxRecord {
		return 0, protocolError(AlertRecordOverflow, "record of "+strconv.Itoa(n)+" bytes")
	}
	return HeaderLen + n, nil
}

// Open authenticates and decrypts one whole record (header included, as
// RecordLen measured it) in place, and returns the application data it
// carries: a slice of rec, possibly empty. Alerts and KeyUpdate messages
// are handled here; the peer's close_notify gives io.EOF, anything else
// that ends the connection an *AlertError.
func (l *Layer) Open(rec []byte) ([]byte, error) {
	n, err := RecordLen(rec)
	if err != nil {
		return nil, err
	}
	if n != len(rec) || n == 0 {
		return nil, protocolError(AlertInternalError, "Open needs one whole record")
	}
	inner, typ, err := l.in.open(l.suite, rec)
	if err != nil {
		return nil, err
	}
	if typ == typeApplicationData && len(inner) > 0 {
		l.useless = 0
		return inner, nil
	}
	if l.useless++; l.useless > maxUseless {
		return nil, protocolError(AlertUnexpectedMessage, "too many records without data")
	}
	switch typ {
	case typeApplicationData:
		return nil, nil
	case typeAlert:
		return nil, l.alert(inner)
	case typeHandshake:
		return nil, l.handshake(inner)
	}
	return nil, protocolError(AlertUnexpectedMessage, "record of inner type "+strconv.Itoa(int(typ)))
}

// open decrypts rec with d's keys and strips the inner content type and
// padding (RFC 8446 5.4).
func (d *direction) open(s *suite, rec []byte) (inner []byte, typ byte, err error) {
	body := rec[HeaderLen:]
	if len(body) < tagLen+1 {
		return nil, 0, protocolError(AlertBadRecordMAC, "record too short")
	}
	pt, err := d.cipher(s).Open(body[:0], d.nonce(), body, rec[:HeaderLen])
	if err != nil {
		return nil, 0, protocolError(AlertBadRecordMAC, "record does not authenticate")
	}
	d.seq++
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	switch {
	case i < 0:
		return nil, 0, protocolError(AlertUnexpectedMessage, "record with no content type")
	case i > MaxPlaintext:
		return nil, 0, protocolError(AlertRecordOverflow, "record plaintext over 16 KiB")
	}
	return pt[:i], pt[i], nil
}

func (l *Layer) alert(b []byte) error {
	if len(b) != 2 {
		return protocolError(AlertDecodeError, "alert of "+strconv.Itoa(len(b))+" bytes")
	}
	switch b[1] {
	case AlertCloseNotify:
		return io.EOF
	case AlertUserCanceled:
		return nil // a close_notify follows (RFC 8446 6.1)
	}
	return &AlertError{Alert: b[1], Remote: true}
}

// handshake handles post-handshake messages. A server accepts only
// KeyUpdate, whole within the record, and last in it: a key change must
// fall on a record boundary (RFC 8446 5.1).
func (l *Layer) handshake(b []byte) error {
	if len(b) < 4 {
		return protocolError(AlertUnexpectedMessage, "handshake message split across records")
	}
	typ, n := b[0], int(b[1])<<16|int(b[2])<<8|int(b[3])
	switch {
	case typ != handshakeKeyUpdate:
		return protocolError(AlertUnexpectedMessage, "handshake message of type "+strconv.Itoa(int(typ))+" after the handshake")
	case n != 1 || len(b) < 5:
		return protocolError(AlertDecodeError, "KeyUpdate of "+strconv.Itoa(n)+" bytes")
	case len(b) > 5:
		return protocolError(AlertUnexpectedMessage, "data after a KeyUpdate in its record")
	case b[4] > 1:
		return protocolError(AlertIllegalParameter, "KeyUpdate request_update "+strconv.Itoa(int(b[4])))
	}
	l.in.update(l.suite)
	if b[4] == 1 {
		// Answer before our next record (RFC 8446 4.6.3).
		l.updateOut.Store(true)
	}
	return nil
}

// SealedLen is the most bytes AppendData adds for n bytes of data.
func SealedLen(n int) int {
	records := max((n+MaxPlaintext-1)/MaxPlaintext, 1)
	return n + records*RecordOverhead + keyUpdateRecordLen
}

// AppendData appends a then b to dst as application data records of up to
// MaxPlaintext bytes each, preceded by a KeyUpdate when one is due, and
// returns the extended buffer. Nothing is appended when both are empty.
func (l *Layer) AppendData(dst, a, b []byte) []byte {
	if len(a)+len(b) == 0 {
		return dst
	}
	dst = slices.Grow(dst, SealedLen(len(a)+len(b)))
	for len(a)+len(b) > 0 {
		dst = l.keyUpdateIfDue(dst)
		n := min(len(a)+len(b), MaxPlaintext)
		ka := min(len(a), n)
		dst = l.out.seal(l.suite, dst, typeApplicationData, a[:ka], b[:n-ka])
		a, b = a[ka:], b[n-ka:]
	}
	return dst
}

// AppendAlert appends a fatal alert record (close_notify is a warning) to
// dst.
func (l *Layer) AppendAlert(dst []byte, alert uint8) []byte {
	level := alertLevelFatal
	if alert == AlertCloseNotify || alert == AlertUserCanceled {
		level = alertLevelWarning
	}
	dst = slices.Grow(dst, RecordOverhead+2+keyUpdateRecordLen)
	dst = l.keyUpdateIfDue(dst)
	return l.out.seal(l.suite, dst, typeAlert, []byte{level, alert}, nil)
}

// keyUpdateIfDue appends a KeyUpdate and moves the write side to new keys
// when the peer asked for it or the keys sealed enough records.
func (l *Layer) keyUpdateIfDue(dst []byte) []byte {
	if !l.updateOut.Load() && l.out.seq < l.rekeyAt {
		return dst
	}
	l.updateOut.Store(false)
	var ask byte
	if l.askPeer.Swap(false) {
		ask = 1
	}
	dst = l.out.seal(l.suite, dst, typeHandshake, []byte{handshakeKeyUpdate, 0, 0, 1, ask}, nil)
	l.out.update(l.suite)
	return dst
}

// seal appends one record holding a then b (together at most
// MaxPlaintext bytes) of content type typ, encrypted in place.
func (d *direction) seal(s *suite, dst []byte, typ byte, a, b []byte) []byte {
	start := len(dst)
	n := len(a) + len(b) + 1 + tagLen
	dst = slices.Grow(dst, HeaderLen+n)
	dst = append(dst, typeApplicationData, 3, 3, byte(n>>8), byte(n))
	dst = append(dst, a...)
	dst = append(dst, b...)
	dst = append(dst, typ)
	body := dst[start+HeaderLen:]
	d.cipher(s).Seal(body[:0], d.nonce(), body, dst[start:start+HeaderLen])
	d.seq++
	return dst[:start+HeaderLen+n]
}

// CountSent sets the write sequence number from the records the handshake
// wrote (every byte the server sent, in order): crypto/tls may already
// have sent records under the traffic keys (a session ticket). Those are
// the ones that the server's traffic keys authenticate; they must come
// last and in sequence.
func (l *Layer) CountSent(flight []byte) error {
	var encrypted [][]byte
	for len(flight) >= HeaderLen {
		n := HeaderLen + int(binary.BigEndian.Uint16(flight[3:5]))
		if n > len(flight) {
			return ErrSentRecords
		}
		if flight[0] == typeApplicationData {
			encrypted = append(encrypted, flight[:n])
		}
		flight = flight[n:]
	}
	if len(flight) > 0 {
		return ErrSentRecords
	}
	trial := l.out
	trial.seq = 0
	found := 0
	var scratch []byte
	for _, rec := range encrypted {
		scratch = append(scratch[:0], rec...)
		_, _, err := trial.open(l.suite, scratch)
		switch {
		case err == nil:
			found++
		case found > 0:
			return ErrSentRecords
		}
	}
	l.out.seq = uint64(found)
	l.out.aead = trial.aead
	return nil
}

// Secrets collects a connection's TLS 1.3 application traffic secrets
// from crypto/tls: set it as the connection's Config.KeyLogWriter (in
// GetConfigForClient). Other lines are ignored. Not safe for concurrent
// use; crypto/tls writes the log lines of one handshake in turn.
type Secrets struct {
	client, server       [maxSecretLen]byte
	clientLen, serverLen int
}

// Write takes one key log line: "LABEL <client random> <secret>", hex.
func (s *Secrets) Write(line []byte) (int, error) {
	label, rest, _ := bytes.Cut(line, []byte(" "))
	_, secret, _ := bytes.Cut(rest, []byte(" "))
	secret = bytes.TrimRight(secret, "\r\n")
	var dst []byte
	var n *int
	switch string(label) {
	case "CLIENT_TRAFFIC_SECRET_0":
		dst, n = s.client[:], &s.clientLen
	case "SERVER_TRAFFIC_SECRET_0":
		dst, n = s.server[:], &s.serverLen
	default:
		return len(line), nil
	}
	if len(secret) > 2*len(dst) || len(secret)%2 != 0 {
		return len(line), nil
	}
	k, err := hex.Decode(dst, secret)
	if err != nil {
		return len(line), nil
	}
	*n = k
	return len(line), nil
}
