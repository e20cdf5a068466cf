package tlsrecord

import (
	"errors"
	"strconv"
)

// Alert descriptions (RFC 8446 6) that a Layer sends or recognises.
const (
	AlertCloseNotify       uint8 = 0
	AlertUnexpectedMessage uint8 = 10
	AlertBadRecordMAC      uint8 = 20
	AlertRecordOverflow    uint8 = 22
	AlertIllegalParameter  uint8 = 47
	AlertDecodeError       uint8 = 50
	AlertProtocolVersion   uint8 = 70
	AlertInternalError     uint8 = 80
	AlertUserCanceled      uint8 = 90

	alertLevelWarning uint8 = 1
	alertLevelFatal   uint8 = 2
)

var alertNames = map[uint8]string{
	AlertCloseNotify:       "close_notify",
	AlertUnexpectedMessage: "unexpected_message",
	AlertBadRecordMAC:      "bad_record_mac",
	AlertRecordOverflow:    "record_overflow",
	AlertIllegalParameter:  "illegal_parameter",
	AlertDecodeError:       "decode_error",
	AlertProtocolVersion:   "protocol_version",
	AlertInternalError:     "internal_error",
	AlertUserCanceled:      "user_canceled",
}

func alertName(a uint8) string {
	if s, ok := alertNames[a]; ok {
		return s
	}
	return "alert " + strconv.Itoa(int(a))
}

// AlertError ends a connection. Remote: the peer sent this fatal alert.
// Otherwise what the peer sent broke the protocol, and Alert is what to
// tell it (AppendAlert) before closing.
type AlertError struct {
	Alert  uint8
	Remote bool
	Reason string
}

func (e *AlertError) Error() string {
	if e.Remote {
		return "tlsrecord: the peer sent alert " + alertName(e.Alert)
	}
	return "tlsrecord: " + e.Reason + " (sending " + alertName(e.Alert) + ")"
}

func protocolError(alert uint8, reason string) error {
	return &AlertError{Alert: alert, Reason: reason}
}

// ErrUnsupported says the handshake gave nothing a Layer can carry on:
// not TLS 1.3, an unknown cipher suite, or secrets missing from the key
// log. The connection stays with crypto/tls.
var ErrUnsupported = errors.New("tlsrecord: not a TLS 1.3 connection with known secrets")

// ErrSentRecords says the records the handshake wrote do not match the
// server's traffic keys: the write sequence number cannot be known.
var ErrSentRecords = errors.New("tlsrecord: the handshake's records do not follow the traffic keys")
