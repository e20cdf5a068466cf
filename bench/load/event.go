package load

import (
	"encoding/json"
	"io"
)

// Event is one JSON line a client writes on its standard output.
//
// A client writes an "open" event once every connection is open or has
// failed, and a "result" event when it is done: for idle and fan-out mode
// after its control input closed (or Hold passed), for echo mode after the
// loop. In fan-out mode it writes "progress" events in between, whenever
// what it received has changed (at most every ProgressInterval).
type Event struct {
	Event string `json:"event"` // "open" or "result"
	Mode  Mode   `json:"mode"`
	Conns int    `json:"conns"` // asked for

	Open   int `json:"open"`   // connections that completed the handshake
	Failed int `json:"failed"` // connections that did not
	// Lost counts idle or fan-out connections the server ended during the
	// hold.
	Lost int `json:"lost,omitempty"`
	// FirstError is the first dial, hold or echo error, to say why.
	FirstError string `json:"first_error,omitempty"`

	// Echo results.
	Roundtrips uint64     `json:"roundtrips,omitempty"`
	Errors     int        `json:"errors,omitempty"`  // echo connections that stopped on an error
	Seconds    float64    `json:"seconds,omitempty"` // how long the loop ran
	Latency    *Histogram `json:"latency,omitempty"`

	// Fan-out results (Latency is publish to receive) and progress.
	Received uint64 `json:"received,omitempty"` // stamped messages received, over all connections
	// MinSeq is the lowest last sequence number received over the
	// connections still open: every open member has all messages up to it
	// that it will ever get. With none open, the highest over all.
	MinSeq uint64 `json:"min_seq,omitempty"`
	// Skipped counts sequence numbers a connection never got although it
	// got a later one: messages lost on the way. Messages lost at the end
	// show only against what was published.
	Skipped uint64 `json:"skipped,omitempty"`
	// FirstSkipped is the lowest sequence number skipped on any connection.
	FirstSkipped uint64 `json:"first_skipped,omitempty"`
	Disorder     uint64 `json:"disorder,omitempty"`     // messages at or below a sequence already received
	Unstamped    uint64 `json:"unstamped,omitempty"`    // data messages without a stamp (error frames)
	LastUnixNano int64  `json:"last_unix_ns,omitempty"` // when the last stamped message arrived
}

const (
	eventOpen     = "open"
	eventResult   = "result"
	eventProgress = "progress"
)

func writeEvent(w io.Writer, e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
