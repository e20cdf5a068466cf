package load

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

func recordAll(h *Histogram, us ...uint64) {
	for _, v := range us {
		h.Record(time.Duration(v) * time.Microsecond)
	}
}

func TestHistogramBucketsAreContiguous(t *testing.T) {
	// Every value maps to a bucket whose range contains it, and bucket i+1
	// starts where bucket i ends: no gaps, no overlaps.
	for i := 0; i < numBuckets-1; i++ {
		lo, w := bucketRange(i)
		next, _ := bucketRange(i + 1)
		if lo+w != next {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, lo+w, i+1, next)
		}
		for _, v := range []uint64{lo, lo + w - 1} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
	}
	if got := bucketOf(1 << 40); got != numBuckets-1 {
		t.Errorf("bucketOf(2^40) = %d, want last bucket %d", got, numBuckets-1)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	tests := []struct {
		name   string
		values []uint64 // µs
		q      float64
		want   time.Duration
	}{
		{
			name: "empty",
			q:    0.5,
			want: 0,
		},
		{
			name:   "exact below 16µs",
			values: []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			q:      0.5,
			want:   5 * time.Microsecond,
		},
		{
			name:   "p100 is the exact max",
			values: []uint64{10, 20, 1000, 123457},
			q:      1,
			want:   123457 * time.Microsecond,
		},
		{
			name:   "p0 is the exact min",
			values: []uint64{977, 5000},
			q:      0,
			want:   977 * time.Microsecond,
		},
		{
			// 100µs lies in the bucket [100, 104): the top of it is reported.
			name:   "one outlier does not move p50",
			values: append(repeat(100, 98), 100, 90000),
			q:      0.5,
			want:   103 * time.Microsecond,
		},
		{
			name:   "one outlier in a hundred is the p99.5",
			values: append(repeat(100, 99), 90000),
			q:      0.995,
			want:   90000 * time.Microsecond,
		},
		{
			name:   "single value is reported exactly",
			values: []uint64{4321},
			q:      0.99,
			want:   4321 * time.Microsecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			recordAll(&h, tt.values...)
			if got := h.Percentile(tt.q); got != tt.want {
				t.Errorf("Percentile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func repeat(v uint64, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestHistogramRelativeError(t *testing.T) {
	// 1..100000 µs uniformly: the true q-quantile is q·100000, and the
	// reported one may be high by at most one bucket (1/16), never low.
	var h Histogram
	for v := uint64(1); v <= 100000; v++ {
		recordAll(&h, v)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := q * 100000
		got := float64(h.Percentile(q) / time.Microsecond)
		if got < want || got > want*(1+1.0/subBuckets) {
			t.Errorf("p%v = %vµs, want within [%v, %v]", q*100, got, want, want*(1+1.0/subBuckets))
		}
	}
	if got, want := h.Mean(), 50000*time.Microsecond; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
}

func TestHistogramMergeEqualsRecordingTogether(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var a, b, all Histogram
	for i := 0; i < 5000; i++ {
		v := r.Uint64N(1 << 22)
		if i%3 == 0 {
			recordAll(&a, v)
		} else {
			recordAll(&b, v)
		}
		recordAll(&all, v)
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&Histogram{}) // merging an empty one changes nothing
	merged.Merge(&b)
	if merged != all {
		t.Fatalf("merged histogram differs from recording all values into one")
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		if merged.Percentile(q) != all.Percentile(q) {
			t.Errorf("p%v differs after merge", q*100)
		}
	}
}

func TestHistogramJSONRoundTrip(t *testing.T) {
	var h Histogram
	recordAll(&h, 3, 17, 17, 250, 9000, 1<<35)
	b, err := json.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	var back Histogram
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != h {
		t.Fatalf("round trip changed the histogram:\n%s", b)
	}
	// What crosses a process boundary must merge like the original.
	var m1, m2 Histogram
	m1.Merge(&h)
	m1.Merge(&h)
	m2.Merge(&back)
	m2.Merge(&h)
	if m1 != m2 {
		t.Error("decoded histogram merges differently from the original")
	}
}

func TestHistogramJSONRejectsInconsistentCounts(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{
			name: "count larger than buckets",
			in:   `{"count":3,"buckets":[[5,1]]}`,
		},
		{
			name: "bucket not on a boundary",
			in:   `{"count":1,"buckets":[[33,1]]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			if err := json.Unmarshal([]byte(tt.in), &h); err == nil {
				t.Errorf("Unmarshal(%s) succeeded, want an error", tt.in)
			}
		})
	}
}
