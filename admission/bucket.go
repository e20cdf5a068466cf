package admission

import (
	"math"
	"sync"
	"time"
)

// Rate is a token bucket's refill rate and size. The zero value means no
// limit.
type Rate struct {
	// PerSecond is how many tokens come back each second.
	PerSecond float64 `yaml:"per_second"`
	// Burst is how many tokens the bucket holds; zero means PerSecond
	// (at least 1).
	Burst int `yaml:"burst"`
}

// Unlimited reports whether r limits nothing.
func (r Rate) Unlimited() bool { return r.PerSecond <= 0 }

func (r Rate) burst() float64 {
	if r.Burst > 0 {
		return float64(r.Burst)
	}
	return math.Max(1, math.Ceil(r.PerSecond))
}

// Meter is the state of one token bucket: 16 bytes, no lock. The zero
// value is a full bucket. Not safe for concurrent use.
type Meter struct {
	tokens float64
	last   int64 // Unix ns of the last update; 0: never used (full)
}

// Allow takes one token at now, if there is one. When there is not, it
// returns how long until there will be.
func (m *Meter) Allow(now time.Time, r Rate) (ok bool, wait time.Duration) {
	if r.Unlimited() {
		return true, 0
	}
	burst := r.burst()
	t := now.UnixNano()
	if m.last == 0 {
		m.tokens, m.last = burst, t
	} else if t > m.last {
		m.tokens = math.Min(burst, m.tokens+float64(t-m.last)/1e9*r.PerSecond)
		m.last = t
	}
	if m.tokens >= 1 {
		m.tokens--
		return true, 0
	}
	return false, time.Duration((1 - m.tokens) / r.PerSecond * 1e9)
}

// refund gives back the token that the last successful Allow took, when
// what it admitted was refused further on, so that the refusal costs the
// bucket nothing. The bucket never grows past its burst.
func (m *Meter) refund(r Rate) {
	if r.Unlimited() || m.last == 0 {
		return
	}
	m.tokens = math.Min(r.burst(), m.tokens+1)
}

// Full reports whether the bucket is full at now: a meter in that state
// carries no information and may be forgotten.
func (m *Meter) Full(now time.Time, r Rate) bool {
	if m.last == 0 || r.Unlimited() {
		return true
	}
	return m.tokens+float64(now.UnixNano()-m.last)/1e9*r.PerSecond >= r.burst()
}

// Limiter is a Meter shared by goroutines.
type Limiter struct {
	rate Rate
	mu   sync.Mutex
	m    Meter
}

// NewLimiter returns a full bucket.
func NewLimiter(r Rate) *Limiter { return &Limiter{rate: r} }

// Allow takes one token at now, or says how long until one comes back.
func (l *Limiter) Allow(now time.Time) (bool, time.Duration) {
	if l.rate.Unlimited() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m.Allow(now, l.rate)
}

// refund gives back a token taken by Allow (see Meter.refund).
func (l *Limiter) refund() {
	if l.rate.Unlimited() {
		return
	}
	l.mu.Lock()
	l.m.refund(l.rate)
	l.mu.Unlock()
}
