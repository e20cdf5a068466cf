package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	"github.com/gatecast/gatecast/netpoll"

	"github.com/gatecast/gatecast/bench/load"
)

// clientEnv set in the environment makes the test binary a load client
// instead of running tests: the benchmarks start their clients so.
const clientEnv = "GATECAST_BENCH_CLIENT"

func TestMain(m *testing.M) {
	if os.Getenv(clientEnv) != "" {
		os.Exit(clientMain(os.Args[1:]))
	}
	if _, err := netpoll.RaiseFDLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "raising the file descriptor limit:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// clientMain is what the gatecast-bench client command does.
func clientMain(args []string) int {
	cfg, err := load.ParseClientArgs("client", args, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := load.RunClient(ctx, cfg, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// newFleet returns a fleet of clients that are this test binary in client
// mode, killed when the benchmark ends.
func newFleet(tb testing.TB) *load.Fleet {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	f := &load.Fleet{Command: func(cfg load.ClientConfig) *exec.Cmd {
		cmd := exec.Command(self, cfg.Args()...)
		cmd.Env = append(os.Environ(), clientEnv+"=1")
		return cmd
	}}
	tb.Cleanup(f.Kill)
	return f
}

// runWorkers starts the workers fleet.Open made (WaitStart) and waits for
// their results. With b set, only that is timed, with size bytes a round
// and allocations reported.
func runWorkers(ctx context.Context, tb testing.TB, b *testing.B, ws []*load.Worker, size int) []load.Event {
	tb.Helper()
	if b != nil {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		b.ResetTimer()
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			tb.Fatal(err)
		}
	}
	evs, err := load.Finish(ctx, ws)
	if b != nil {
		b.StopTimer()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}
