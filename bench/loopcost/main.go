//go:build linux

// Command loopcost measures the cost of one small (64-byte) write(2) to a TCP loopback
// socket when fanning out to N sockets, and how much of it is the receiver's
// wakeup.
//
// The sender (this process) holds N accepted sockets; a child process (the
// same binary, -role=receiver) holds the N client ends. Per case a fresh child
// and a fresh listener are used.
//
// Usage: go run ./bench/loopcost [-n 10000] [-rounds 5] [-warm 2] [-cases all|name,name]
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CLOCK_MONOTONIC in ns via the vDSO; comparable across the two processes.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

var (
	flagRole     = flag.String("role", "sender", "sender|receiver (internal)")
	flagN        = flag.Int("n", 10000, "number of sockets")
	flagRounds   = flag.Int("rounds", 5, "measured rounds per case")
	flagWarm     = flag.Int("warm", 2, "warm-up rounds per case (not reported)")
	flagCases    = flag.String("cases", "all", "comma-separated case names, or all")
	flagSize     = flag.Int("size", 64, "bytes per write")
	flagVerbose  = flag.Bool("v", false, "print every round")
	flagGap      = flag.Duration("gap", 30*time.Millisecond, "idle gap between rounds")
	flagPort     = flag.Int("port", 0, "(receiver) port to dial")
	flagMode     = flag.String("mode", "sleep", "(receiver) sleep|epollidle|epoll")
	flagRThreads = flag.Int("rthreads", 1, "(receiver) epoll threads")
	flagPinCPU   = flag.Int("pincpu", -1, "(receiver) pin whole process to this CPU")
)

func main() {
	flag.Parse()
	raiseNofile()
	if *flagRole == "receiver" {
		receiver()
		return
	}
	sender()
}

func raiseNofile() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		panic(err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		panic(err)
	}
}

// pinProcess sets the affinity of every existing thread of this process;
// threads created later inherit it.
func pinProcess(cpus ...int) {
	var set unix.CPUSet
	set.Zero()
	for _, c := range cpus {
		set.Set(c)
	}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		panic(err)
	}
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			fmt.Fprintf(os.Stderr, "setaffinity %d: %v\n", tid, err)
		}
	}
}

func clockNs(id int32) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

type rus struct{ cpu, nvcsw, nivcsw int64 }

func getRusage(who int) rus {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		panic(err)
	}
	return rus{ru.Utime.Nano() + ru.Stime.Nano(), ru.Nvcsw, ru.Nivcsw}
}

// ---------------------------------------------------------------- receiver

const reportMagic = 0x57434f5354

func receiver() {
	n := *flagN
	if *flagPinCPU >= 0 {
		pinProcess(*flagPinCPU)
	}
	debug.SetGCPercent(-1)
	fds := make([]int, n)
	for i := 0; i < n; i++ {
		s, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			panic(fmt.Sprintf("socket %d: %v", i, err))
		}
		sa := &unix.SockaddrInet4{Port: *flagPort, Addr: [4]byte{127, 0, 0, 1}}
		if err := unix.Connect(s, sa); err != nil {
			panic(fmt.Sprintf("connect %d: %v", i, err))
		}
		unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(i))
		if _, err := unix.Write(s, b[:]); err != nil {
			panic(err)
		}
		unix.SetNonblock(s, true)
		fds[i] = s
	}
	maxfd := 0
	for _, fd := range fds {
		if fd > maxfd {
			maxfd = fd
		}
	}
	idx := make([]int32, maxfd+1)
	for i, fd := range fds {
		idx[fd] = int32(i)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	var epfd int
	if *flagMode != "sleep" {
		var err error
		epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			panic(err)
		}
		for _, fd := range fds {
			ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(fd)}
			if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
				panic(err)
			}
		}
	}
	fmt.Fprintln(out, "READY")
	out.Flush()

	if *flagMode == "epoll" {
		ts := make([]int64, n)
		var count, waits, events atomic.Int64
		lastCPU := clockNs(unix.CLOCK_PROCESS_CPUTIME_ID)
		lastRU := getRusage(unix.RUSAGE_SELF)
		report := func() {
			cpu := clockNs(unix.CLOCK_PROCESS_CPUTIME_ID)
			ru := getRusage(unix.RUSAGE_SELF)
			hdr := []int64{reportMagic, cpu - lastCPU, ru.nvcsw - lastRU.nvcsw, ru.nivcsw - lastRU.nivcsw, waits.Swap(0), events.Swap(0)}
			lastCPU, lastRU = cpu, ru
			binary.Write(out, binary.LittleEndian, hdr)
			binary.Write(out, binary.LittleEndian, ts)
			out.Flush()
		}
		for t := 0; t < *flagRThreads; t++ {
			go func() {
				runtime.LockOSThread()
				evs := make([]unix.EpollEvent, 512)
				buf := make([]byte, 4096)
				for {
					k, err := unix.EpollWait(epfd, evs, -1)
					if err == unix.EINTR {
						continue
					}
					if err != nil {
						panic(err)
					}
					waits.Add(1)
					events.Add(int64(k))
					for _, ev := range evs[:k] {
						fd := int(ev.Fd)
						r, err := unix.Read(fd, buf)
						if r <= 0 {
							if err != unix.EAGAIN {
								fmt.Fprintf(os.Stderr, "read fd %d: %d %v\n", fd, r, err)
							}
							continue
						}
						ts[idx[fd]] = nanotime()
						if count.Add(int64(r)) == int64(n**flagSize) {
							count.Store(0)
							report()
						}
					}
				}
			}()
		}
	}
	// Hold the fds until the sender closes our stdin.
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// ---------------------------------------------------------------- sender

type caseCfg struct {
	name     string
	writers  int
	recv     string // sleep | epollidle | epoll
	rthreads int
	pin      bool // sender on CPU0, receiver on CPU1
	stamp    bool // record a timestamp before every write
	raw      bool // RawSyscall instead of unix.Write (no Go entersyscall)
	uring    bool // io_uring IORING_OP_SEND batches (4096 per io_uring_enter)
}

var allCases = []caseCfg{
	{name: "a1-noread-1w", writers: 1, recv: "sleep"},
	{name: "a2-noread-2w", writers: 2, recv: "sleep"},
	{name: "a1r-noread-1w-raw", writers: 1, recv: "sleep", raw: true},
	{name: "u1-noread-1w-uring", writers: 1, recv: "sleep", uring: true},
	{name: "e1-epollidle-1w", writers: 1, recv: "epollidle"},
	{name: "b11-epoll1t-1w", writers: 1, recv: "epoll", rthreads: 1},
	{name: "ub11-epoll1t-1w-uring", writers: 1, recv: "epoll", rthreads: 1, uring: true},
	{name: "b12-epoll1t-2w", writers: 2, recv: "epoll", rthreads: 1},
	{name: "b21-epoll2t-1w", writers: 1, recv: "epoll", rthreads: 2},
	{name: "b22-epoll2t-2w", writers: 2, recv: "epoll", rthreads: 2},
	{name: "c11-pin-epoll1t-1w", writers: 1, recv: "epoll", rthreads: 1, pin: true},
	{name: "c21-pin-epoll2t-1w", writers: 1, recv: "epoll", rthreads: 2, pin: true},
	{name: "ca1-pin-noread-1w", writers: 1, recv: "sleep", pin: true},
	{name: "ce1-pin-epollidle-1w", writers: 1, recv: "epollidle", pin: true},
	{name: "s11-epoll1t-1w-stamp", writers: 1, recv: "epoll", rthreads: 1, stamp: true},
	{name: "s22-epoll2t-2w-stamp", writers: 2, recv: "epoll", rthreads: 2, stamp: true},
	{name: "sc11-pin-epoll1t-1w-stamp", writers: 1, recv: "epoll", rthreads: 1, pin: true, stamp: true},
}

type roundRes struct {
	wallNs       float64 // first write start -> last write return (ns/write)
	thrCPUNs     float64 // sum of writer threads' CPU (ns/write)
	procCPUNs    float64 // getrusage(RUSAGE_SELF) delta (ns/write)
	sNivcsw      int64
	complMs      float64 // first write start -> last byte read by receiver
	p50Ms, p99Ms float64 // (recv time - send start) across sockets
	own50, own99 float64 // (recv time - that socket's write start), stamp only, µs
	rCPUNs       float64 // receiver process CPU per delivered message
	rWaits       int64
	rEvents      int64
	rNvcsw       int64
	errs         int64
}

type procStat struct{ user, system, softirq, idle, steal, total int64 }

func readProcStat() procStat {
	b, _ := os.ReadFile("/proc/stat")
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)[1:]
	v := make([]int64, len(f))
	for i := range f {
		v[i], _ = strconv.ParseInt(f[i], 10, 64)
	}
	var s procStat
	s.user = v[0] + v[1]
	s.system = v[2] + v[5]
	s.softirq = v[6]
	s.idle = v[3] + v[4]
	s.steal = v[7]
	for _, x := range v[:8] {
		s.total += x
	}
	return s
}

func sender() {
	debug.SetGCPercent(-1)
	fmt.Printf("nproc=%d GOMAXPROCS=%d kernel=%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), unameR())
	la, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("loadavg before: %s", la)
	fmt.Printf("nanotime cost: %.1f ns; io_uring: %s\n", nanotimeCost(), ioUringCheck())
	calibrate()
	want := map[string]bool{}
	if *flagCases != "all" {
		for _, c := range strings.Split(*flagCases, ",") {
			want[c] = true
		}
	}
	fmt.Printf("\n%-26s %9s %9s %9s %8s %8s %8s %8s %8s %8s %9s %8s %8s\n",
		"case", "wall/wr", "thrCPU/wr", "procCPU/wr", "compl", "p50", "p99", "own50", "own99", "rCPU/msg", "ev/wait", "rcsw", "s_nivcsw")
	fmt.Printf("%-26s %9s %9s %9s %8s %8s %8s %8s %8s %8s %9s %8s %8s\n",
		"", "ns", "ns", "ns", "ms", "ms", "ms", "us", "us", "ns", "", "", "")
	for _, c := range allCases {
		if len(want) > 0 && !want[c.name] {
			continue
		}
		runCase(c)
	}
	la, _ = os.ReadFile("/proc/loadavg")
	fmt.Printf("loadavg after: %s", la)
}

func unameR() string {
	var u unix.Utsname
	unix.Uname(&u)
	return unix.ByteSliceToString(u.Release[:])
}

func nanotimeCost() float64 {
	const k = 1000000
	t0 := nanotime()
	var x int64
	for i := 0; i < k; i++ {
		x += nanotime()
	}
	_ = x
	return float64(nanotime()-t0) / k
}

func ioUringCheck() string {
	var params [120]byte // struct io_uring_params
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 8, uintptr(unsafePtr(&params[0])), 0)
	if e != 0 {
		return "io_uring_setup failed: " + e.Error()
	}
	unix.Close(int(fd))
	return "io_uring_setup OK"
}

func runCase(c caseCfg) {
	n := *flagN
	if c.pin {
		pinProcess(0)
		defer pinProcess(0, 1)
	}
	// Fresh listener per case (fresh ephemeral port space).
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		panic(err)
	}
	if err := unix.Listen(lfd, 4096); err != nil {
		panic(err)
	}
	sa, _ := unix.Getsockname(lfd)
	port := sa.(*unix.SockaddrInet4).Port

	args := []string{"-role=receiver", "-n", strconv.Itoa(n), "-port", strconv.Itoa(port),
		"-mode", c.recv, "-rthreads", strconv.Itoa(max(1, c.rthreads)), "-size", strconv.Itoa(*flagSize)}
	if c.pin {
		args = append(args, "-pincpu", "1")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdoutP, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	rd := bufio.NewReaderSize(stdoutP, 1<<20)

	fds := make([]int, n)
	for i := 0; i < n; i++ {
		nfd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
		if err != nil {
			panic(err)
		}
		var b [4]byte
		for got := 0; got < 4; {
			r, err := unix.Read(nfd, b[got:])
			if err != nil || r <= 0 {
				panic(fmt.Sprintf("handshake read: %v", err))
			}
			got += r
		}
		unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		unix.SetNonblock(nfd, true)
		fds[binary.LittleEndian.Uint32(b[:])] = nfd
	}
	unix.Close(lfd)
	allFds = fds
	line, err := rd.ReadString('\n')
	if err != nil || line != "READY\n" {
		panic(fmt.Sprintf("receiver not ready: %q %v", line, err))
	}
	time.Sleep(200 * time.Millisecond) // let connection setup settle

	buf := make([]byte, *flagSize)
	for i := range buf {
		buf[i] = byte('a' + i%26)
	}
	stamps := make([]int64, n)
	ts := make([]int64, n)
	lat := make([]int64, n)
	var res []roundRes
	var mUser, mSys, mSirq int64 // machine busy ticks over accepted measured rounds
	redone, noisyKept := 0, 0
	for r := 0; r < *flagWarm+*flagRounds; r++ {
		waitQuiet()
		var rr roundRes
		psA := readProcStat()
		ru0 := getRusage(unix.RUSAGE_SELF)
		t0, t1, thrCPU, errs := doWrites(c, fds, buf, stamps)
		ru1 := getRusage(unix.RUSAGE_SELF)
		rr.wallNs = float64(t1-t0) / float64(n)
		rr.thrCPUNs = float64(thrCPU) / float64(n)
		rr.procCPUNs = float64(ru1.cpu-ru0.cpu) / float64(n)
		rr.sNivcsw = ru1.nivcsw - ru0.nivcsw
		rr.errs = errs
		var recvCPU int64
		if c.recv == "epoll" {
			hdr := make([]int64, 6)
			if err := binary.Read(rd, binary.LittleEndian, hdr); err != nil || hdr[0] != reportMagic {
				panic(fmt.Sprintf("bad report: %v %x", err, hdr[0]))
			}
			if err := binary.Read(rd, binary.LittleEndian, ts); err != nil {
				panic(err)
			}
			recvCPU = hdr[1]
			rr.rCPUNs = float64(hdr[1]) / float64(n)
			rr.rNvcsw = hdr[2]
			rr.rWaits = hdr[4]
			rr.rEvents = hdr[5]
			var last int64
			for i := range ts {
				lat[i] = ts[i] - t0
				last = max(last, ts[i])
			}
			rr.complMs = float64(last-t0) / 1e6
			sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
			rr.p50Ms = float64(lat[n/2]) / 1e6
			rr.p99Ms = float64(lat[n*99/100]) / 1e6
			if c.stamp {
				for i := range ts {
					lat[i] = ts[i] - stamps[i]
				}
				sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
				rr.own50 = float64(lat[n/2]) / 1e3
				rr.own99 = float64(lat[n*99/100]) / 1e3
			}
		} else {
			time.Sleep(5 * time.Millisecond) // let trailing ACK work finish inside the window
		}
		psB := readProcStat()
		ru2 := getRusage(unix.RUSAGE_SELF)
		// Foreign load check: machine busy time in the window minus what the
		// two processes of this test used. 1 tick = 10 ms.
		busyNs := (psB.total - psB.idle - psA.total + psA.idle) * 10_000_000
		foreign := busyNs - (ru2.cpu - ru0.cpu) - recvCPU
		if r >= *flagWarm {
			if foreign > 30_000_000 && redone < 40 {
				redone++
				if *flagVerbose {
					fmt.Printf("  %s: redo round (foreign busy %.0f ms)\n", c.name, float64(foreign)/1e6)
				}
				r--
				time.Sleep(*flagGap)
				continue
			}
			if foreign > 30_000_000 {
				noisyKept++
			}
			mUser += psB.user - psA.user
			mSys += psB.system - psA.system
			mSirq += psB.softirq - psA.softirq
			res = append(res, rr)
			if *flagVerbose {
				fmt.Printf("  %s round %d: %+v foreign=%.0fms\n", c.name, r-*flagWarm, rr, float64(foreign)/1e6)
			}
		}
		time.Sleep(*flagGap)
	}
	stdin.Close()
	cmd.Wait()
	for _, fd := range fds {
		unix.Close(fd)
	}

	med := func(f func(roundRes) float64) float64 {
		v := make([]float64, len(res))
		for i, x := range res {
			v[i] = f(x)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	var errs int64
	for _, x := range res {
		errs += x.errs
	}
	evPerWait := "-"
	if c.recv == "epoll" {
		evPerWait = fmt.Sprintf("%.0f", med(func(x roundRes) float64 { return float64(x.rEvents) / float64(max(1, x.rWaits)) }))
	}
	fmt.Printf("%-26s %9.0f %9.0f %9.0f %8.2f %8.2f %8.2f %8.0f %8.0f %8.0f %9s %8.0f %8.0f",
		c.name,
		med(func(x roundRes) float64 { return x.wallNs }),
		med(func(x roundRes) float64 { return x.thrCPUNs }),
		med(func(x roundRes) float64 { return x.procCPUNs }),
		med(func(x roundRes) float64 { return x.complMs }),
		med(func(x roundRes) float64 { return x.p50Ms }),
		med(func(x roundRes) float64 { return x.p99Ms }),
		med(func(x roundRes) float64 { return x.own50 }),
		med(func(x roundRes) float64 { return x.own99 }),
		med(func(x roundRes) float64 { return x.rCPUNs }),
		evPerWait,
		med(func(x roundRes) float64 { return float64(x.rNvcsw) }),
		med(func(x roundRes) float64 { return float64(x.sNivcsw) }),
	)
	if errs > 0 {
		fmt.Printf(" ERRS=%d", errs)
	}
	// Machine-wide CPU over the measured rounds (USER_HZ ticks; includes the
	// idle gaps, so only busy ticks are meaningful). Reported per write.
	ticks := func(v int64) float64 { return float64(v) * 1e7 / float64(n**flagRounds) } // 1 tick = 10ms
	fmt.Printf("  | machine busy/wr: usr %.0f sys %.0f sirq %.0f ns; redone %d noisy %d\n",
		ticks(mUser), ticks(mSys), ticks(mSirq), redone, noisyKept)
}

// doWrites performs one round: one write of buf to every fd. Returns the
// start time, the end time (last writer finished), the summed CPU of the
// writer threads and the number of failed/short writes.
func doWrites(c caseCfg, fds []int, buf []byte, stamps []int64) (t0, t1, thrCPU, errs int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if c.writers <= 1 {
		cpu0 := clockNs(unix.CLOCK_THREAD_CPUTIME_ID)
		t0 = nanotime()
		errs = writeRange(c, fds, buf, stamps)
		t1 = nanotime()
		thrCPU = clockNs(unix.CLOCK_THREAD_CPUTIME_ID) - cpu0
		return
	}
	half := len(fds) / 2
	var ready, start atomic.Bool
	type out struct{ t1, cpu, errs int64 }
	done := make(chan out, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0 := clockNs(unix.CLOCK_THREAD_CPUTIME_ID)
		ready.Store(true)
		for !start.Load() {
		}
		e := writeRange(c, fds[half:], buf, stamps[half:])
		t := nanotime()
		done <- out{t, clockNs(unix.CLOCK_THREAD_CPUTIME_ID) - cpu0, e}
	}()
	for !ready.Load() {
		runtime.Gosched()
	}
	cpu0 := clockNs(unix.CLOCK_THREAD_CPUTIME_ID)
	t0 = nanotime()
	start.Store(true)
	errs = writeRange(c, fds[:half], buf, stamps[:half])
	tA := nanotime()
	cpuA := clockNs(unix.CLOCK_THREAD_CPUTIME_ID) - cpu0
	o := <-done
	t1 = max(tA, o.t1)
	// The helper's CPU includes its spin-wait before start (tiny: it only
	// spins while the main thread reads its clock).
	thrCPU = cpuA + o.cpu
	errs += o.errs
	return
}

var rings [2]*uring
var allFds []int

func writeRange(c caseCfg, fds []int, buf []byte, stamps []int64) (errs int64) {
	if c.uring {
		w := 0
		if len(fds) > 0 && len(fds) < *flagN && &fds[0] != &allFds[0] {
			w = 1
		}
		if rings[w] == nil {
			r, err := newUring(4096)
			if err != nil {
				panic(err)
			}
			rings[w] = r
		}
		return rings[w].sendAll(fds, buf)
	}
	p := uintptr(unsafePtr(&buf[0]))
	l := uintptr(len(buf))
	for i, fd := range fds {
		if c.stamp {
			stamps[i] = nanotime()
		}
		if c.raw {
			r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), p, l)
			if e != 0 || r != l {
				errs++
			}
		} else {
			r, err := unix.Write(fd, buf)
			if err != nil || r != len(buf) {
				errs++
			}
		}
	}
	return
}

func unsafePtr(p *byte) unsafe.Pointer { return unsafe.Pointer(p) }

// calibrate measures a few reference syscalls on this machine (single thread,
// median of 5 runs of 100k calls): wall ns per call.
func calibrate() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, 64)
	null, _ := unix.Open("/dev/null", unix.O_WRONLY, 0)
	var pp [2]int
	unix.Pipe2(pp[:], unix.O_NONBLOCK)
	sp, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	unix.SetNonblock(sp[0], true)
	udp, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	unix.Bind(udp, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	usa, _ := unix.Getsockname(udp)
	udp2, _ := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	unix.Connect(udp2, usa)
	p := uintptr(unsafePtr(&buf[0]))
	tests := []struct {
		name string
		f    func()
	}{
		{"getppid (RawSyscall)", func() { unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0) }},
		{"getppid (Syscall)", func() { unix.Syscall(unix.SYS_GETPPID, 0, 0, 0) }},
		{"write 64B /dev/null", func() { unix.Write(null, buf) }},
		{"write+read 64B pipe", func() { unix.Write(pp[1], buf); unix.Read(pp[0], buf) }},
		{"write+read 64B unix socketpair", func() { unix.Write(sp[0], buf); unix.Read(sp[1], buf) }},
		{"send+recv 64B UDP loopback", func() { unix.RawSyscall(unix.SYS_WRITE, uintptr(udp2), p, 64); unix.Read(udp, buf) }},
	}
	const k = 20000
	for _, t := range tests {
		var v []float64
		var c []float64
		for r := 0; r < 5; r++ {
			c0 := clockNs(unix.CLOCK_THREAD_CPUTIME_ID)
			t0 := nanotime()
			for i := 0; i < k; i++ {
				t.f()
			}
			v = append(v, float64(nanotime()-t0)/k)
			c = append(c, float64(clockNs(unix.CLOCK_THREAD_CPUTIME_ID)-c0)/k)
		}
		sort.Float64s(v)
		sort.Float64s(c)
		fmt.Printf("  calib %-32s %7.0f ns wall %7.0f ns cpu\n", t.name, v[2], c[2])
	}
	unix.Close(null)
	unix.Close(pp[0])
	unix.Close(pp[1])
	unix.Close(sp[0])
	unix.Close(sp[1])
	unix.Close(udp)
	unix.Close(udp2)
}

// waitQuiet waits (up to 2 minutes) until the machine has been nearly idle for
// 100 ms: at most 2 busy ticks (20 ms) out of 200 ms of CPU capacity.
func waitQuiet() {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		a := readProcStat()
		time.Sleep(100 * time.Millisecond)
		b := readProcStat()
		if (b.total-b.idle)-(a.total-a.idle) <= 2 {
			return
		}
	}
	fmt.Fprintln(os.Stderr, "warning: machine never became quiet")
}
