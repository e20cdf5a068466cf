package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gatecast/gatecast/bench/load"
	"github.com/gatecast/gatecast/bench/procstat"
	"github.com/gatecast/gatecast/netpoll"
)

// The gateway's default connect rate (admission.connect_rate), which the
// storm leaves in place unless --connect-rate or --burst say otherwise.
const (
	defaultConnectRate  = 500
	defaultConnectBurst = 500
)

// stormFlags configure the connect-storm orchestrator.
type stormFlags struct {
	gatecastBin    string
	gatecastArg    string
	rate           float64
	duration       time.Duration
	connectRate    float64
	burst          int
	procs          int
	sources        int
	inFlight       int
	attemptTimeout time.Duration
	echoConns      int
	echoRate       float64
	size           int
	before, after  time.Duration
	openTimeout    time.Duration
}

func runConnectStorm(ctx context.Context, args []string) error {
	var f stormFlags
	fs := flag.NewFlagSet("gatecast-bench connect-storm", flag.ContinueOnError)
	fs.StringVar(&f.gatecastBin, "gatecast-bin", "bin/gatecast", "path of a built gatecast binary (make build)")
	fs.StringVar(&f.gatecastArg, "gatecast-args", "", "extra arguments for gatecast serve, split on spaces")
	fs.Float64Var(&f.rate, "rate", 5000, "upgrade attempts per second, over all storm processes")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "length of the storm")
	fs.Float64Var(&f.connectRate, "connect-rate", defaultConnectRate, "the gateway's admission.connect_rate per_second (written to its config only if not the default)")
	fs.IntVar(&f.burst, "burst", defaultConnectBurst, "the gateway's admission.connect_rate burst (written to its config only if not the default)")
	fs.IntVar(&f.procs, "procs", 2, "storm client processes, each firing rate/procs attempts a second")
	fs.IntVar(&f.sources, "sources", 4, "source addresses each storm process dials from in turn")
	fs.IntVar(&f.inFlight, "in-flight", 1000, "attempts open at once per storm process, at most")
	fs.DurationVar(&f.attemptTimeout, "attempt-timeout", 5*time.Second, "bound on one attempt, dial to response head")
	fs.IntVar(&f.echoConns, "echo-conns", 100, "connections opened before the storm, echoing throughout")
	fs.Float64Var(&f.echoRate, "echo-rate", 1000, "echo round trips per second over all echo connections")
	fs.IntVar(&f.size, "size", 64, "echo message size in bytes")
	fs.DurationVar(&f.before, "before", 3*time.Second, "echo phase before the storm (also lets the bucket refill after the echo connections)")
	fs.DurationVar(&f.after, "after", 2*time.Second, "echo phase after the storm")
	fs.DurationVar(&f.openTimeout, "open-timeout", 60*time.Second, "time for the echo connections to open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case !(f.rate > 0) || f.duration <= 0 || !(f.connectRate > 0) || f.burst < 1:
		return errors.New("--rate, --duration, --connect-rate and --burst must be positive")
	case f.procs < 1 || f.sources < 1 || f.inFlight < 1 || f.attemptTimeout <= 0:
		return errors.New("--procs, --sources, --in-flight and --attempt-timeout must be positive")
	case f.echoConns < 1 || !(f.echoRate > 0) || f.size < 0 || f.before < 0 || f.after < 0:
		return errors.New("--echo-conns and --echo-rate must be positive, --size, --before and --after not negative")
	case f.echoConns > 5000:
		return errors.New("--echo-conns: at most 5000 (one client process)")
	}
	if _, err := os.Stat(f.gatecastBin); err != nil {
		return fmt.Errorf("--gatecast-bin: %w; build it with: make build", err)
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		return err
	}
	run, err := measureStorm(ctx, &f)
	if err != nil {
		return err
	}
	printStorm(os.Stdout, run)
	if len(run.Problems) > 0 {
		return fmt.Errorf("the measurement is not valid: %s", strings.Join(run.Problems, "; "))
	}
	return nil
}

// stormConfig is the gateway's configuration for the storm: echo on
// $default, no access log, a connection cap far above what the storm
// admits, and the connect rate left at its default unless asked otherwise.
func stormConfig(rate float64, burst int) string {
	var b strings.Builder
	if rate != defaultConnectRate || burst != defaultConnectBurst {
		fmt.Fprintf(&b, "admission:\n  connect_rate:\n    per_second: %g\n    burst: %d\n", rate, burst)
	}
	b.WriteString(`access_log:
  output: "off"
websocket:
  max_conns: 100000
routes:
  websocket:
    $default:
      integration: echo
`)
	return b.String()
}

// measureStorm runs the echo connections' phase before the storm, the
// storm, and the phase after it, against one gatecast process.
func measureStorm(ctx context.Context, f *stormFlags) (stormRun, error) {
	tf := &targetFlags{target: targetGatecast, gatecastBin: f.gatecastBin, gatecastArg: f.gatecastArg, path: "/"}
	srv, err := startServerSpec(ctx, targetGatecast, tf, serverSpec{config: stormConfig(f.connectRate, f.burst)})
	if err != nil {
		return stormRun{}, err
	}
	defer srv.stop()
	self, err := os.Executable()
	if err != nil {
		return stormRun{}, err
	}
	var children []*stormChild
	defer func() {
		for _, c := range children {
			c.kill()
		}
	}()
	start := func(args ...string) (*stormChild, error) {
		c, err := startStormChild(exec.Command(self, append([]string{"storm-client"}, args...)...))
		if c != nil {
			children = append(children, c)
		}
		return c, err
	}

	// The echo connections, then the storm processes, all waiting.
	phaseTotal := f.before + f.duration + f.after
	echo, err := start("--mode=echo", "--url="+srv.url, "--source="+load.SourceIP(0), "--conns="+strconv.Itoa(f.echoConns),
		"--rate="+ftoa(f.echoRate), "--size="+strconv.Itoa(f.size), "--open-timeout="+f.openTimeout.String(),
		"--max-duration="+(2*phaseTotal+time.Minute).String())
	if err != nil {
		return stormRun{}, err
	}
	openCtx, cancel := context.WithTimeout(ctx, f.openTimeout+10*time.Second)
	ev, err := echo.next(openCtx, "open")
	cancel()
	if err != nil {
		return stormRun{}, err
	}
	if ev.Open != f.echoConns {
		return stormRun{}, fmt.Errorf("opened %d of %d echo connections: %s", ev.Open, f.echoConns, ev.FirstError)
	}
	var storms []*stormChild
	for p := range f.procs {
		var src []string
		for i := range f.sources {
			src = append(src, load.SourceIP(1+p*f.sources+i))
		}
		c, err := start("--mode=storm", "--url="+srv.url, "--sources="+strings.Join(src, ","), "--rate="+ftoa(f.rate/float64(f.procs)),
			"--duration="+f.duration.String(), "--in-flight="+strconv.Itoa(f.inFlight), "--timeout="+f.attemptTimeout.String())
		if err != nil {
			return stormRun{}, err
		}
		storms = append(storms, c)
	}
	for _, c := range storms {
		readyCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.next(readyCtx, "ready")
		cancel()
		if err != nil {
			return stormRun{}, err
		}
	}

	logf("connect-storm: %d echo connections at %g round trips/s; %v before the storm", f.echoConns, f.echoRate, f.before)
	if err := echo.line(); err != nil {
		return stormRun{}, err
	}
	if err := sleepCtx(ctx, f.before); err != nil {
		return stormRun{}, err
	}
	m0, err := srv.metrics(ctx)
	if err != nil {
		return stormRun{}, err
	}
	cpu0, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return stormRun{}, err
	}
	srvWait0, echoWait0 := runqWait(srv.pid()), runqWait(echo.cmd.Process.Pid)
	logf("connect-storm: %g upgrade attempts/s for %v from %d processes, connect rate %g/s burst %d", f.rate, f.duration, f.procs, f.connectRate, f.burst)
	if err := echo.line(); err != nil { // phase "during"
		return stormRun{}, err
	}
	for _, c := range storms {
		if err := c.line(); err != nil {
			return stormRun{}, err
		}
	}
	// An attempt runs at most attempt-timeout; a storm that fell behind
	// stops starting attempts half its duration (at least 1s) late.
	resultCtx, cancel := context.WithTimeout(ctx, f.duration*3/2+time.Second+f.attemptTimeout+30*time.Second)
	defer cancel()
	var results []load.StormEvent
	for _, c := range storms {
		ev, err := c.next(resultCtx, "result")
		if err != nil {
			return stormRun{}, err
		}
		results = append(results, ev)
	}
	if err := echo.line(); err != nil { // phase "after"
		return stormRun{}, err
	}
	cpu1, err := procstat.CPUTime(srv.pid())
	if err != nil {
		return stormRun{}, err
	}
	srvWait1, echoWait1 := runqWait(srv.pid()), runqWait(echo.cmd.Process.Pid)
	m1, err := srv.metrics(ctx)
	if err != nil {
		return stormRun{}, err
	}
	if err := sleepCtx(ctx, f.after); err != nil {
		return stormRun{}, err
	}
	m2, err := srv.metrics(ctx)
	if err != nil {
		return stormRun{}, err
	}
	echo.stdin.Close()
	endCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	echoRes, err := echo.next(endCtx, "result")
	if err != nil {
		return stormRun{}, err
	}

	run := summarizeStorm(f, results, echoRes, m0, m1)
	run.Server.CPUSeconds = (cpu1 - cpu0).Seconds()
	run.Server.RunqWaitS = (srvWait1 - srvWait0).Seconds()
	run.EchoRunqWaitS = (echoWait1 - echoWait0).Seconds()
	run.Server.SocketsAfter = m2["gatecast_websocket_sockets"]
	run.Server.OpenAfter = m2["gatecast_websocket_connections_open"]
	if run.Server.OpenAfter != float64(f.echoConns) {
		run.Problems = append(run.Problems, fmt.Sprintf("after the storm the server holds %.0f open connections, want the %d echo connections", run.Server.OpenAfter, f.echoConns))
	}
	logf("connect-storm: %d attempts, %d admitted, expected %.0f (%.4f), echo p99 %.0fµs before, %.0fµs during",
		run.Attempts, run.Admitted, run.Expected, run.AdmittedOverAllowance, run.echoP99("before"), run.echoP99("during"))
	return run, nil
}

// stormRun is what a connect storm measured.
type stormRun struct {
	Rate        float64 `json:"rate_per_s"` // asked for
	Duration    float64 `json:"duration_s"` // asked for
	ConnectRate float64 `json:"connect_rate_per_s"`
	Burst       int     `json:"burst"`
	Procs       int     `json:"procs"`

	Attempts   uint64            `json:"attempts"`
	SentPerS   float64           `json:"sent_per_s"` // attempts over SpanS
	Admitted   uint64            `json:"admitted"`   // 101
	Refused429 uint64            `json:"refused_429"`
	Other      uint64            `json:"other_status"` // neither 101 nor 429
	Statuses   map[string]uint64 `json:"statuses"`
	// NoRetryAfter counts 429s without a Retry-After header.
	NoRetryAfter uint64            `json:"no_retry_after"`
	Errors       uint64            `json:"errors"` // attempts that got no status
	ErrorsBy     map[string]uint64 `json:"errors_by_stage,omitempty"`
	FirstError   string            `json:"first_error,omitempty"`
	NotStarted   uint64            `json:"not_started"`
	Late         uint64            `json:"late"` // started over load.StormLate behind schedule
	MaxLateMS    float64           `json:"max_late_ms"`

	// The storm's length, over all processes. SpanS is first to last
	// answered request sent; AnswerSpanS first to last answer received.
	// The server decides an upgrade between its request's sending and its
	// answer's arrival, so the span of its decisions lies between SpanLoS
	// (last request sent − first answer) and SpanHiS (last answer − first
	// request sent). AnswerSpanS is the closest to it the clients see: the
	// server answers in the same pass in which it decides, while a request
	// may queue at the server first (when it falls behind, its decisions
	// end later than the requests do).
	SpanS       float64 `json:"span_s"`
	AnswerSpanS float64 `json:"answer_span_s"`
	SpanLoS     float64 `json:"span_lo_s"`
	SpanHiS     float64 `json:"span_hi_s"`
	// Allowance is the bucket's: burst + connect rate × AnswerSpanS;
	// AllowanceLo and AllowanceHi are those of SpanLoS and SpanHiS.
	// Expected is what should be admitted: the allowance, or every
	// answered attempt if there were fewer; AdmittedOverAllowance is
	// Admitted over Expected.
	Allowance             float64 `json:"allowance"`
	AllowanceLo           float64 `json:"allowance_lo"`
	AllowanceHi           float64 `json:"allowance_hi"`
	Expected              float64 `json:"expected"`
	AdmittedOverAllowance float64 `json:"admitted_over_expected"`
	AttemptP50US          float64 `json:"attempt_p50_us"`
	AttemptP99US          float64 `json:"attempt_p99_us"`
	AttemptMaxUS          float64 `json:"attempt_max_us"`
	// Seconds are attempts and 101s per second of the schedule.
	Seconds []load.StormSecond `json:"seconds"`

	EchoConns int            `json:"echo_conns"`
	EchoRate  float64        `json:"echo_rate_per_s"`
	Echo      []echoPhaseRun `json:"echo"`
	// EchoRunqWaitS is the time the echo client's threads waited for a CPU
	// during the storm: its share of the echo latency that is not the
	// server's.
	EchoRunqWaitS float64 `json:"echo_client_runq_wait_s"`

	Server   stormServer `json:"server"`
	Problems []string    `json:"problems,omitempty"`
}

// echoPhaseRun is the echo connections' figures over one phase.
type echoPhaseRun struct {
	Phase      string  `json:"phase"`
	Seconds    float64 `json:"seconds"`
	Roundtrips uint64  `json:"roundtrips"`
	PerSecond  float64 `json:"roundtrips_per_s"`
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
	P999US     float64 `json:"p999_us"`
	MaxUS      float64 `json:"max_us"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
}

// stormServer is the gateway's own account of the storm: counter deltas
// from just before it to just after its last answer, and gauges after.
type stormServer struct {
	Accepted         float64            `json:"accepted"`          // gatecast_websocket_accepted_total
	AdmissionRefused map[string]float64 `json:"admission_refused"` // gatecast_admission_refused_total, non-zero reasons
	WebSocketRefused map[string]float64 `json:"websocket_refused"` // gatecast_websocket_refused_total, non-zero reasons
	CPUSeconds       float64            `json:"cpu_s"`
	// LoopBusyS is the time the event loops spent handling events rather
	// than waiting, summed over loops (gatecast_netpoll_loop_busy_seconds_total).
	LoopBusyS float64 `json:"loop_busy_s"`
	// RunqWaitS is the time the server's threads waited for a CPU: on a
	// machine shared with the clients (and anything else running), the
	// delay that is not the server's own doing.
	RunqWaitS    float64 `json:"runq_wait_s"`
	SocketsAfter float64 `json:"sockets_after"` // gatecast_websocket_sockets after the after phase
	OpenAfter    float64 `json:"open_after"`    // gatecast_websocket_connections_open likewise
}

var echoPhaseNames = []string{"before", "during", "after"}

func (r *stormRun) echoP99(phase string) float64 {
	for _, p := range r.Echo {
		if p.Phase == phase {
			return p.P99US
		}
	}
	return 0
}

// summarizeStorm merges the storm processes' results and the echo
// client's, and takes the server's counters m1 minus m0.
func summarizeStorm(f *stormFlags, storms []load.StormEvent, echo load.StormEvent, m0, m1 map[string]float64) stormRun {
	run := stormRun{Rate: f.rate, Duration: f.duration.Seconds(), ConnectRate: f.connectRate, Burst: f.burst, Procs: f.procs,
		Statuses: map[string]uint64{}, ErrorsBy: map[string]uint64{}, EchoConns: f.echoConns, EchoRate: f.echoRate}
	var lat load.Histogram
	var firstSent, lastSent, firstAns, lastAns int64
	for _, ev := range storms {
		run.Attempts += ev.Attempts
		for code, n := range ev.Statuses {
			run.Statuses[strconv.Itoa(code)] += n
			switch code {
			case 101:
				run.Admitted += n
			case 429:
				run.Refused429 += n
			default:
				run.Other += n
			}
		}
		for stage, n := range ev.Errors {
			run.ErrorsBy[stage] += n
			run.Errors += n
		}
		if run.FirstError == "" {
			run.FirstError = ev.FirstError
		}
		run.NoRetryAfter += ev.NoRetryAfter
		run.NotStarted += ev.NotStarted
		run.Late += ev.Late
		run.MaxLateMS = max(run.MaxLateMS, float64(ev.MaxLateUS)/1000)
		if ev.Latency != nil {
			lat.Merge(ev.Latency)
		}
		for i, s := range ev.Seconds {
			if i == len(run.Seconds) {
				run.Seconds = append(run.Seconds, load.StormSecond{})
			}
			run.Seconds[i].Attempts += s.Attempts
			run.Seconds[i].Admitted += s.Admitted
		}
		if ev.FirstSentNS != 0 {
			firstSent = minNonZero(firstSent, ev.FirstSentNS)
			lastSent = max(lastSent, ev.LastSentNS)
			firstAns = minNonZero(firstAns, ev.FirstAnswerNS)
			lastAns = max(lastAns, ev.LastAnswerNS)
		}
	}
	run.SpanS = float64(lastSent-firstSent) / 1e9
	run.AnswerSpanS = float64(lastAns-firstAns) / 1e9
	run.SpanLoS = max(0, float64(lastSent-firstAns)/1e9)
	run.SpanHiS = float64(lastAns-firstSent) / 1e9
	run.SentPerS = ratio(float64(run.Attempts), run.SpanS)
	if lastAns > 0 {
		allow := func(span float64) float64 { return float64(f.burst) + f.connectRate*span }
		run.Allowance, run.AllowanceLo, run.AllowanceHi = allow(run.AnswerSpanS), allow(run.SpanLoS), allow(run.SpanHiS)
		// A storm smaller than the allowance should be admitted whole.
		run.Expected = math.Min(run.Allowance, float64(run.Admitted+run.Refused429+run.Other))
		run.AdmittedOverAllowance = float64(run.Admitted) / run.Expected
	}
	run.AttemptP50US, run.AttemptP99US, run.AttemptMaxUS = us(lat.Percentile(0.5)), us(lat.Percentile(0.99)), us(lat.Max())

	for i, ph := range echo.Phases {
		name := strconv.Itoa(i)
		if i < len(echoPhaseNames) {
			name = echoPhaseNames[i]
		}
		p := echoPhaseRun{Phase: name, Seconds: ph.Seconds, Roundtrips: ph.Roundtrips, PerSecond: ratio(float64(ph.Roundtrips), ph.Seconds),
			Errors: ph.Errors, FirstError: ph.FirstError}
		if ph.Latency != nil {
			p.P50US, p.P99US, p.P999US, p.MaxUS = us(ph.Latency.Percentile(0.5)), us(ph.Latency.Percentile(0.99)), us(ph.Latency.Percentile(0.999)), us(ph.Latency.Max())
		}
		if ph.Errors > 0 {
			run.Problems = append(run.Problems, fmt.Sprintf("%d echo connections failed %s the storm: %s", ph.Errors, name, ph.FirstError))
		}
		run.Echo = append(run.Echo, p)
	}

	run.Server.Accepted = m1["gatecast_websocket_accepted_total"] - m0["gatecast_websocket_accepted_total"]
	run.Server.LoopBusyS = m1["gatecast_netpoll_loop_busy_seconds_total"] - m0["gatecast_netpoll_loop_busy_seconds_total"]
	run.Server.AdmissionRefused = labelDeltas(m0, m1, "gatecast_admission_refused_total", "reason")
	run.Server.WebSocketRefused = labelDeltas(m0, m1, "gatecast_websocket_refused_total", "reason")

	if run.Errors > 0 {
		run.Problems = append(run.Problems, fmt.Sprintf("%d attempts got no answer: %s", run.Errors, run.FirstError))
	}
	if run.NotStarted > 0 {
		run.Problems = append(run.Problems, fmt.Sprintf("%d attempts were never started (the clients fell behind)", run.NotStarted))
	}
	if lastAns == 0 {
		run.Problems = append(run.Problems, "no attempt was answered")
	}
	return run
}

func minNonZero(a, b int64) int64 {
	if a == 0 {
		return b
	}
	return min(a, b)
}

// labelDeltas returns, for each value of label on the series of name, how
// much it grew from m0 to m1, leaving out those that did not.
func labelDeltas(m0, m1 map[string]float64, name, label string) map[string]float64 {
	d := map[string]float64{}
	prefix := name + "{" + label + `="`
	for series, v := range m1 {
		rest, ok := strings.CutPrefix(series, prefix)
		if !ok {
			continue
		}
		value, _, ok := strings.Cut(rest, `"`)
		if delta := v - m0[series]; ok && delta != 0 {
			d[value] = delta
		}
	}
	return d
}

func printStorm(w io.Writer, r stormRun) {
	fmt.Fprintf(w, "Connect storm: %g upgrade attempts/s for %gs against connect_rate %g/s, burst %d; %d echo connections at %g round trips/s\n",
		r.Rate, r.Duration, r.ConnectRate, r.Burst, r.EchoConns, r.EchoRate)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "attempts\tsent/s\tadmitted 101\trefused 429\tother status\terrors\tlate\tspan s\tallowance\tadmitted/expected\tattempt p50 µs\tp99 µs\tmax µs\t")
	fmt.Fprintf(tw, "%d\t%.0f\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.1f\t%.4f\t%.0f\t%.0f\t%.0f\t\n",
		r.Attempts, r.SentPerS, r.Admitted, r.Refused429, r.Other, r.Errors, r.Late, r.AnswerSpanS, r.Allowance, r.AdmittedOverAllowance,
		r.AttemptP50US, r.AttemptP99US, r.AttemptMaxUS)
	tw.Flush()
	codes := slices.Sorted(maps.Keys(r.Statuses))
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s: %d", c, r.Statuses[c]))
	}
	fmt.Fprintf(w, "statuses: %s; 429 without Retry-After: %d; not started: %d; latest start %.1f ms behind schedule\n",
		strings.Join(parts, ", "), r.NoRetryAfter, r.NotStarted, r.MaxLateMS)
	if r.Allowance > 0 {
		verdict := "within 1%"
		if math.Abs(r.AdmittedOverAllowance-1) > 0.01 {
			verdict = "OFF by more than 1%"
		}
		fmt.Fprintf(w, "admitted %d, expected %.1f: the allowance %.1f (%d + %g/s × %.3f s, first to last answer)",
			r.Admitted, r.Expected, r.Allowance, r.Burst, r.ConnectRate, r.AnswerSpanS)
		if r.Expected < r.Allowance {
			fmt.Fprint(w, ", or every answered attempt, fewer")
		}
		fmt.Fprintf(w, ": %+.2f%%, %s\n", (r.AdmittedOverAllowance-1)*100, verdict)
		inside := "inside"
		if float64(r.Admitted) < math.Floor(math.Min(r.AllowanceLo, r.Expected)) || float64(r.Admitted) > r.AllowanceHi+1 {
			inside = "OUTSIDE"
		}
		fmt.Fprintf(w, "the server's decisions spanned %.3f–%.3f s (requests sent over %.3f s), an allowance of %.1f–%.1f: admitted is %s\n",
			r.SpanLoS, r.SpanHiS, r.SpanS, r.AllowanceLo, r.AllowanceHi, inside)
	}
	var secs []string
	for _, s := range r.Seconds {
		secs = append(secs, fmt.Sprintf("%d/%d", s.Admitted, s.Attempts))
	}
	fmt.Fprintf(w, "admitted/attempts per second of the storm: %s\n", strings.Join(secs, " "))
	fmt.Fprintf(w, "server: accepted %.0f, admission refused %s, websocket refused %s; during the storm CPU %.2f s, event loops busy %.2f s, waiting for a CPU %.2f s; open after %.0f, sockets after %.0f\n",
		r.Server.Accepted, formatCounts(r.Server.AdmissionRefused), formatCounts(r.Server.WebSocketRefused), r.Server.CPUSeconds, r.Server.LoopBusyS, r.Server.RunqWaitS, r.Server.OpenAfter, r.Server.SocketsAfter)

	fmt.Fprintln(w)
	fmt.Fprintf(w, "Echo on the connections open before the storm (the echo client waited %.2f s for a CPU during the storm)\n", r.EchoRunqWaitS)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tseconds\troundtrips\troundtrips/s\tp50 µs\tp99 µs\tp99.9 µs\tmax µs\terrors\t")
	for _, p := range r.Echo {
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t\n", p.Phase, p.Seconds, p.Roundtrips, p.PerSecond, p.P50US, p.P99US, p.P999US, p.MaxUS, p.Errors)
	}
	tw.Flush()

	out := struct {
		Benchmark string   `json:"benchmark"`
		Run       stormRun `json:"run"`
	}{Benchmark: "connect-storm", Run: r}
	j, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", j)
}

// formatCounts writes counts by name as "name=N, ..." in name order, or
// "none".
func formatCounts(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// runqWait returns how long the threads of process pid have waited for a
// CPU (the second field of /proc/PID/task/TID/schedstat), summed over the
// threads alive now; 0 where the kernel does not say.
func runqWait(pid int) time.Duration {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// metrics reads every series of the server's /metrics, keyed by name and
// labels as written ("name{label=\"value\"}").
func (p *serverProc) metrics(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.admin+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s's metrics: %w", p.name, err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// stormChild is a storm-client process seen from the orchestrator. kill is
// idempotent; call it on every path.
type stormChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan load.StormEvent // closed when the child's output ends
	done   chan struct{}        // closed once the child is reaped
	err    error                // how it exited; set before done closes
}

func startStormChild(cmd *exec.Cmd) (*stormChild, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	load.KillWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &stormChild{cmd: cmd, stdin: stdin, events: make(chan load.StormEvent, 4), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev load.StormEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Event == "" {
				fmt.Fprintf(os.Stderr, "storm-client %d: %s\n", cmd.Process.Pid, sc.Bytes())
				continue
			}
			select {
			case c.events <- ev:
			default:
				fmt.Fprintf(os.Stderr, "storm-client %d: event dropped, nobody reads: %s\n", cmd.Process.Pid, sc.Bytes())
			}
		}
		io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.events)
		close(c.done)
	}()
	return c, nil
}

// next returns the child's next event, which must be of the given kind.
func (c *stormChild) next(ctx context.Context, kind string) (load.StormEvent, error) {
	select {
	case ev, ok := <-c.events:
		if !ok {
			<-c.done
			return ev, fmt.Errorf("storm-client %d exited before its %s event: %v", c.cmd.Process.Pid, kind, c.err)
		}
		if ev.Event != kind {
			return ev, fmt.Errorf("storm-client %d sent a %s event, want %s", c.cmd.Process.Pid, ev.Event, kind)
		}
		return ev, nil
	case <-ctx.Done():
		return load.StormEvent{}, fmt.Errorf("waiting for storm-client %d's %s event: %w", c.cmd.Process.Pid, kind, ctx.Err())
	}
}

// line writes a line to the child's control input: start, or next phase.
func (c *stormChild) line() error {
	_, err := io.WriteString(c.stdin, "go\n")
	return err
}

func (c *stormChild) kill() { load.KillChild(c.cmd, c.stdin, c.done) }

// runStormClient is one storm or paced-echo client process (what
// connect-storm starts).
func runStormClient(ctx context.Context, args []string) error {
	var (
		mode    string
		sources string
		sc      load.StormConfig
		ec      load.PacedEchoConfig
	)
	fs := flag.NewFlagSet("gatecast-bench storm-client", flag.ContinueOnError)
	fs.StringVar(&mode, "mode", "storm", "storm (upgrade attempts) or echo (paced echo loop)")
	fs.StringVar(&sc.URL, "url", "", "server URL, ws://HOST:PORT/")
	fs.Float64Var(&sc.Rate, "rate", 0, "storm: attempts per second; echo: round trips per second over all connections")
	fs.DurationVar(&sc.Duration, "duration", 0, "storm: length of the schedule (default 10s)")
	fs.StringVar(&sources, "sources", "", "storm: local IPs to dial from in turn, comma-separated")
	fs.IntVar(&sc.InFlight, "in-flight", 0, "storm: attempts open at once, at most (default 1000)")
	fs.DurationVar(&sc.Timeout, "timeout", 0, "storm: bound on one attempt (default 5s)")
	fs.StringVar(&ec.Source, "source", "", "echo: local IP to dial from")
	fs.IntVar(&ec.Conns, "conns", 0, "echo: connections to open")
	fs.IntVar(&ec.Size, "size", 0, "echo: payload bytes (default 64)")
	fs.DurationVar(&ec.MaxDuration, "max-duration", 0, "echo: longest loop if standard input never closes (default 10m)")
	fs.DurationVar(&ec.OpenTimeout, "open-timeout", 0, "echo: time to open the connections (default 60s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch mode {
	case "storm":
		if sources != "" {
			sc.Sources = strings.Split(sources, ",")
		}
		return load.RunStorm(ctx, sc, os.Stdin, os.Stdout)
	case "echo":
		ec.URL, ec.Rate = sc.URL, sc.Rate
		return load.RunPacedEcho(ctx, ec, os.Stdin, os.Stdout)
	}
	return fmt.Errorf("--mode %q: use storm or echo", mode)
}
