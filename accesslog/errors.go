package accesslog

import "errors"

// Errors returned by New and NewWriter, wrapped with the detail (%w), so
// callers test them with errors.Is.
var (
	// ErrUnknownVariable: the format names a $context variable this package
	// does not know; the message lists the valid ones.
	ErrUnknownVariable = errors.New("accesslog: unknown variable")
	// ErrInvalidFormat: the format cannot produce one well-formed line per
	// entry (a JSON template that is not valid JSON, a text format with a
	// line break in it).
	ErrInvalidFormat = errors.New("accesslog: invalid format")
	// ErrInvalidConfig: a Config field is out of range or the output cannot
	// be opened.
	ErrInvalidConfig = errors.New("accesslog: invalid config")
)
