// Package bench holds gatecast's Go benchmarks, which measure a server in
// this process while load clients run in child processes (the test binary
// re-executed in client mode, see bench/load):
//
//	go test -run='^$' -bench=. -benchtime=1x ./bench/            # smoke run, seconds
//	go test -run='^$' -bench='Idle|Echo' ./bench/                # measure
//	go test -run='^$' -bench=FanOut -benchtime=200x ./bench/     # 200 messages
//	go test -run='^$' -bench=RouteRoundTrip -benchtime=300000x ./bench/
//
// BenchmarkIdleConns reports heap-bytes/conn, stack-bytes/conn and
// goroutines/conn of a server holding idle connections; BenchmarkEcho
// reports roundtrips/s, p50-µs and p99-µs of a closed echo loop. Each runs
// against every server kind in the servers table of servers_test.go, named
// server=KIND so that benchstat can compare kinds. BenchmarkFanOut
// publishes to one topic with 10,000 members (gatecast through NATS, the
// baseline through its chat hub) and reports deliveries/s,
// publish-to-receive latency, lost deliveries and the server's allocations
// and CPU per delivery. BenchmarkRouteRoundTrip compares a round trip
// through gatecast's $default route to a NATS backend with NATS
// request/reply to the same backend.
//
// The package has no code of its own: the load clients are in bench/load,
// the baseline server in bench/baseline, and the gatecast-bench command runs
// the same measurements against server processes (RSS instead of heap).
package bench
