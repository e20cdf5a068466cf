package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatecast/gatecast/netpoll"
)

// The connect storm: upgrade attempts fired at a fixed rate, each one
// opened, asked for an upgrade, read up to the end of its response head and
// closed at once, to see how a connect-rate limit answers; and the paced
// echo loop that measures, meanwhile, how the server treats connections
// already open. Both run in child processes (RunStorm, RunPacedEcho) and
// report as JSON lines ([StormEvent]).

// StormConfig describes one process's share of a connect storm. URL and
// Rate are required; every other zero field takes the default in its
// comment.
type StormConfig struct {
	URL string // ws://host:port/path of the server
	// Rate is the upgrade attempts per second this process starts, on a
	// fixed schedule (attempt i at i/Rate), whether or not the earlier ones
	// have been answered.
	Rate float64
	// Duration is how long the schedule runs. Zero: 10s.
	Duration time.Duration
	// Sources are the local IPs to dial from, taken in turn. Zero: one
	// address chosen by the kernel.
	Sources []string
	// InFlight bounds the attempts open at once (each holds a descriptor);
	// an attempt whose time has come while all are busy waits and counts as
	// late. Zero: 1000.
	InFlight int
	// Timeout bounds one attempt, from dial to the end of the response
	// head. Zero: 5s.
	Timeout time.Duration
}

func (c StormConfig) withDefaults() StormConfig {
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.InFlight == 0 {
		c.InFlight = 1000
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

func (c StormConfig) validate() error {
	switch {
	case c.URL == "":
		return errors.New("load: no server URL; pass --url ws://HOST:PORT/")
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("load: storm rate %v: want a positive number of attempts per second", c.Rate)
	case c.Duration < 0 || c.InFlight < 0 || c.Timeout < 0:
		return errors.New("load: storm duration, in-flight bound and timeout must not be negative")
	case c.Rate*c.Duration.Seconds() > 1e7:
		return fmt.Errorf("load: %v attempts per second for %v is over 10 million attempts", c.Rate, c.Duration)
	}
	return nil
}

// StormEvent is one JSON line of a storm or paced-echo client: "ready" (a
// storm client is set up and waits for its start line), "open" (a paced-echo
// client has opened its connections, or failed to) and "result".
type StormEvent struct {
	Event string `json:"event"`

	// Paced echo: connections opened and failed, and per phase what the
	// loop measured.
	Open   int         `json:"open,omitempty"`
	Failed int         `json:"failed,omitempty"`
	Phases []EchoPhase `json:"phases,omitempty"`

	// Storm. Attempts counts the attempts started; each ends with a status
	// (Statuses) or an error (Errors, by the stage that failed: "dial",
	// "write", "read", "status"), so their sums add up to Attempts.
	Attempts uint64            `json:"attempts,omitempty"`
	Statuses map[int]uint64    `json:"statuses,omitempty"`
	Errors   map[string]uint64 `json:"errors,omitempty"`
	// NoRetryAfter counts 429 answers without a Retry-After header.
	NoRetryAfter uint64 `json:"no_retry_after,omitempty"`
	// NotStarted counts scheduled attempts never started: the run was
	// cancelled or fell so far behind that the time bound ended it.
	NotStarted uint64 `json:"not_started,omitempty"`
	// Late counts attempts started more than StormLate after their time,
	// MaxLateUS the latest.
	Late      uint64 `json:"late,omitempty"`
	MaxLateUS int64  `json:"max_late_us,omitempty"`
	// FirstSentNS and LastSentNS are when (Unix ns) the first and the last
	// answered request went out, FirstAnswerNS and LastAnswerNS when the
	// first and the last answer's head arrived.
	FirstSentNS   int64 `json:"first_sent_ns,omitempty"`
	LastSentNS    int64 `json:"last_sent_ns,omitempty"`
	FirstAnswerNS int64 `json:"first_answer_ns,omitempty"`
	LastAnswerNS  int64 `json:"last_answer_ns,omitempty"`
	// Seconds holds attempts and 101s per second of the schedule
	// (attempt i belongs to second ⌊i/Rate⌋).
	Seconds []StormSecond `json:"seconds,omitempty"`
	// Latency is dial to the end of the response head, over the answered
	// attempts.
	Latency *Histogram `json:"latency,omitempty"`

	FirstError string `json:"first_error,omitempty"`
}

// StormSecond is one second of a storm's schedule.
type StormSecond struct {
	Attempts uint64 `json:"attempts"`
	Admitted uint64 `json:"admitted"` // answered 101
}

// EchoPhase is what the paced echo loop measured in one phase.
type EchoPhase struct {
	Roundtrips uint64     `json:"roundtrips"`
	Errors     int        `json:"errors,omitempty"` // connections that stopped on an error in this phase
	FirstError string     `json:"first_error,omitempty"`
	Seconds    float64    `json:"seconds"`
	Latency    *Histogram `json:"latency"`
}

// StormLate is how far behind its time an attempt may start before it
// counts as late.
const StormLate = 5 * time.Millisecond

// RunStorm is a storm client process: it writes a "ready" event, waits for
// a line on control (EOF first aborts), runs the storm and writes a
// "result" event. The error is for a client that could not run at all.
func RunStorm(ctx context.Context, cfg StormConfig, control io.Reader, events io.Writer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if limit, err := netpoll.RaiseFDLimit(); err == nil && uint64(cfg.InFlight+fdReserve) > limit {
		return fmt.Errorf("load: %d attempts in flight need more than the %d file descriptors one process may hold; lower --in-flight", cfg.InFlight, limit)
	}
	s, err := newStormer(cfg)
	if err != nil {
		return err
	}
	start, eof := watchControl(control)
	if err := writeJSON(events, StormEvent{Event: eventReady}); err != nil {
		return err
	}
	if err := awaitStart(ctx, start, eof); err != nil {
		return err
	}
	ev := s.run(ctx)
	return writeJSON(events, ev)
}

const eventReady = "ready"

// stormer runs one storm. Its counters are guarded by mu; attempts are
// few enough (thousands a second) that one lock costs nothing.
type stormer struct {
	cfg     StormConfig
	addr    string // host:port to dial
	req     []byte // the upgrade request, the same for every attempt
	dialers []*net.Dialer

	mu sync.Mutex
	ev StormEvent
}

func newStormer(cfg StormConfig) (*stormer, error) {
	addr, req, err := upgradeRequest(cfg.URL)
	if err != nil {
		return nil, err
	}
	s := &stormer{cfg: cfg, addr: addr, req: req}
	sources := cfg.Sources
	if len(sources) == 0 {
		sources = []string{""}
	}
	for _, src := range sources {
		d := &net.Dialer{Timeout: cfg.Timeout}
		if src != "" {
			ip := net.ParseIP(src)
			if ip == nil {
				return nil, fmt.Errorf("load: source %q is not an IP address", src)
			}
			d.LocalAddr = &net.TCPAddr{IP: ip}
		}
		s.dialers = append(s.dialers, d)
	}
	secs := int(math.Ceil(cfg.Duration.Seconds()))
	s.ev = StormEvent{Event: eventResult, Statuses: map[int]uint64{}, Errors: map[string]uint64{},
		Seconds: make([]StormSecond, max(secs, 1)), Latency: new(Histogram)}
	return s, nil
}

// upgradeRequest returns the address to dial for a ws:// URL and a
// WebSocket upgrade request for it.
func upgradeRequest(rawURL string) (addr string, req []byte, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, fmt.Errorf("load: --url: %w", err)
	}
	if u.Scheme != "ws" || u.Host == "" {
		return "", nil, fmt.Errorf("load: --url %q: want ws://HOST:PORT/PATH", rawURL)
	}
	addr = u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var key [16]byte
	rand.Read(key[:])
	req = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]))
	return addr, req, nil
}

// run starts the attempts on schedule, at most InFlight at once, and
// returns once every started one has ended. It stops starting attempts when
// ctx ends or, if it has fallen behind, at Duration plus the longer of a
// second and half of Duration.
func (s *stormer) run(ctx context.Context) StormEvent {
	cfg := s.cfg
	n := int(math.Round(cfg.Rate * cfg.Duration.Seconds()))
	stopAt := cfg.Duration + max(time.Second, cfg.Duration/2)
	sem := make(chan struct{}, cfg.InFlight)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var (
		wg      sync.WaitGroup
		started int
	)
	start := time.Now()
schedule:
	for ; started < n; started++ {
		due := start.Add(time.Duration(float64(started) / cfg.Rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break schedule
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break schedule
		}
		if time.Since(start) > stopAt {
			<-sem
			break schedule
		}
		if late := time.Since(due); late > StormLate {
			s.ev.Late++
			s.ev.MaxLateUS = max(s.ev.MaxLateUS, late.Microseconds())
		}
		i, sec := started, min(int(float64(started)/cfg.Rate), len(s.ev.Seconds)-1)
		wg.Go(func() {
			defer func() { <-sem }()
			s.attempt(i, sec)
		})
	}
	wg.Wait()
	s.ev.Attempts = uint64(started)
	s.ev.NotStarted = uint64(n - started)
	return s.ev
}

// attempt dials, sends the upgrade request, reads the response head and
// closes with a reset (SO_LINGER 0), so that neither side keeps the
// connection in TIME_WAIT and the source's ports do not run out.
func (s *stormer) attempt(i, sec int) {
	t0 := time.Now()
	nc, err := s.dialers[i%len(s.dialers)].Dial("tcp", s.addr)
	if err != nil {
		s.fail(sec, "dial", err)
		return
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	defer nc.Close()
	nc.SetDeadline(t0.Add(s.cfg.Timeout))
	sent := time.Now()
	if _, err := nc.Write(s.req); err != nil {
		s.fail(sec, "write", err)
		return
	}
	var buf [1024]byte
	head, err := readHead(nc, buf[:])
	if err != nil {
		s.fail(sec, "read", err)
		return
	}
	done := time.Now()
	status, ok := parseStatus(head)
	if !ok {
		s.fail(sec, "status", fmt.Errorf("load: not an HTTP response: %q", head[:min(len(head), 40)]))
		return
	}
	retryAfter := bytes.Contains(bytes.ToLower(head), []byte("\r\nretry-after:"))

	s.mu.Lock()
	defer s.mu.Unlock()
	ev := &s.ev
	ev.Statuses[status]++
	ev.Seconds[sec].Attempts++
	if status == 101 {
		ev.Seconds[sec].Admitted++
	}
	if status == 429 && !retryAfter {
		ev.NoRetryAfter++
	}
	ev.Latency.Record(done.Sub(t0))
	sentNS, doneNS := sent.UnixNano(), done.UnixNano()
	if ev.FirstSentNS == 0 || sentNS < ev.FirstSentNS {
		ev.FirstSentNS = sentNS
	}
	ev.LastSentNS = max(ev.LastSentNS, sentNS)
	if ev.FirstAnswerNS == 0 || doneNS < ev.FirstAnswerNS {
		ev.FirstAnswerNS = doneNS
	}
	ev.LastAnswerNS = max(ev.LastAnswerNS, doneNS)
}

func (s *stormer) fail(sec int, stage string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ev.Errors[stage]++
	s.ev.Seconds[sec].Attempts++
	if s.ev.FirstError == "" {
		s.ev.FirstError = stage + ": " + err.Error()
	}
}

var responseHeadEnd = []byte("\r\n\r\n")

// readHead reads from r into buf until the end of an HTTP response head
// and returns the head. A response that ends (EOF) after its status line
// counts too; a head longer than buf is an error.
func readHead(r io.Reader, buf []byte) ([]byte, error) {
	n := 0
	for {
		m, err := r.Read(buf[n:])
		n += m
		if bytes.Contains(buf[max(0, n-m-3):n], responseHeadEnd) {
			return buf[:n], nil
		}
		switch {
		case err == io.EOF && bytes.IndexByte(buf[:n], '\n') >= 0:
			return buf[:n], nil
		case err != nil:
			return nil, err
		case n == len(buf):
			return nil, fmt.Errorf("load: response head over %d bytes", len(buf))
		}
	}
}

// parseStatus returns the status code of an HTTP/1.x response.
func parseStatus(head []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(head, []byte("HTTP/1."))
	if !ok || len(rest) < 5 || rest[1] != ' ' {
		return 0, false
	}
	code, err := strconv.Atoi(string(rest[2:5]))
	if err != nil || code < 100 || code > 999 {
		return 0, false
	}
	return code, true
}

// PacedEchoConfig describes a paced echo client. URL, Conns and Rate are
// required; every other zero field takes the default in its comment.
type PacedEchoConfig struct {
	URL    string // ws://host:port/path of the server
	Source string // local IP to dial from; zero: chosen by the kernel
	Conns  int    // connections to open
	// Rate is the round trips per second over all connections: each
	// connection sends one message every Conns/Rate seconds, the
	// connections spread evenly over that interval.
	Rate float64
	Size int // payload bytes; zero: 64
	// MaxDuration bounds the loop if control never closes. Zero: 10m.
	MaxDuration time.Duration
	OpenTimeout time.Duration // zero: 60s
}

// maxEchoPhases bounds the phases of a paced echo run.
const maxEchoPhases = 8

// RunPacedEcho is a paced echo client process: it opens cfg.Conns
// connections and writes an "open" event; the first line on control starts
// the loop in phase 0 and each further line moves it to the next phase (up
// to 8); EOF on control (or MaxDuration) ends it, and it writes a "result"
// event with one EchoPhase per phase. A round trip counts in the phase in
// which it was sent, with its latency from the send to the whole echo. A
// connection whose echo comes later than its next send time skips the
// sends it missed rather than catching up, so the server never sees a
// burst.
func RunPacedEcho(ctx context.Context, cfg PacedEchoConfig, control io.Reader, events io.Writer) error {
	if cfg.Size == 0 {
		cfg.Size = 64
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = 10 * time.Minute
	}
	switch {
	case cfg.Conns <= 0:
		return fmt.Errorf("load: --conns must be positive, got %d", cfg.Conns)
	case !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0):
		return fmt.Errorf("load: echo rate %v: want a positive number of round trips per second", cfg.Rate)
	case cfg.Size < 0 || cfg.MaxDuration < 0:
		return errors.New("load: --size and --max-duration must not be negative")
	}
	if limit, err := netpoll.RaiseFDLimit(); err == nil && uint64(cfg.Conns+fdReserve) > limit {
		return fmt.Errorf("load: %d connections need more than the %d file descriptors one process may hold", cfg.Conns, limit)
	}
	cc := ClientConfig{URL: cfg.URL, Conns: cfg.Conns, Source: cfg.Source, OpenTimeout: cfg.OpenTimeout}.withDefaults()
	if err := cc.validate(); err != nil {
		return err
	}
	lines := watchLines(control)
	conns, err := openAll(ctx, cc)
	ev := StormEvent{Event: eventOpen, Open: len(conns), Failed: cfg.Conns - len(conns)}
	if err != nil {
		ev.FirstError = err.Error()
	}
	if err := writeJSON(events, ev); err != nil || len(conns) < cfg.Conns {
		closeAll(conns)
		return err
	}
	select {
	case _, ok := <-lines:
		if !ok {
			closeAll(conns)
			return errors.New("load: control input closed before the start line")
		}
	case <-ctx.Done():
		closeAll(conns)
		return ctx.Err()
	}

	p := &pacer{cfg: cfg, stop: make(chan struct{}), followed: make(chan struct{})}
	p.phaseStart[0] = time.Now()
	go p.follow(ctx, lines)
	results := make([][maxEchoPhases]echoResult, len(conns))
	interval := time.Duration(float64(cfg.Conns) / cfg.Rate * float64(time.Second))
	end := p.phaseStart[0].Add(cfg.MaxDuration)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			first := p.phaseStart[0].Add(interval * time.Duration(i) / time.Duration(len(conns)))
			p.loop(c, first, interval, end, &results[i])
			closeConn(c.nc)
		})
	}
	wg.Wait()
	<-p.followed

	ev = StormEvent{Event: eventResult, Open: len(conns)}
	last := int(p.phase.Load())
	for ph := 0; ph <= last; ph++ {
		e := EchoPhase{Latency: new(Histogram)}
		endAt := p.stopped
		if ph < last {
			endAt = p.phaseStart[ph+1]
		}
		e.Seconds = endAt.Sub(p.phaseStart[ph]).Seconds()
		for i := range results {
			r := &results[i][ph]
			e.Roundtrips += r.rounds
			e.Latency.Merge(&r.hist)
			if r.err != nil {
				e.Errors++
				if e.FirstError == "" {
					e.FirstError = r.err.Error()
				}
			}
		}
		ev.Phases = append(ev.Phases, e)
	}
	return writeJSON(events, ev)
}

// pacer is the shared state of a paced echo run. phaseStart[i] is written
// before phase is raised to i, and stopped before stop closes, so a loop
// that loaded the phase (or saw stop) may read them.
type pacer struct {
	cfg        PacedEchoConfig
	phase      atomic.Int32
	phaseStart [maxEchoPhases]time.Time
	stop       chan struct{}
	stopped    time.Time
	followed   chan struct{}
}

// follow moves to the next phase on every line of control, and stops the
// loops at EOF, at ctx's end or after MaxDuration. It owns p.stop.
func (p *pacer) follow(ctx context.Context, lines <-chan struct{}) {
	defer close(p.followed)
	limit := time.NewTimer(p.cfg.MaxDuration)
	defer limit.Stop()
	for {
		select {
		case _, ok := <-lines:
			if ok {
				if ph := p.phase.Load(); ph < maxEchoPhases-1 {
					p.phaseStart[ph+1] = time.Now()
					p.phase.Store(ph + 1)
				}
				continue
			}
		case <-ctx.Done():
		case <-limit.C:
		}
		p.stopped = time.Now()
		close(p.stop)
		return
	}
}

// loop sends a message every interval from first on, until stop closes
// or end passes; res[phase] gets each round trip and the error that ended
// the loop.
func (p *pacer) loop(c *conn, first time.Time, interval time.Duration, end time.Time, res *[maxEchoPhases]echoResult) {
	size := p.cfg.Size
	payload, got, out, in := c.echoBuffers(size)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for next := first; next.Before(end); {
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-p.stop:
				return
			}
		}
		select {
		case <-p.stop:
			return
		default:
		}
		r := &res[p.phase.Load()]
		t0 := time.Now()
		c.nc.SetDeadline(t0.Add(echoGrace))
		if err := writeMessage(c.nc, out, payload); err != nil {
			r.err = err
			return
		}
		if err := c.readEcho(in, got); err != nil {
			r.err = err
			return
		}
		r.hist.Record(time.Since(t0))
		if !bytes.Equal(got, payload) {
			r.err = fmt.Errorf("load: echo of %d bytes differs from what was sent", size)
			return
		}
		r.rounds++
		next = next.Add(interval)
		if late := time.Since(next); late > 0 {
			next = next.Add((late/interval + 1) * interval) // skip the sends missed
		}
	}
}

// watchLines reads control in the background and sends on the channel for
// every line, closing it at EOF. A nil control never sends or closes.
func watchLines(control io.Reader) <-chan struct{} {
	ch := make(chan struct{}, maxEchoPhases)
	if control == nil {
		return ch
	}
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(control)
		for sc.Scan() {
			ch <- struct{}{}
		}
	}()
	return ch
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
