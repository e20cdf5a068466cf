// Package bench holds gatecast's Go benchmarks, which measure a server in
// this process while load clients run in child processes (the test binary
// re-executed in client mode, see bench/load):
//
//	go test -run='^$' -bench=. ./bench/                 # measure
//	go test -run='^$' -bench=. -benchtime=1x ./bench/   # smoke run, seconds
//
// BenchmarkIdleConns reports heap-bytes/conn, stack-bytes/conn and
// goroutines/conn of a server holding idle connections; BenchmarkEcho
// reports roundtrips/s, p50-µs and p99-µs of a closed echo loop. Each runs
// against every server kind in the servers table of servers_test.go, named
// server=KIND so that benchstat can compare kinds.
//
// The package has no code of its own: the load clients are in bench/load,
// the baseline server in bench/baseline, and the gatecast-bench command runs
// the same measurements against server processes (RSS instead of heap).
package bench
