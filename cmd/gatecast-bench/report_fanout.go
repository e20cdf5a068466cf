package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

func printFanOut(w io.Writer, runs []fanOutRun) {
	fmt.Fprintln(w, "Fan-out: one topic, publish to receive at every member")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tmembers\tsize\trate/s\tmessages\tdeliveries/s\tp50 µs\tp99 µs\tp99.9 µs\tmax µs\tmissed\tmembers lost\tserver CPU s\tdeliveries/server-CPU-s\tallocs/delivery\t")
	for _, r := range runs {
		rate := "flat"
		if r.Rate > 0 {
			rate = fmt.Sprintf("%g", r.Rate)
		}
		allocs := "-"
		if r.AllocsPerDelivery >= 0 {
			allocs = fmt.Sprintf("%.3f", r.AllocsPerDelivery)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%d\t%.2f\t%.0f\t%s\t\n",
			r.Target, r.Members, r.Size, rate, r.Published, r.PerSecond, r.P50US, r.P99US, r.P999US, r.MaxUS,
			r.Missed, r.LostConns, r.ServerCPU, r.PerCPUSecond, allocs)
	}
	tw.Flush()

	out := struct {
		Benchmark  string      `json:"benchmark"`
		Runs       []fanOutRun `json:"runs"`
		Throughput float64     `json:"deliveries_gatecast_over_baseline,omitempty"`
		PerCPU     float64     `json:"deliveries_per_cpu_gatecast_over_baseline,omitempty"`
		P99        float64     `json:"p99_gatecast_over_baseline,omitempty"`
	}{Benchmark: "fanout", Runs: runs}
	name := func(r fanOutRun) string { return r.Target }
	b, okb := find(runs, targetBaseline, name)
	g, okg := find(runs, targetGatecast, name)
	if okb && okg {
		out.Throughput = ratio(g.PerSecond, b.PerSecond)
		out.PerCPU = ratio(g.PerCPUSecond, b.PerCPUSecond)
		out.P99 = ratio(g.P99US, b.P99US)
		fmt.Fprintf(w, "\ngatecast/baseline: %.2fx the deliveries per second, %.2fx the deliveries per server CPU-second, %.2fx the p99 latency\n",
			out.Throughput, out.PerCPU, out.P99)
	}
	j, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", j)
}

func printRoute(w io.Writer, runs []routeRun) {
	fmt.Fprintln(w, "Route: closed loop through the gateway's $default route to a NATS backend, against NATS request/reply to the same backend")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\tclients\tsize\troundtrips/s\tp50 µs\tp99 µs\tp99.9 µs\tmax µs\terrors\tserver CPU s\tRT/server-CPU-s\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%.2f\t%.0f\t\n",
			r.Path, r.Conns, r.Size, r.PerSecond, r.P50US, r.P99US, r.P999US, r.MaxUS, r.Errors, r.ServerCPU, r.PerCPUSecond)
	}
	tw.Flush()

	out := struct {
		Benchmark   string     `json:"benchmark"`
		Runs        []routeRun `json:"runs"`
		OverheadP50 float64    `json:"overhead_p50_us"`
		OverheadP99 float64    `json:"overhead_p99_us"`
		Throughput  float64    `json:"throughput_gateway_over_direct,omitempty"`
	}{Benchmark: "route", Runs: runs}
	name := func(r routeRun) string { return r.Path }
	d, okd := find(runs, pathDirect, name)
	g, okg := find(runs, pathGateway, name)
	if okd && okg {
		out.OverheadP50, out.OverheadP99 = g.P50US-d.P50US, g.P99US-d.P99US
		out.Throughput = ratio(g.PerSecond, d.PerSecond)
		fmt.Fprintf(w, "\ngateway overhead over direct NATS: p50 %+.0f µs, p99 %+.0f µs; %.2fx the round trips per second\n",
			out.OverheadP50, out.OverheadP99, out.Throughput)
	}
	j, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", j)
}
