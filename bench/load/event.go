package load

import (
	"encoding/json"
	"io"
)

// Event is one JSON line a client writes on its standard output.
//
// A client writes an "open" event once every connection is open or has
// failed, and a "result" event when it is done: for idle mode after its
// control input closed (or Hold passed), for echo mode after the loop.
type Event struct {
	Event string `json:"event"` // "open" or "result"
	Mode  Mode   `json:"mode"`
	Conns int    `json:"conns"` // asked for

	Open   int `json:"open"`   // connections that completed the handshake
	Failed int `json:"failed"` // connections that did not
	// Lost counts idle connections the server ended during the hold.
	Lost int `json:"lost,omitempty"`
	// FirstError is the first dial, hold or echo error, to say why.
	FirstError string `json:"first_error,omitempty"`

	// Echo results.
	Roundtrips uint64     `json:"roundtrips,omitempty"`
	Errors     int        `json:"errors,omitempty"`  // echo connections that stopped on an error
	Seconds    float64    `json:"seconds,omitempty"` // how long the loop ran
	Latency    *Histogram `json:"latency,omitempty"`
}

const (
	eventOpen   = "open"
	eventResult = "result"
)

func writeEvent(w io.Writer, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
