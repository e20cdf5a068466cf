package load

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// The bucket layout is fixed so that histograms from different processes
// merge by adding counts. Values below 2^subBits µs get a bucket each; above
// that every power of two is split into 2^subBits equal buckets, so a
// reported percentile is at most 1/16 (6.25%) above the true value.
const (
	subBits    = 4
	subBuckets = 1 << subBits
	// maxBits bounds the range to 2^32 µs (about 71 minutes); longer
	// latencies land in the last bucket, and Max still tells the truth.
	maxBits    = 32
	numBuckets = (maxBits - subBits + 1) * subBuckets
)

// Histogram counts latencies in microseconds with a fixed logarithmic
// layout. The zero value is empty and ready to use. A Histogram is not safe
// for concurrent use: give each goroutine its own and Merge them.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    uint64 // µs
	min    uint64 // µs, valid when n > 0
	max    uint64 // µs
}

// bucketOf returns the index of the bucket holding us.
func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	shift := bits.Len64(us) - 1 - subBits // low bits dropped
	i := (shift+1)*subBuckets + int(us>>shift) - subBuckets
	if i >= numBuckets {
		return numBuckets - 1
	}
	return i
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (lo, width uint64) {
	if i < subBuckets {
		return uint64(i), 1
	}
	shift := i/subBuckets - 1
	return uint64(i%subBuckets+subBuckets) << shift, 1 << shift
}

// Record adds one latency. Durations are truncated to whole microseconds.
func (h *Histogram) Record(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.counts[bucketOf(us)]++
	if h.n == 0 || us < h.min {
		h.min = us
	}
	h.max = max(h.max, us)
	h.n++
	h.sum += us
}

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of recorded latencies.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest recorded latency, exactly.
func (h *Histogram) Max() time.Duration { return micros(h.max) }

// Mean returns the exact mean of the recorded latencies.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return micros(h.sum / h.n)
}

// Percentile returns the latency below or at which a fraction q (0..1) of
// the recorded values fall. It reports the top of the bucket the value is
// in, clamped to the observed minimum and maximum, so it errs high by at
// most one bucket width (1/16); the extremes are exact. An empty histogram
// reports 0.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	// Nearest rank: the smallest value with at least q·n values at or below it.
	rank := min(max(uint64(math.Ceil(q*float64(h.n))), 1), h.n)
	if rank == 1 {
		return micros(h.min)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, width := bucketRange(i)
			return micros(min(max(lo+width-1, h.min), h.max))
		}
	}
	return micros(h.max)
}

func micros(us uint64) time.Duration { return time.Duration(us) * time.Microsecond }

// histogramJSON is the wire form: only non-empty buckets, each as
// [lowest µs, count], so the JSON stays small and readable.
type histogramJSON struct {
	Count   uint64      `json:"count"`
	SumUS   uint64      `json:"sum_us"`
	MinUS   uint64      `json:"min_us"`
	MaxUS   uint64      `json:"max_us"`
	Buckets [][2]uint64 `json:"buckets"`
}

// MarshalJSON encodes the histogram so that another process can Merge it.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := histogramJSON{Count: h.n, SumUS: h.sum, MinUS: h.min, MaxUS: h.max, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c != 0 {
			lo, _ := bucketRange(i)
			w.Buckets = append(w.Buckets, [2]uint64{lo, c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote, checking that the bucket
// counts add up so a truncated or mismatched report is not merged silently.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w histogramJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*h = Histogram{n: w.Count, sum: w.SumUS, min: w.MinUS, max: w.MaxUS}
	var total uint64
	for _, bc := range w.Buckets {
		i := bucketOf(bc[0])
		if lo, _ := bucketRange(i); lo != bc[0] && i != numBuckets-1 {
			return fmt.Errorf("load: histogram bucket %d µs is not a bucket boundary", bc[0])
		}
		h.counts[i] += bc[1]
		total += bc[1]
	}
	if total != w.Count {
		return fmt.Errorf("load: histogram buckets hold %d values, count says %d", total, w.Count)
	}
	return nil
}
