package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gatecast/gatecast/bench/load"
)

func histogramOf(us ...int) *load.Histogram {
	h := new(load.Histogram)
	for _, v := range us {
		h.Record(time.Duration(v) * time.Microsecond)
	}
	return h
}

func TestSummarizeAndPrintStorm(t *testing.T) {
	f := &stormFlags{rate: 5000, duration: 10 * time.Second, connectRate: 500, burst: 500, procs: 2, echoConns: 100, echoRate: 1000}
	const t0 = int64(1_700_000_000_000_000_000)
	storms := []load.StormEvent{
		{Event: "result", Attempts: 25000, Statuses: map[int]uint64{101: 2750, 429: 22249}, Errors: map[string]uint64{"read": 1},
			FirstError: "read: connection reset", NoRetryAfter: 3, Late: 7, MaxLateUS: 2500,
			FirstSentNS: t0, LastSentNS: t0 + 9_999_000_000, FirstAnswerNS: t0 + 400_000, LastAnswerNS: t0 + 9_999_500_000,
			Seconds: []load.StormSecond{{Attempts: 2500, Admitted: 500}, {Attempts: 2500, Admitted: 250}}, Latency: histogramOf(300, 500, 900)},
		{Event: "result", Attempts: 25000, Statuses: map[int]uint64{101: 2749, 429: 22250, 503: 1},
			FirstSentNS: t0 + 100_000, LastSentNS: t0 + 10_000_000_000, FirstAnswerNS: t0 + 500_000, LastAnswerNS: t0 + 10_000_400_000,
			Seconds: []load.StormSecond{{Attempts: 2500, Admitted: 499}, {Attempts: 2500, Admitted: 250}, {Attempts: 3}}, Latency: histogramOf(400)},
	}
	echo := load.StormEvent{Event: "result", Phases: []load.EchoPhase{
		{Roundtrips: 3000, Seconds: 3, Latency: histogramOf(60, 70, 700)},
		{Roundtrips: 10000, Seconds: 10, Latency: histogramOf(120, 7000), Errors: 1, FirstError: "EOF"},
	}}
	m0 := map[string]float64{
		"gatecast_websocket_accepted_total":                            101,
		`gatecast_admission_refused_total{reason="connect_rate"}`:      5,
		`gatecast_admission_refused_total{reason="ip_rate"}`:           0,
		`gatecast_websocket_refused_total{reason="handshake_timeout"}`: 2,
	}
	m1 := map[string]float64{
		"gatecast_websocket_accepted_total":                            50101,
		`gatecast_admission_refused_total{reason="connect_rate"}`:      44504,
		`gatecast_admission_refused_total{reason="ip_rate"}`:           0,
		`gatecast_websocket_refused_total{reason="handshake_timeout"}`: 3,
	}

	r := summarizeStorm(f, storms, echo, m0, m1)
	if r.Attempts != 50000 || r.Admitted != 5499 || r.Refused429 != 44499 || r.Other != 1 || r.Errors != 1 || r.NoRetryAfter != 3 {
		t.Errorf("attempts %d, admitted %d, 429 %d, other %d, errors %d, no Retry-After %d", r.Attempts, r.Admitted, r.Refused429, r.Other, r.Errors, r.NoRetryAfter)
	}
	// Requests went out over [t0, t0+10 s], answers came over
	// [t0+0.4 ms, t0+10.0004 s].
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(r.SpanS, 10) || !near(r.AnswerSpanS, 10) || !near(r.SpanLoS, 9.9996) || !near(r.SpanHiS, 10.0004) {
		t.Errorf("spans %v (sent), %v (answers), %v..%v (bounds); want 10, 10, 9.9996..10.0004", r.SpanS, r.AnswerSpanS, r.SpanLoS, r.SpanHiS)
	}
	if !near(r.Allowance, 5500) || !near(r.Expected, 5500) || !near(r.AllowanceLo, 5499.8) || !near(r.AllowanceHi, 5500.2) || !near(r.AdmittedOverAllowance, 5499.0/5500) {
		t.Errorf("allowance %v (%v..%v), expected %v, ratio %v; want 5500 (5499.8..5500.2), 5500, %v",
			r.Allowance, r.AllowanceLo, r.AllowanceHi, r.Expected, r.AdmittedOverAllowance, 5499.0/5500)
	}
	if len(r.Seconds) != 3 || r.Seconds[0] != (load.StormSecond{Attempts: 5000, Admitted: 999}) || r.Seconds[2].Attempts != 3 {
		t.Errorf("seconds %v", r.Seconds)
	}
	if r.Server.Accepted != 50000 || !maps.Equal(r.Server.AdmissionRefused, map[string]float64{"connect_rate": 44499}) ||
		!maps.Equal(r.Server.WebSocketRefused, map[string]float64{"handshake_timeout": 1}) {
		t.Errorf("server %+v", r.Server)
	}
	if len(r.Echo) != 2 || r.Echo[0].Phase != "before" || r.Echo[1].Phase != "during" || r.Echo[1].Errors != 1 {
		t.Errorf("echo %+v", r.Echo)
	}
	if len(r.Problems) != 2 { // the failed echo connection and the unanswered attempt
		t.Errorf("problems %q, want 2", r.Problems)
	}

	var out bytes.Buffer
	printStorm(&out, r)
	text := out.String()
	for _, want := range []string{"admitted 5499, expected 5500.0", "-0.02%, within 1%", "admitted is inside", "101: 5499", "503: 1",
		"connect_rate=44499", "handshake_timeout=1", "999/5000 500/5000 0/3", "before", "during"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var j struct {
		Benchmark string   `json:"benchmark"`
		Run       stormRun `json:"run"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &j); err != nil || j.Benchmark != "connect-storm" || j.Run.Admitted != 5499 {
		t.Errorf("JSON line %q: %v", lines[len(lines)-1], err)
	}
}

func TestSummarizeSmallStormExpectsEveryAttempt(t *testing.T) {
	f := &stormFlags{rate: 800, duration: time.Second, connectRate: 500, burst: 500, procs: 1}
	storms := []load.StormEvent{{Event: "result", Attempts: 800, Statuses: map[int]uint64{101: 800},
		FirstSentNS: 1, LastSentNS: 1 + 999_000_000, FirstAnswerNS: 1 + 100_000, LastAnswerNS: 1 + 999_100_000, Latency: histogramOf(100)}}
	r := summarizeStorm(f, storms, load.StormEvent{}, nil, nil)
	if r.Expected != 800 || r.AdmittedOverAllowance != 1 {
		t.Errorf("allowance %v, expected %v, ratio %v; want every one of the 800 attempts", r.Allowance, r.Expected, r.AdmittedOverAllowance)
	}
	var out bytes.Buffer
	printStorm(&out, r)
	if !strings.Contains(out.String(), "or every answered attempt, fewer") {
		t.Errorf("report does not say why it expects fewer than the allowance:\n%s", out.String())
	}
}

func TestStormConfigKeepsTheDefaultRate(t *testing.T) {
	if c := stormConfig(defaultConnectRate, defaultConnectBurst); strings.Contains(c, "admission") || !strings.Contains(c, "integration: echo") {
		t.Errorf("default rate: config\n%s", c)
	}
	if c := stormConfig(100, 20); !strings.Contains(c, "per_second: 100\n    burst: 20\n") {
		t.Errorf("100/s burst 20: config\n%s", c)
	}
}
