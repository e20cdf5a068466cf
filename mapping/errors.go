package mapping

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

var (
	// ErrConfig is matched (with errors.Is) by every error Compile returns.
	ErrConfig = errors.New("mapping: invalid configuration")
	// ErrBadValue is matched by an Apply error when a mapped value may not
	// be written: a header value with a control character (CR, LF, NUL and
	// the others but tab), a query value with CR, LF or NUL, a path that is
	// not a clean absolute raw path, a status that is not 100 to 599, or a
	// value over MaxValueBytes. From ApplyRequest the client is at fault
	// (400); from ApplyResponse the answer cannot be passed on (502).
	ErrBadValue = errors.New("mapping: bad mapped value")
	// ErrTemplate is matched by an Apply error when a body template fails
	// while it runs (a function error, an index out of range).
	ErrTemplate = errors.New("mapping: template failed")
	// ErrTooLarge is matched, as well as ErrTemplate, when a body template
	// writes more than MaxBodyBytes.
	ErrTooLarge = errors.New("mapping: template output over MaxBodyBytes")
)

// Error is why ApplyRequest or ApplyResponse refused to map a request or a
// response; nothing was changed. It matches ErrBadValue, ErrTemplate or
// ErrTooLarge with errors.Is, and carries the status the gateway answers
// with. Its text never contains the offending value, which may be a
// secret or hold the very line break it is refused for.
type Error struct {
	// Status is the HTTP status to answer with: from ApplyRequest 400 for
	// ErrBadValue and 500 for a failed template; from ApplyResponse 502,
	// since what the gateway would send is broken either way.
	Status int
	// Key is the parameter key ("overwrite:header.X-User") or
	// "request_template" / "response_template".
	Key string
	// Reason says what is wrong.
	Reason string

	kind error // ErrBadValue, ErrTemplate or ErrTooLarge
	err  error // the template's error, if any
}

func (e *Error) Error() string {
	if e.err != nil {
		return fmt.Sprintf("mapping: %s: %s: %v", e.Key, e.Reason, e.err)
	}
	return fmt.Sprintf("mapping: %s: %s", e.Key, e.Reason)
}

// Is matches the error's kind; ErrTooLarge also matches ErrTemplate.
func (e *Error) Is(target error) bool {
	return target == e.kind || (e.kind == ErrTooLarge && target == ErrTemplate)
}

func (e *Error) Unwrap() error { return e.err }

// badValue is the ErrBadValue of one parameter.
func badValue(status int, key, reason string) *Error {
	return &Error{Status: status, Key: key, Reason: reason, kind: ErrBadValue}
}

// templateFailed is the error of a template that failed while running.
func templateFailed(status int, key string, err error) *Error {
	if errors.Is(err, errOutputTooLarge) {
		return &Error{Status: status, Key: key, Reason: "output is over " + strconv.Itoa(MaxBodyBytes) + " bytes", kind: ErrTooLarge}
	}
	return &Error{Status: status, Key: key, Reason: "failed", kind: ErrTemplate, err: err}
}

// Statuses of Apply errors.
const (
	statusRequestBad    = http.StatusBadRequest
	statusRequestFailed = http.StatusInternalServerError
	statusResponse      = http.StatusBadGateway
)

// configError is one problem Compile found: where it is and how to fix it.
type configError struct {
	section string // "request_parameters", "response_template", ...
	key     string // the parameter key; "" for a template
	reason  string
}

func (e *configError) Error() string {
	if e.key == "" {
		return "mapping: " + e.section + ": " + e.reason
	}
	return fmt.Sprintf("mapping: %s[%q]: %s", e.section, e.key, e.reason)
}

func (e *configError) Is(target error) bool { return target == ErrConfig }
