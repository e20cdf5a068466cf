package waf

import (
	"errors"
	"fmt"
)

// The protocol answers to a finding in ModeBlock. The client is told only
// that it was refused; what matched goes to the log (Finding.String), never
// to the client, which would learn how to get around the rule.
const (
	// StatusBlocked answers an HTTP request or a WebSocket upgrade.
	StatusBlocked = 403
	// CloseBlocked closes a WebSocket connection whose message matched:
	// 1008, policy violation. A client should not reconnect and resend.
	CloseBlocked = 1008
)

// Errors from New, matched with errors.Is. The error New returns names the
// field and the value at fault; one New call reports every fault at once.
var (
	// ErrMode: Config.Mode is not "block", "count", "off" or empty.
	ErrMode = errors.New("waf: mode must be block, count or off")
	// ErrInspectBytes: Config.InspectBytes is negative or over MaxInspectBytes.
	ErrInspectBytes = errors.New("waf: inspect_bytes out of range")
	// ErrHeader: a header name is empty, or names a credential header
	// (Authorization, Proxy-Authorization) for injection inspection.
	ErrHeader = errors.New("waf: header cannot be inspected")
	// ErrCIDR: an entry of Config.BlockCIDRs is neither an address nor a CIDR.
	ErrCIDR = errors.New("waf: not an IP address or CIDR")
	// ErrPattern: a pattern in Config.BlockPaths or Config.BlockHeaders is
	// not a valid Go regular expression (RE2 syntax).
	ErrPattern = errors.New("waf: invalid pattern")
)

// configError wraps a sentinel with the field and value at fault, so that
// the message says what to fix and errors.Is still finds the sentinel.
func configError(sentinel error, field string, value any, detail string) error {
	if detail != "" {
		return fmt.Errorf("waf.%s %q: %w: %s", field, value, sentinel, detail)
	}
	return fmt.Errorf("waf.%s %q: %w", field, value, sentinel)
}
