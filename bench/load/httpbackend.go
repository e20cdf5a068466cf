package load

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gatecast/gatecast/backend"
)

// ItemsHandler is the backend of the HTTP proxy benchmarks: GET
// /items/{id} answers ItemJSON(id), POST /items reads the body and
// answers LengthJSON of its length. It serves the same behind gatecast
// (through the backend SDK) and behind a reverse proxy.
func ItemsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(ItemJSON(r.PathValue("id")))
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(LengthJSON(n))
	})
	return mux
}

// TokenStream is the backend of the streaming benchmarks: an http.Handler
// that answers every request with a stream the way an LLM API streams
// tokens. It sends StreamOpener at once, waits for Begin, then sends a
// stamped token (see Stamp; sequence numbers from 1) Rate times a second,
// each written and flushed on its own, until Stop or the request's end.
// Each stream starts at a random phase within its first interval, so that
// the streams do not all write at the same instant.
//
// Create it with NewTokenStream. It is safe for concurrent use.
type TokenStream struct {
	rate  int
	frame bool
	bound time.Duration

	begin, stop         chan struct{}
	beginOnce, stopOnce sync.Once
	wg                  sync.WaitGroup

	streams atomic.Int64  // streams served
	open    atomic.Int64  // streams past their opener and not yet ended
	written atomic.Uint64 // tokens written and flushed
	cut     atomic.Int64  // streams whose request ended before Stop
}

// NewTokenStream returns a TokenStream sending rate tokens a second per
// stream. With frame, it writes each token as a Server-Sent Event
// ("data: ...\n\n") itself, as a backend behind a plain reverse proxy
// must; without, it writes the bare token and leaves the framing to the
// gateway (gatecast's sse routes frame each flushed chunk). No stream runs
// longer than bound.
func NewTokenStream(rate int, frame bool, bound time.Duration) *TokenStream {
	return &TokenStream{rate: rate, frame: frame, bound: bound, begin: make(chan struct{}), stop: make(chan struct{})}
}

// Begin starts the tokens of every stream, open or to come.
func (s *TokenStream) Begin() { s.beginOnce.Do(func() { close(s.begin) }) }

// Stop ends every stream after its current token. It does not wait; see
// Wait.
func (s *TokenStream) Stop() { s.stopOnce.Do(func() { close(s.stop) }) }

// Wait waits until every stream's handler has returned, or ctx ends.
func (s *TokenStream) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("load: %d streams still running: %w", s.open.Load(), ctx.Err())
	}
}

// Written is the number of tokens written and flushed so far.
func (s *TokenStream) Written() uint64 { return s.written.Load() }

// Open is the number of streams past their opener and not yet ended.
func (s *TokenStream) Open() int64 { return s.open.Load() }

// Streams is the number of streams served.
func (s *TokenStream) Streams() int64 { return s.streams.Load() }

// Cut is the number of streams whose request ended (the gateway or proxy
// cancelled it) or whose write failed before Stop.
func (s *TokenStream) Cut() int64 { return s.cut.Load() }

func (s *TokenStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.wg.Add(1)
	defer s.wg.Done()
	s.streams.Add(1)
	ctx, cancel := context.WithTimeout(r.Context(), s.bound)
	defer cancel()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")

	msg := NewMessage(StampSize)
	out := make([]byte, 0, len("data: \n\n")+len(msg))
	send := func(p []byte) error {
		if s.frame {
			out = append(append(append(out[:0], "data: "...), p...), "\n\n"...)
			p = out
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
		return rc.Flush()
	}
	if send([]byte(StreamOpener)) != nil {
		s.cut.Add(1)
		return
	}
	s.open.Add(1)
	defer s.open.Add(-1)

	interval := time.Second / time.Duration(s.rate)
	select {
	case <-s.begin:
	case <-s.stop:
		return
	case <-ctx.Done():
		s.cut.Add(1)
		return
	}
	phase := time.NewTimer(rand.N(interval))
	select {
	case <-phase.C:
	case <-s.stop:
		phase.Stop()
		return
	case <-ctx.Done():
		s.cut.Add(1)
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for seq := uint64(1); ; seq++ {
		Stamp(msg, seq, time.Now())
		if err := send(msg); err != nil {
			s.cut.Add(1)
			return
		}
		s.written.Add(1)
		select {
		case <-tick.C:
		case <-s.stop:
			return
		case <-ctx.Done():
			s.cut.Add(1)
			return
		}
	}
}

// TokenBackendConfig describes a streaming backend process
// (RunTokenBackend): it serves a TokenStream either through gatecast (NATS
// set) or as a plain HTTP server (ListenFD set).
type TokenBackendConfig struct {
	// NATS is the gatecast's NATS URL; the backend serves Subject through
	// the backend SDK.
	NATS    string
	Subject string
	// ListenFD is an inherited listening socket (3 for the first of
	// exec.Cmd.ExtraFiles) to serve HTTP on. Zero: none.
	ListenFD int
	// Rate is tokens a second per stream. Zero: 50.
	Rate int
	// Bound is the longest a stream runs. Zero: 10m.
	Bound time.Duration
}

// Args returns the command-line flags that ParseTokenBackendArgs reads.
func (c TokenBackendConfig) Args() []string {
	args := []string{"--rate=" + strconv.Itoa(c.Rate), "--bound=" + c.Bound.String()}
	if c.NATS != "" {
		args = append(args, "--nats="+c.NATS, "--subject="+c.Subject)
	}
	if c.ListenFD != 0 {
		args = append(args, "--listen-fd="+strconv.Itoa(c.ListenFD))
	}
	return args
}

// ParseTokenBackendArgs parses what TokenBackendConfig.Args wrote.
func ParseTokenBackendArgs(name string, args []string, usage io.Writer) (TokenBackendConfig, error) {
	var c TokenBackendConfig
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.NATS, "nats", "", "gatecast's NATS URL, to serve --subject through the backend SDK")
	fs.StringVar(&c.Subject, "subject", "", "the route's subject")
	fs.IntVar(&c.ListenFD, "listen-fd", 0, "inherited listening socket to serve plain HTTP on")
	fs.IntVar(&c.Rate, "rate", 0, "tokens a second per stream (default 50)")
	fs.DurationVar(&c.Bound, "bound", 0, "longest a stream runs (default 10m)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Rate == 0 {
		c.Rate = 50
	}
	if c.Bound == 0 {
		c.Bound = 10 * time.Minute
	}
	switch {
	case (c.NATS == "") == (c.ListenFD == 0):
		return c, errors.New("load: the token backend needs one of --nats and --listen-fd")
	case c.NATS != "" && c.Subject == "":
		return c, errors.New("load: --nats needs --subject")
	case c.Rate < 0 || c.Rate > int(time.Second):
		return c, fmt.Errorf("load: --rate %d out of range", c.Rate)
	}
	return c, nil
}

// tokenBackendDrain bounds how long a stopped backend waits for its
// streams to end.
const tokenBackendDrain = 30 * time.Second

// RunTokenBackend serves a TokenStream as a process the benchmark controls
// like a client (see Worker): it writes an "open" event once it serves,
// calls Begin at the first line of control and Stop when control ends,
// waits for the streams to end, and writes a "result" event whose Open is
// the streams served, Received the tokens written, and Lost the streams
// cut before Stop.
func RunTokenBackend(ctx context.Context, cfg TokenBackendConfig, control io.Reader, events io.Writer) error {
	ts := NewTokenStream(cfg.Rate, cfg.NATS == "", cfg.Bound)
	var finish func(context.Context) error
	if cfg.NATS != "" {
		nc, err := nats.Connect(cfg.NATS, nats.Name("gatecast-bench token backend"))
		if err != nil {
			return err
		}
		defer nc.Close()
		// Every stream holds a handler slot for its whole life.
		bc, err := backend.New(nc, backend.Config{Concurrency: 1 << 16})
		if err != nil {
			return err
		}
		if _, err := bc.HandleHTTP(cfg.Subject, ts); err != nil {
			return err
		}
		if err := nc.Flush(); err != nil {
			return err
		}
		finish = func(ctx context.Context) error {
			// Drain waits for the SDK to send every stream's end.
			if err := bc.Drain(ctx); err != nil {
				return err
			}
			return nc.Flush()
		}
	} else {
		ln, err := net.FileListener(os.NewFile(uintptr(cfg.ListenFD), "listener"))
		if err != nil {
			return fmt.Errorf("load: inherited listener: %w", err)
		}
		srv := &http.Server{Handler: ts, ReadHeaderTimeout: 10 * time.Second}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		finish = func(ctx context.Context) error {
			err := srv.Shutdown(ctx)
			if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			return err
		}
	}
	if err := writeEvent(events, Event{Event: eventOpen, Mode: "token-backend", Conns: 1, Open: 1}); err != nil {
		return err
	}

	start, eof := watchControl(control)
	select {
	case <-start:
		ts.Begin()
	case <-eof:
	case <-ctx.Done():
	}
	select {
	case <-eof:
	case <-ctx.Done():
	}
	ts.Stop()
	dctx, cancel := context.WithTimeout(context.Background(), tokenBackendDrain)
	defer cancel()
	ev := Event{Event: eventResult, Mode: "token-backend", Conns: 1, Open: int(ts.Streams())}
	if err := ts.Wait(dctx); err != nil {
		ev.FirstError = err.Error()
	} else if err := finish(dctx); err != nil {
		ev.FirstError = err.Error()
	}
	ev.Received, ev.Lost = ts.Written(), int(ts.Cut())
	return writeEvent(events, ev)
}
