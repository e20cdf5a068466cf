package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/protocol"
	"github.com/gatecast/gatecast/routes"
)

// streamWriter writes the chunks of one streamed answer to the client.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	sse     bool
	timeout time.Duration // bounds each write to a slow client
	written int64
	buf     []byte
}

// chunk writes one chunk: as it is, or as one Server-Sent Event.
// An empty message (a start or end without bytes) writes nothing: as an
// SSE event it would reach the client as an empty message.
func (s *streamWriter) chunk(m *nats.Msg) error {
	data := m.Data
	if s.sse {
		event, id := m.Header.Get(protocol.HeaderSSEEvent), m.Header.Get(protocol.HeaderSSEID)
		if len(data) == 0 && event == "" && id == "" {
			return nil
		}
		s.buf = appendEvent(s.buf[:0], event, id, data)
		data = s.buf
	}
	if len(data) == 0 {
		return nil
	}
	n, err := s.w.Write(data)
	s.written += int64(n)
	return err
}

// deadline bounds the writes of one batch of messages to a slow client.
func (s *streamWriter) deadline() { s.rc.SetWriteDeadline(time.Now().Add(s.timeout)) }

func (s *streamWriter) flush() error { return s.rc.Flush() }

// appendEvent frames data as one Server-Sent Event: every line of it a
// "data:" field (CR, LF and CRLF all end lines, as the SSE parser reads
// them), so no byte of a chunk can start a field of its own.
func appendEvent(b []byte, event, id string, data []byte) []byte {
	if event != "" {
		b = append(append(append(b, "event: "...), oneLine(event)...), '\n')
	}
	if id != "" {
		b = append(append(append(b, "id: "...), oneLine(id)...), '\n')
	}
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			b = append(append(append(b, "data: "...), data...), '\n')
			break
		}
		b = append(append(append(b, "data: "...), data[:i]...), '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(b, '\n')
}

func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// ackDelay bounds how long written stream bytes go unacknowledged when
// they are fewer than a quarter of the window.
const ackDelay = 50 * time.Millisecond

// errStreamEnded is the sentinel of a backend's error marker.
var errStreamEnded = errors.New("backend ended the stream with an error")

// stream writes a streamed answer as its chunks arrive: msgs[0] is the
// start. It returns when the stream ends, the client leaves, or the stream
// is cut; a cut stream ends without its last chunk, so the client sees it
// was cut.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, x *exchange, route *routes.HTTPRoute, c *call, status int, msgs []*nats.Msg) {
	start := msgs[0]
	control := start.Reply
	hd := w.Header()
	if err := copyHeaders(hd, start.Header); err != nil {
		h.cancel(control, "malformed stream start")
		h.badAnswer(w, x, route, err)
		return
	}
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: route.Timeout}
	sw.sse = route.SSE() || strings.HasPrefix(hd.Get("Content-Type"), "text/event-stream")
	if sw.sse {
		hd.Set("Content-Type", "text/event-stream")
		hd.Set("Cache-Control", "no-cache")
		hd.Set("X-Accel-Buffering", "no")
	}
	hd.Del("Content-Length")
	x.status = status
	w.WriteHeader(status)
	h.stats.streams.Add(1)
	h.stats.streamsOpen.Add(1)
	defer h.stats.streamsOpen.Add(-1)
	defer func() { x.written = sw.written }()

	idle := time.NewTimer(route.Timeout)
	defer idle.Stop()
	whole := time.NewTimer(route.MaxStreamDuration)
	defer whole.Stop()
	var keepAlive <-chan time.Time
	if sw.sse {
		t := time.NewTicker(h.cfg.KeepAlive)
		defer t.Stop()
		keepAlive = t.C
	}
	ackOnWrite := route.StreamOverflow != "cut" && control != ""
	var ackDue <-chan time.Time // armed while written messages wait for their ack
	unacked := 0                // bytes written since the last ack
	want := 0                   // the next sequence number
	ack := func() {
		h.sendControl(control, nats.Header{protocol.HeaderStreamAck: {strconv.Itoa(want - 1)}})
		unacked, ackDue = 0, nil
	}
	for {
		sw.deadline()
		before := sw.written
		done, err := h.writeStream(sw, msgs, &want)
		if err == nil {
			err = sw.flush()
			if err != nil {
				err = errClient{err}
			}
		}
		if ackOnWrite && len(msgs) > 0 {
			// One ack per quarter window, or after ackDelay for the rest:
			// a backend far from the window never waits, and one near
			// it hears soon enough.
			unacked += int(sw.written-before) + len(msgs)
			if unacked >= route.StreamBuffer/4 {
				ack()
			} else if ackDue == nil {
				ackDue = time.After(ackDelay)
			}
		}
		switch {
		case err != nil:
			h.cut(x, route, control, err)
			return
		case done:
			h.stats.streamsEnded.Add(1)
			return
		}
		msgs = msgs[:0]
		select {
		case <-c.notify:
			var overflow bool
			msgs, overflow = c.take(msgs)
			if overflow {
				h.cut(x, route, control, errors.New("stream_buffer full: the client reads slower than the backend writes"))
				return
			}
			idle.Reset(route.Timeout)
		case <-idle.C:
			h.cut(x, route, control, errors.New("no chunk from the backend within the route timeout"))
			return
		case <-whole.C:
			h.cut(x, route, control, errors.New("stream longer than max_stream_duration"))
			return
		case <-ackDue:
			ack()
		case <-keepAlive:
			sw.deadline()
			_, err := w.Write([]byte(": keep-alive\n\n"))
			if err == nil {
				err = sw.flush()
			}
			if err != nil {
				h.cut(x, route, control, errClient{err})
				return
			}
		case <-r.Context().Done():
			h.stats.clientGone.Add(1)
			h.cancel(control, "client closed the connection")
			x.errMsg = "client closed the connection mid-stream"
			return
		}
	}
}

// errClient marks a failure to write to the client.
type errClient struct{ error }

// writeStream writes the messages of a stream in order; done means the
// end (or error) marker came.
func (h *Handler) writeStream(sw *streamWriter, msgs []*nats.Msg, want *int) (done bool, err error) {
	for _, m := range msgs {
		kind := m.Header.Get(protocol.HeaderStream)
		if seq := m.Header.Get(protocol.HeaderStreamSeq); seq != "" {
			n, err := strconv.Atoi(seq)
			if err != nil || n != *want {
				return false, errors.New("stream message " + strconv.Quote(seq) + " out of order: want " + strconv.Itoa(*want))
			}
		}
		*want++
		switch kind {
		case protocol.StreamStart:
			if *want != 1 {
				return false, errors.New("a second stream start")
			}
		case protocol.StreamChunk, protocol.StreamEnd:
		case protocol.StreamError:
			return true, errStreamEnded
		default:
			return false, errors.New("not a stream message: " + protocol.HeaderStream + " " + strconv.Quote(kind))
		}
		if err := sw.chunk(m); err != nil {
			return false, errClient{err}
		}
		h.stats.chunks.Add(1)
		if kind == protocol.StreamEnd {
			return true, nil
		}
	}
	return false, nil
}

// cut ends a stream that cannot go on: the backend hears why, the client's
// response ends without its terminating chunk.
func (h *Handler) cut(x *exchange, route *routes.HTTPRoute, control string, why error) {
	x.errMsg = "stream cut: " + why.Error()
	if errors.Is(why, errStreamEnded) {
		h.stats.streamErrors.Add(1)
	} else {
		h.stats.streamsCut.Add(1)
		h.cancel(control, why.Error())
	}
	h.log.Warn("HTTP stream cut", "route", route.Key, "request_id", x.requestID, "reason", why)
	// The only way to end a chunked response as broken rather than
	// complete: net/http closes the connection without the last chunk.
	panic(http.ErrAbortHandler)
}

// cancel tells a stream's backend to stop.
func (h *Handler) cancel(control, why string) {
	if control == "" {
		return
	}
	h.sendControl(control, nats.Header{protocol.HeaderStream: {protocol.StreamCancel}, protocol.HeaderError: {why}})
}
