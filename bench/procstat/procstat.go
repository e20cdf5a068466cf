package procstat

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Stat is a snapshot of a process.
type Stat struct {
	RSS     uint64 // resident set size, bytes
	Threads int    // OS threads
}

// Read returns pid's current RSS and thread count.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Stat{}, err
	}
	return parseStatus(b)
}

// parseStatus reads the VmRSS and Threads lines of a /proc/PID/status file.
func parseStatus(b []byte) (Stat, error) {
	var st Stat
	var haveRSS, haveThreads bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		fields := bytes.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch string(key) {
		case "VmRSS": // "VmRSS:	   12345 kB"
			kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
			if err != nil {
				return st, fmt.Errorf("procstat: VmRSS: %w", err)
			}
			st.RSS, haveRSS = kb<<10, true
		case "Threads":
			n, err := strconv.Atoi(string(fields[0]))
			if err != nil {
				return st, fmt.Errorf("procstat: Threads: %w", err)
			}
			st.Threads, haveThreads = n, true
		}
	}
	if !haveRSS || !haveThreads {
		return st, fmt.Errorf("procstat: status has no VmRSS or Threads line (a zombie process?)")
	}
	return st, nil
}

// FDs returns how many file descriptors pid has open. A server's count
// covers its connections, so it checks a client's claim that they are open.
func FDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents), err
}

// settleTolerance is the RSS change that still counts as settled: the
// larger of 256 KiB and 0.5% of RSS, since a Go process's RSS never stops
// moving entirely (the scavenger returns pages, timers allocate).
func settleTolerance(rss uint64) uint64 { return max(256<<10, rss/200) }

// settlePoll is how often Settle reads RSS.
const settlePoll = 100 * time.Millisecond

// Settle waits until pid's RSS has stayed within a small tolerance for
// quiet, and returns the last reading. If ctx ends first, it returns the
// last reading with settled false and no error: an unsettled figure is
// still a figure, to be reported as such.
func Settle(ctx context.Context, pid int, quiet time.Duration) (st Stat, settled bool, err error) {
	st, err = Read(pid)
	if err != nil {
		return st, false, err
	}
	ref, since := st.RSS, time.Now()
	tick := time.NewTicker(settlePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return st, false, nil
		case <-tick.C:
		}
		st, err = Read(pid)
		if err != nil {
			return st, false, err
		}
		diff := max(st.RSS, ref) - min(st.RSS, ref)
		if diff > settleTolerance(ref) {
			ref, since = st.RSS, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return st, true, nil
		}
	}
}

// clockTicks is Linux's USER_HZ, the unit of CPU times in /proc/PID/stat.
// It is 100 on every architecture Go supports, and reading it otherwise
// would need cgo (sysconf).
const clockTicks = 100

// CPUTime returns the user plus system CPU time pid has used so far.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseCPUTime(b)
}

// parseCPUTime reads utime and stime, fields 14 and 15 of /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces, so the
// fields are counted from the last ')'.
func parseCPUTime(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("procstat: stat has no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("procstat: stat has %d fields after the name, want at least 13", len(f))
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("procstat: stat utime %q stime %q are not numbers", f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
