package procstat

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Stat
		wantErr bool
	}{
		{
			name: "linux status",
			in:   "Name:\tgatecast\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads:\t7\n",
			want: Stat{RSS: 12345 << 10, Threads: 7},
		},
		{
			name:    "zombie has no VmRSS",
			in:      "Name:\tgatecast\nState:\tZ (zombie)\nThreads:\t1\n",
			wantErr: true,
		},
		{
			name:    "garbled number",
			in:      "VmRSS:\tlots kB\nThreads:\t1\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStatus error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("parseStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadSelf(t *testing.T) {
	st, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS < 1<<20 || st.Threads < 1 {
		t.Errorf("Read(self) = %+v, want at least 1 MiB and one thread", st)
	}
}

func TestFDsCountsOpenFiles(t *testing.T) {
	before, err := FDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if after, _ := FDs(os.Getpid()); after != before+1 {
		t.Errorf("FDs after opening a file = %d, want %d", after, before+1)
	}
}

func TestSettleReturnsAReading(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _, err := Settle(ctx, os.Getpid(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS == 0 {
		t.Error("Settle returned no RSS")
	}
}

func TestSettleOfGoneProcessFails(t *testing.T) {
	if _, _, err := Settle(context.Background(), 1<<30, time.Second); err == nil {
		t.Error("Settle of a process that does not exist succeeded")
	}
}

func TestParseCPUTime(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	in := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 123 456 789\n"
	got, err := parseCPUTime([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Errorf("parseCPUTime = %v, want %v (325 ticks)", got, want)
	}
	if _, err := parseCPUTime([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("parseCPUTime of a short line succeeded")
	}
}

func TestCPUTimeGrowsWithWork(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the kernel's tick-granular count moves, bounded.
	deadline := time.Now().Add(10 * time.Second)
	x := 0
	for after := before; after <= before; after, _ = CPUTime(os.Getpid()) {
		if time.Now().After(deadline) {
			t.Fatal("CPU time never grew")
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
}
