package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// StreamOpener is the first event of every benchmark stream: the backend
// sends it at once, so that the stream's head reaches the client before
// the first token.
const StreamOpener = "open"

// sseStream is one open Server-Sent Events stream.
type sseStream struct {
	nc   net.Conn
	body *bufio.Reader // the response body, past the opener
	rc   io.Closer
	data []byte // the event being read
}

// sseResult is what one stream received.
type sseResult struct {
	received, skipped, firstSkipped, disorder, unstamped uint64
	last                                                 uint64 // the last sequence number
	lastAt                                               int64  // Unix ns of the last token
	ended                                                bool   // the server ended the stream cleanly
	err                                                  error
	hist                                                 Histogram
}

// runSSE is RunHTTPClient for SSE. It opens cfg.Conns streams (dial, GET,
// a 200 with Content-Type text/event-stream, the opener event), writes the
// open event, and receives on every stream, one goroutine each, until the
// server ends them all. Once control ends (or cfg.Hold passes), it waits
// httpGrace more for the server to end the streams still open, then closes
// them.
//
// The result: Received counts the stamped tokens, Latency their stamp to
// receipt times, Skipped, FirstSkipped and Disorder the gaps and repeats
// in the sequence numbers, Unstamped the other events, Lost the streams
// that did not end cleanly (the server cut them, or they were still open
// at the end), FirstError why the first one did not, and LastUnixNano
// when the last token arrived.
func runSSE(ctx context.Context, cfg ClientConfig, eof <-chan struct{}, events io.Writer) error {
	d, err := cfg.dialer()
	if err != nil {
		return err
	}
	u, _ := url.Parse(cfg.URL) // validated
	req := fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatecast-bench\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n", u.RequestURI(), u.Host)
	holdEnd := time.Now().Add(cfg.Hold)
	streams, err := openEach(ctx, cfg, func(ctx context.Context) (*sseStream, error) {
		return openStream(ctx, d, u.Host, req, holdEnd)
	})
	ev := Event{Event: eventOpen, Mode: cfg.Mode, Conns: cfg.Conns, Open: len(streams), Failed: cfg.Conns - len(streams)}
	if err != nil {
		ev.FirstError = err.Error()
	}
	if err := writeEvent(events, ev); err != nil {
		for _, s := range streams {
			s.nc.Close()
		}
		return err
	}

	// Past the end (control closed plus grace, the hold, or ctx) every
	// stream still open is cut through its deadline.
	var stopping atomic.Bool
	cut := func() {
		stopping.Store(true)
		for _, s := range streams {
			s.nc.SetDeadline(time.Now())
		}
	}
	allDone := make(chan struct{})
	go func() {
		select {
		case <-eof:
			select {
			case <-time.After(httpGrace):
			case <-allDone:
				return
			}
		case <-ctx.Done():
		case <-allDone:
			return
		}
		cut()
	}()

	results := make([]sseResult, len(streams))
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Go(func() {
			r := &results[i]
			r.err = s.receive(r)
			r.ended = r.err == nil
			if r.err != nil && stopping.Load() {
				r.err = fmt.Errorf("load: stream still open at the end (%v after the client was told to stop): %w", httpGrace, r.err)
			}
			s.rc.Close()
			s.nc.Close()
		})
	}
	wg.Wait()
	close(allDone)

	ev.Event = eventResult
	ev.Latency = new(Histogram)
	for i := range results {
		r := &results[i]
		ev.Received += r.received
		ev.Skipped += r.skipped
		if r.firstSkipped > 0 && (ev.FirstSkipped == 0 || r.firstSkipped < ev.FirstSkipped) {
			ev.FirstSkipped = r.firstSkipped
		}
		ev.Disorder += r.disorder
		ev.Unstamped += r.unstamped
		ev.LastUnixNano = max(ev.LastUnixNano, r.lastAt)
		ev.MinSeq = max(ev.MinSeq, r.last)
		ev.Latency.Merge(&r.hist)
		if !r.ended {
			ev.Lost++
			if ev.FirstError == "" {
				ev.FirstError = r.err.Error()
			}
		}
	}
	return writeEvent(events, ev)
}

// openStream dials addr, sends req and reads the answer's head and the
// opener event.
func openStream(ctx context.Context, d *net.Dialer, addr string, req []byte, deadline time.Time) (*sseStream, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	defer stop()
	nc.SetDeadline(deadline)
	s, err := startStream(nc, req)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

func startStream(nc net.Conn, req []byte) (*sseStream, error) {
	if _, err := nc.Write(req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(nc, 4<<10), nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("load: stream answered %s: %q", resp.Status, b)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("load: stream has Content-Type %q, want text/event-stream", resp.Header.Get("Content-Type"))
	}
	s := &sseStream{nc: nc, body: bufio.NewReaderSize(resp.Body, 4<<10), rc: resp.Body}
	data, err := s.next()
	switch {
	case err != nil:
		s.rc.Close()
		return nil, fmt.Errorf("load: waiting for the stream's opener: %w", err)
	case string(data) != StreamOpener:
		s.rc.Close()
		return nil, fmt.Errorf("load: stream's first event is %.100q, want %q", data, StreamOpener)
	}
	return s, nil
}

// next returns the data of the stream's next event, its "data:" lines
// joined by '\n'; comments and other fields are skipped. The slice is
// valid until the next call. At a clean end of the stream it returns
// io.EOF; a stream cut mid-event or mid-chunk gives another error.
func (s *sseStream) next() ([]byte, error) {
	data := s.data[:0]
	defer func() { s.data = data[:0] }()
	seen := false
	for {
		line, err := s.body.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return nil, fmt.Errorf("load: SSE line longer than %d bytes", s.body.Size())
			}
			if err == io.EOF && (seen || len(line) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		switch {
		case len(line) == 0:
			if seen {
				return data, nil
			}
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			if string(field) != "data" {
				continue
			}
			if seen {
				data = append(data, '\n')
			}
			data = append(data, value...) // ReadSlice's buffer is overwritten by the next read
			seen = true
		}
	}
}

// receive reads tokens until the stream ends: nil at a clean end.
func (s *sseStream) receive(r *sseResult) error {
	for {
		data, err := s.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Now()
		seq, sent, ok := ParseStamp(data)
		if !ok {
			r.unstamped++
			continue
		}
		r.hist.Record(now.Sub(time.Unix(0, sent)))
		r.received++
		r.lastAt = now.UnixNano()
		switch {
		case seq <= r.last:
			r.disorder++
			continue
		case seq > r.last+1:
			r.skipped += seq - r.last - 1
			if r.firstSkipped == 0 {
				r.firstSkipped = r.last + 1
			}
		}
		r.last = seq
	}
}
