package jwtauth

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Why a token was refused. Verify and Authorize wrap one of these with %w and
// the detail (which claim, which kid, what the clock said); match them with
// errors.Is. The detail is for logs: it never reaches the client.
var (
	ErrNoToken           = errors.New("jwtauth: no token")
	ErrMalformed         = errors.New("jwtauth: token is malformed")
	ErrAlgorithm         = errors.New("jwtauth: token algorithm not accepted")
	ErrUnknownKey        = errors.New("jwtauth: no key for the token's kid")
	ErrSignature         = errors.New("jwtauth: token signature is invalid")
	ErrExpired           = errors.New("jwtauth: token is expired")
	ErrNotYetValid       = errors.New("jwtauth: token is not valid yet")
	ErrIssuer            = errors.New("jwtauth: token issuer not accepted")
	ErrAudience          = errors.New("jwtauth: token audience not accepted")
	ErrMissingClaim      = errors.New("jwtauth: token lacks a required claim")
	ErrInsufficientScope = errors.New("jwtauth: token lacks a required scope")
	// ErrKeysUnavailable means the token could not be checked at all: the
	// JWKS has never been fetched successfully. It is the gateway's fault,
	// not the client's, so Authorize answers it with 503, not 401.
	ErrKeysUnavailable = errors.New("jwtauth: signing keys unavailable (JWKS not fetched yet)")
	// ErrInvalidConfig is matched by every error New returns.
	ErrInvalidConfig = errors.New("jwtauth: invalid configuration")
	// ErrClosed is returned by Refresh after Close.
	ErrClosed = errors.New("jwtauth: verifier is closed")
)

// Error is a refusal with its HTTP answer, as Authorize returns it. A
// WebSocket upgrade is refused with the same status and headers.
//
// Public (and the status) is all a client may see; Reason says why, for the
// gateway's log only, because telling a client which check failed helps an
// attacker more than it helps the client.
type Error struct {
	// Status is 401 (no token, or a bad one), 403 (valid token, missing
	// scope) or 503 (the keys to check the token could not be fetched).
	Status int
	// WWWAuthenticate is the value of the WWW-Authenticate header to send
	// (RFC 6750 section 3); empty for 503.
	WWWAuthenticate string
	// RetryAfter, when not zero, is the Retry-After to send with a 503.
	RetryAfter time.Duration
	// Public is the body a client may see: the status text.
	Public string
	// Reason is the detail, for logs only.
	Reason string
	// Err is the cause: one of the Err* sentinels, wrapped.
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Public, e.Reason) }

func (e *Error) Unwrap() error { return e.Err }

func newError(status int, challenge string, err error) *Error {
	return &Error{
		Status:          status,
		WWWAuthenticate: challenge,
		Public:          http.StatusText(status),
		Reason:          err.Error(),
		Err:             err,
	}
}

// configError says which setting is wrong and what to do about it.
func configError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}
