package pathtrie

import (
	"errors"
	"fmt"
)

// Errors New returns, wrapped with the offending route; match them with
// errors.Is.
var (
	// ErrMethod: a method that is not an upper-case HTTP token or ANY.
	ErrMethod = errors.New("pathtrie: invalid method")
	// ErrPath: a template that does not start with '/', has an empty
	// segment, a trailing slash, a "." or ".." segment, or a character that
	// cannot appear in a raw request path.
	ErrPath = errors.New("pathtrie: invalid path")
	// ErrParam: a parameter that is not a whole segment, has an invalid
	// name, or repeats a name used earlier in the same template.
	ErrParam = errors.New("pathtrie: invalid parameter")
	// ErrGreedy: a greedy parameter {name+} that is not the last segment.
	ErrGreedy = errors.New("pathtrie: greedy parameter not last")
	// ErrTooManyParams: a template with more than MaxParams parameters.
	ErrTooManyParams = errors.New("pathtrie: too many parameters")
	// ErrConflict: two routes with the same method and the same template
	// shape.
	ErrConflict = errors.New("pathtrie: conflicting routes")
)

// routeError says which route is wrong, why, and what to do about it.
type routeError struct {
	err    error // one of the sentinels above
	index  int
	route  Route
	reason string
}

func (e *routeError) Error() string {
	return fmt.Sprintf("%v: route %d %q %s", e.err, e.index, e.route.String(), e.reason)
}

func (e *routeError) Unwrap() error { return e.err }
