package broker

import "errors"

// ErrBrokerDown is returned when NATS is not connected; the gateway keeps
// reconnecting by itself.
var ErrBrokerDown = errors.New("broker: message broker unreachable (NATS disconnected); retrying")

// ErrClosed is returned by operations on a closed Hub.
var ErrClosed = errors.New("broker: hub closed")
