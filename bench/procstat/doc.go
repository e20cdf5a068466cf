// Package procstat reads what a capacity planner asks of a running process
// from Linux's /proc: its resident memory (VmRSS), its threads, its open
// file descriptors and the CPU time it has used; and it waits for the
// resident memory to settle after a change of load.
//
//	st, err := procstat.Read(pid)
//	fmt.Println(st.RSS, st.Threads)
//	st, settled, err := procstat.Settle(ctx, pid, time.Second)
//	cpu, err := procstat.CPUTime(pid)
//
// Concurrency: every function is safe to call from any goroutine. The
// figures are read from /proc and so work only on Linux.
package procstat
