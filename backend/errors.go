package backend

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ErrUnknownConnection is a command's answer when the gateway node never
// issued the connection id: a typo or an id from another deployment.
var ErrUnknownConnection = errors.New("backend: unknown connection; the gateway never issued this id")

// ErrGone is a command's answer when the connection has ended, or when its
// gateway node no longer answers (it stopped, taking its connections with
// it). Forget the connection id.
var ErrGone = errors.New("backend: connection gone; the client disconnected or its gateway node stopped")

// ErrClosed is returned by the Handle methods after Drain.
var ErrClosed = errors.New("backend: client drained; create a new Client to handle events again")

// ErrBadTopic is returned for a topic name the protocol does not allow.
var ErrBadTopic = errors.New("backend: invalid topic; use 1-128 letters, digits, '_', '-', ':', with '.' only between parts (room.42)")

// Refusal is a $connect handler's verdict against a client: the gateway
// answers the upgrade request with Status and Reason as the response text.
// Return it, or an error wrapping it, from a ConnectFunc.
type Refusal struct {
	// Status is the HTTP status of the refusal, 400 to 599. Zero means 403.
	Status int
	// Reason is shown to the client; keep secrets out of it.
	Reason string
}

func (r *Refusal) Error() string {
	return "backend: connection refused: " + strconv.Itoa(r.status()) + " " + r.reason()
}

func (r *Refusal) status() int {
	if r.Status == 0 {
		return http.StatusForbidden
	}
	return r.Status
}

func (r *Refusal) reason() string {
	if r.Reason == "" {
		return http.StatusText(r.status())
	}
	return r.Reason
}

// CommandError is a command the gateway did not carry out. errors.Is
// matches it against ErrUnknownConnection (status 404) and ErrGone (status
// 410, or no gateway node answered).
type CommandError struct {
	// Command is the command: "send", "close", "info", "join" or "leave".
	Command string
	// ConnectionID is the connection the command was for.
	ConnectionID string
	// Status is the gateway's Gatecast-Status; 0 when no gateway node
	// answered (NATS reported no responders).
	Status int
	// Reason is the gateway's Gatecast-Error, if it gave one.
	Reason string
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("backend: %s on %s: ", e.Command, e.ConnectionID)
	switch {
	case e.Status == 0:
		msg += "no gateway node answered; the node holding the connection has stopped"
	case e.Reason != "":
		msg += strconv.Itoa(e.Status) + " " + e.Reason
	default:
		msg += strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	}
	return msg
}

// Unwrap maps the status to this package's sentinel errors.
func (e *CommandError) Unwrap() error {
	switch e.Status {
	case 0, http.StatusGone:
		return ErrGone
	case http.StatusNotFound:
		return ErrUnknownConnection
	}
	return nil
}
