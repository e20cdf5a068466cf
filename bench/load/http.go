package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatecast/gatecast/netpoll"
)

// HTTP modes. RunHTTPClient runs them; RunClient does not, and
// ParseClientArgs refuses them.
const (
	// HTTPGet runs a closed loop of GET requests on each keep-alive
	// connection: send, read the whole answer, record, repeat until
	// Duration or Rounds. The URL's last path segment is an item id, and
	// every answer must be 2xx with ItemJSON(id) as its body.
	HTTPGet Mode = "http-get"
	// HTTPPost is HTTPGet with POST requests carrying Size random bytes;
	// every answer must be 2xx with LengthJSON(Size) as its body.
	HTTPPost Mode = "http-post"
	// SSE opens one Server-Sent Events stream per connection with a GET of
	// URL, and receives stamped tokens (see Stamp) on it until the server
	// ends the stream. The first event of every stream must be
	// StreamOpener; the rest must be stamped tokens with sequence numbers
	// 1, 2, 3, ...
	SSE Mode = "sse"
)

// httpGrace is how long past the end of a request loop a request in
// flight may take before its connection counts as failed, and how long an
// SSE client waits, after its control input closed, for the server to end
// its streams.
const httpGrace = 10 * time.Second

// maxHTTPBody bounds what a client reads of one answer.
const maxHTTPBody = 1 << 20

// ParseHTTPClientArgs parses the flags of an HTTP client: those Args writes
// for a ClientConfig whose Mode is HTTPGet, HTTPPost or SSE.
func ParseHTTPClientArgs(name string, args []string, usage io.Writer) (ClientConfig, error) {
	c, err := parseClientFlags(name, args, usage)
	if err != nil {
		return c, err
	}
	return c, c.validateHTTP()
}

func (c ClientConfig) validateHTTP() error {
	switch {
	case c.URL == "":
		return errors.New("load: no server URL; pass --url http://HOST:PORT/PATH")
	case c.Conns <= 0:
		return fmt.Errorf("load: --conns must be positive, got %d", c.Conns)
	case c.Mode != HTTPGet && c.Mode != HTTPPost && c.Mode != SSE:
		return fmt.Errorf("load: unknown HTTP --mode %q; use http-get, http-post or sse", c.Mode)
	case c.Size < 0 || c.Rounds < 0 || c.DialConcurrency < 0:
		return errors.New("load: --size, --rounds and --dial-concurrency must not be negative")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("load: --url: %w", err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("load: --url %q is not an http://HOST:PORT/PATH URL", c.URL)
	}
	return nil
}

// RunHTTPClient is RunClient for the HTTP modes: it opens cfg.Conns
// connections (SSE: streams), writes an "open" event, runs the mode and
// writes a "result" event.
//
// In HTTPGet and HTTPPost mode the result's Roundtrips counts the answers
// that were 2xx with the expected body, Latency holds their round trips,
// Errors counts every other answer and every connection that failed (a
// benchmark must see none), Lost the times the server closed a keep-alive
// connection (the client dials again), and FirstError sums up what went
// wrong. In SSE mode see runSSE.
func RunHTTPClient(ctx context.Context, cfg ClientConfig, control io.Reader, events io.Writer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validateHTTP(); err != nil {
		return err
	}
	if limit, err := netpoll.RaiseFDLimit(); err == nil && uint64(cfg.Conns+fdReserve) > limit {
		return fmt.Errorf("load: %d connections need more than the %d file descriptors one process may hold; spread them over more processes", cfg.Conns, limit)
	}
	start, eof := watchControl(control)
	if cfg.Mode == SSE {
		return runSSE(ctx, cfg, eof, events)
	}

	lp, err := newHTTPLoop(cfg)
	if err != nil {
		return err
	}
	conns, err := openEach(ctx, cfg, lp.dial)
	ev := Event{Event: eventOpen, Mode: cfg.Mode, Conns: cfg.Conns, Open: len(conns), Failed: cfg.Conns - len(conns)}
	if err != nil {
		ev.FirstError = err.Error()
	}
	if err := writeEvent(events, ev); err != nil {
		closeHTTP(conns)
		return err
	}
	if cfg.WaitStart {
		if err := awaitStart(ctx, start, eof); err != nil {
			closeHTTP(conns)
			return err
		}
	}
	ev.Event = eventResult
	lp.run(ctx, conns, &ev)
	return writeEvent(events, ev)
}

// dialer returns the dialer of cfg's connections, bound to cfg.Source.
func (c ClientConfig) dialer() (*net.Dialer, error) {
	d := &net.Dialer{Timeout: c.DialTimeout}
	if c.Source != "" {
		ip := net.ParseIP(c.Source)
		if ip == nil {
			return nil, fmt.Errorf("load: --source %q is not an IP address", c.Source)
		}
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return d, nil
}

// openEach calls open cfg.Conns times, at most cfg.DialConcurrency at once,
// giving up on those not done within cfg.OpenTimeout. It returns what the
// successful calls returned, and the first error.
func openEach[T any](ctx context.Context, cfg ClientConfig, open func(context.Context) (T, error)) (opened []T, firstErr error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.OpenTimeout)
	defer cancel()
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(cfg.DialConcurrency, cfg.Conns) {
		wg.Go(func() {
			for int(next.Add(1)) <= cfg.Conns && ctx.Err() == nil {
				v, err := open(ctx)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
				} else {
					opened = append(opened, v)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(opened) < cfg.Conns && firstErr == nil {
		firstErr = fmt.Errorf("load: opened %d of %d connections within %v: %w", len(opened), cfg.Conns, cfg.OpenTimeout, ctx.Err())
	}
	return opened, firstErr
}

// httpConn is one keep-alive connection of a request loop.
type httpConn struct {
	nc net.Conn
	br *bufio.Reader
}

func closeHTTP(conns []*httpConn) {
	for _, c := range conns {
		c.nc.Close()
	}
}

// httpLoop is the closed request loop of HTTPGet and HTTPPost.
type httpLoop struct {
	cfg    ClientConfig
	dialer *net.Dialer
	addr   string
	req    []byte // the whole request, written as it is every time
	want   []byte // the body every answer must have
}

func newHTTPLoop(cfg ClientConfig) (*httpLoop, error) {
	d, err := cfg.dialer()
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.URL) // validated
	lp := &httpLoop{cfg: cfg, dialer: d, addr: u.Host}
	var b bytes.Buffer
	switch cfg.Mode {
	case HTTPGet:
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatecast-bench\r\nAccept: application/json\r\n\r\n", u.RequestURI(), u.Host)
		lp.want = ItemJSON(path.Base(u.Path))
	case HTTPPost:
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatecast-bench\r\nAccept: application/json\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", u.RequestURI(), u.Host, cfg.Size)
		body := make([]byte, cfg.Size)
		rand.Read(body)
		b.Write(body)
		lp.want = LengthJSON(int64(cfg.Size))
	}
	lp.req = b.Bytes()
	return lp, nil
}

func (lp *httpLoop) dial(ctx context.Context) (*httpConn, error) {
	nc, err := lp.dialer.DialContext(ctx, "tcp", lp.addr)
	if err != nil {
		return nil, err
	}
	return &httpConn{nc: nc, br: bufio.NewReaderSize(nc, 8<<10)}, nil
}

// httpResult is what one connection's loop did.
type httpResult struct {
	ok      uint64 // 2xx answers with the expected body
	non2xx  uint64
	badBody uint64
	redials int   // keep-alive connections the server closed
	err     error // what ended the loop early
	// firstBad describes the first answer that was not ok.
	firstBad string
	hist     Histogram
}

// run runs the loop on every connection, one goroutine each, until
// cfg.Duration passes or cfg.Rounds requests are done, and merges the
// results into ev.
func (lp *httpLoop) run(ctx context.Context, conns []*httpConn, ev *Event) {
	end := time.Now().Add(lp.cfg.Duration)
	rounds := make([]int, len(conns))
	if lp.cfg.Rounds > 0 {
		rounds = Shares(lp.cfg.Rounds, len(conns))
	} else {
		for i := range rounds {
			rounds[i] = -1 // no count limit
		}
	}
	// A cancelled run unblocks every connection at once through deadlines.
	var mu sync.Mutex
	live := make(map[*httpConn]bool, len(conns))
	cancelled := false
	track := func(c *httpConn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case !add:
			delete(live, c)
		case cancelled:
			c.nc.SetDeadline(time.Now())
		default:
			live[c] = true
		}
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		cancelled = true
		for c := range live {
			c.nc.SetDeadline(time.Now())
		}
	})
	defer stop()

	results := make([]httpResult, len(conns))
	begin := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			lp.loop(ctx, c, rounds[i], end, &results[i], track)
		})
	}
	wg.Wait()
	ev.Seconds = time.Since(begin).Seconds()

	ev.Latency = new(Histogram)
	var non2xx, badBody uint64
	var failed int
	var firstBad, firstErr string
	for i := range results {
		r := &results[i]
		ev.Roundtrips += r.ok
		ev.Latency.Merge(&r.hist)
		ev.Lost += r.redials
		non2xx += r.non2xx
		badBody += r.badBody
		if firstBad == "" {
			firstBad = r.firstBad
		}
		if r.err != nil {
			failed++
			if firstErr == "" {
				firstErr = r.err.Error()
			}
		}
	}
	ev.Errors = int(non2xx+badBody) + failed
	if ev.Errors > 0 {
		ev.FirstError = fmt.Sprintf("%d non-2xx answers, %d answers with a wrong body, %d connections failed; first bad answer: %s; first connection error: %s",
			non2xx, badBody, failed, orNone(firstBad), orNone(firstErr))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// loop sends requests on c and reads their answers until end or until it
// has sent rounds of them (rounds < 0: no count limit). When the server
// closes the connection after an answer, it dials again.
func (lp *httpLoop) loop(ctx context.Context, c *httpConn, rounds int, end time.Time, r *httpResult, track func(*httpConn, bool)) {
	var body bytes.Buffer
	for n := 0; rounds < 0 || n < rounds; n++ {
		if c == nil {
			var err error
			if c, err = lp.dial(ctx); err != nil {
				r.err = err
				return
			}
		}
		track(c, true)
		c.nc.SetDeadline(end.Add(httpGrace))
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		closed, err := lp.exchange(c, &body, t0, r)
		if err != nil {
			r.err = err
			break
		}
		if closed {
			track(c, false)
			c.nc.Close()
			c = nil
			r.redials++
		}
	}
	if c != nil {
		track(c, false)
		c.nc.Close()
	}
}

// exchange sends one request and reads its answer; closed says the server
// closed the connection after it.
func (lp *httpLoop) exchange(c *httpConn, body *bytes.Buffer, t0 time.Time, r *httpResult) (closed bool, err error) {
	if _, err := c.nc.Write(lp.req); err != nil {
		return false, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return false, err
	}
	body.Reset()
	_, err = body.ReadFrom(io.LimitReader(resp.Body, maxHTTPBody))
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	d := time.Since(t0)
	switch {
	case resp.StatusCode/100 != 2:
		r.non2xx++
		if r.firstBad == "" {
			r.firstBad = fmt.Sprintf("%s: %.200q", resp.Status, body.Bytes())
		}
	case !bytes.Equal(body.Bytes(), lp.want):
		r.badBody++
		if r.firstBad == "" {
			r.firstBad = fmt.Sprintf("%s with body %.200q, want %q", resp.Status, body.Bytes(), lp.want)
		}
	default:
		r.ok++
		r.hist.Record(d)
	}
	return resp.Close, nil
}

// ItemJSON is the body the benchmark backend answers GET /items/{id} with:
// a small JSON object, as a REST API's read would return.
func ItemJSON(id string) []byte {
	return []byte(`{"id":` + strconv.Quote(id) + `,"name":"bench item","price_cents":1999,"currency":"EUR","in_stock":true,"tags":["bench","http"]}`)
}

// LengthJSON is the body the benchmark backend answers POST /items with:
// how many bytes the request's body had.
func LengthJSON(n int64) []byte {
	return []byte(`{"bytes":` + strconv.FormatInt(n, 10) + `}`)
}
