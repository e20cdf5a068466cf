package load

import (
	"context"
	"fmt"
	"math"
	"time"
)

// DefaultWindow is the Publisher's default window: half the gorilla chat
// example's 256-message send queue, so that a baseline member never has
// more than that queued, and far below gatecast's 1 MiB write queue and
// 65,536-message topic buffer.
const DefaultWindow = 128

// Publisher drives a fan-out measurement from the parent: it publishes
// stamped messages (see Stamp) to the members held by fan-out Workers and
// waits until they have arrived. It keeps at most Window messages
// published but not yet received by every open member, judged by the
// workers' progress events, so that no server queue overflows because the
// publisher outran the members: what is lost then is the server's doing.
//
// The zero value of each tunable means the default in its comment.
type Publisher struct {
	Workers  []*Worker // fan-out workers holding every member; required
	Messages int       // messages to publish; required
	Size     int       // bytes per message; zero or less than StampSize: StampSize
	// Interval is the time between publishes. Zero: as fast as the window
	// lets the members take them.
	Interval time.Duration
	// Window bounds the messages in flight. Zero: DefaultWindow.
	Window int
	// Stall is how long the members' progress may stand still, while the
	// window is full or after the last publish, before Run gives up
	// waiting. Zero: 5s.
	Stall time.Duration
	// Publish sends one message; msg is valid only until it returns.
	// Required.
	Publish func(msg []byte) error
}

// Published is what a Publisher did.
type Published struct {
	Start    time.Time // just before the first publish
	Messages int       // published
	// Complete reports that every open member reported the last message
	// before progress stalled.
	Complete bool
	// Stalled says at which sequence number the members stopped, if they did.
	Stalled string
}

// Run publishes p.Messages messages and waits until every open member has
// the last one, or progress stalls, or ctx ends (the only error besides a
// failed Publish).
func (p *Publisher) Run(ctx context.Context) (Published, error) {
	window := uint64(p.Window)
	if window == 0 {
		window = DefaultWindow
	}
	stall := p.Stall
	if stall == 0 {
		stall = 5 * time.Second
	}
	notify := make(chan struct{}, 1)
	stop := make(chan struct{})
	defer close(stop)
	for _, w := range p.Workers {
		go func() {
			for {
				select {
				case <-w.Progressed():
					select {
					case notify <- struct{}{}:
					default:
					}
				case <-stop:
					return
				}
			}
		}()
	}
	progress := func() (minSeq, received uint64) {
		minSeq = math.MaxUint64
		for _, w := range p.Workers {
			m, r := w.Progress()
			minSeq, received = min(minSeq, m), received+r
		}
		return minSeq, received
	}
	// await waits until cond holds, giving up when progress stands still
	// for stall.
	await := func(cond func(minSeq uint64) bool) (bool, error) {
		t := time.NewTimer(stall)
		defer t.Stop()
		lastMin, lastRecv := progress()
		for !cond(lastMin) {
			select {
			case <-notify:
				m, r := progress()
				if m != lastMin || r != lastRecv {
					lastMin, lastRecv = m, r
					t.Reset(stall)
				}
			case <-t.C:
				return false, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		return true, nil
	}

	var pub Published
	msg := NewMessage(p.Size)
	pub.Start = time.Now()
	for seq := uint64(1); seq <= uint64(p.Messages); seq++ {
		if p.Interval > 0 {
			if d := time.Until(pub.Start.Add(time.Duration(seq-1) * p.Interval)); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return pub, ctx.Err()
				}
			}
		}
		ok, err := await(func(minSeq uint64) bool { return seq-1-min(minSeq, seq-1) < window })
		if err != nil {
			return pub, err
		}
		if !ok {
			m, _ := progress()
			pub.Stalled = fmt.Sprintf("members stopped at message %d of %d with %d in flight", m, p.Messages, seq-1-m)
			return pub, nil
		}
		Stamp(msg, seq, time.Now())
		if err := p.Publish(msg); err != nil {
			return pub, fmt.Errorf("load: publishing message %d: %w", seq, err)
		}
		pub.Messages++
	}
	ok, err := await(func(minSeq uint64) bool { return minSeq >= uint64(p.Messages) })
	if err != nil {
		return pub, err
	}
	pub.Complete = ok
	if !ok {
		m, _ := progress()
		pub.Stalled = fmt.Sprintf("members stopped at message %d of %d", m, p.Messages)
	}
	return pub, nil
}

// FanOutResult merges the result events of a fan-out measurement.
type FanOutResult struct {
	Members   int // connections that were open at the start
	Published int
	Received  uint64 // stamped messages received by all members
	// Missed is what members should have received and did not:
	// Published × Members − (Received − Disorder), whether skipped, cut
	// off with a lost connection, or not there yet when the run ended.
	Missed       uint64
	Skipped      uint64 // of Missed, those a member skipped (got a later one)
	FirstSkipped uint64 // lowest sequence number skipped, 0 if none
	Disorder     uint64 // messages at or below one already received
	Unstamped    uint64 // data messages without a stamp (error frames)
	Lost         int    // members the server disconnected
	// Seconds is from the first publish to the last receipt anywhere.
	Seconds    float64
	PerSecond  float64 // deliveries (Received) per second over Seconds
	Latency    Histogram
	FirstError string
}

// MergeFanOut merges the workers' result events of the run pub.
func MergeFanOut(pub Published, evs []Event) FanOutResult {
	r := FanOutResult{Published: pub.Messages}
	var last int64
	for _, ev := range evs {
		r.Members += ev.Open
		r.Received += ev.Received
		r.Skipped += ev.Skipped
		if ev.FirstSkipped != 0 && (r.FirstSkipped == 0 || ev.FirstSkipped < r.FirstSkipped) {
			r.FirstSkipped = ev.FirstSkipped
		}
		r.Disorder += ev.Disorder
		r.Unstamped += ev.Unstamped
		r.Lost += ev.Lost
		last = max(last, ev.LastUnixNano)
		if ev.Latency != nil {
			r.Latency.Merge(ev.Latency)
		}
		if r.FirstError == "" {
			r.FirstError = ev.FirstError
		}
	}
	want := uint64(r.Published) * uint64(r.Members)
	if got := r.Received - min(r.Disorder, r.Received); got < want {
		r.Missed = want - got
	}
	if last > 0 {
		r.Seconds = time.Unix(0, last).Sub(pub.Start).Seconds()
	}
	if r.Seconds > 0 {
		r.PerSecond = float64(r.Received) / r.Seconds
	}
	return r
}

// Problems lists what makes the result unfit to report as a loss-free
// measurement: lost messages or members, disorder, stray messages, and a
// latency count that does not match the deliveries.
func (r FanOutResult) Problems() []string {
	var ps []string
	if r.Missed > 0 {
		ps = append(ps, fmt.Sprintf("%d of %d deliveries missed (%d skipped, first at message %d)", r.Missed, uint64(r.Published)*uint64(r.Members), r.Skipped, r.FirstSkipped))
	}
	if r.Lost > 0 {
		ps = append(ps, fmt.Sprintf("the server disconnected %d members: %s", r.Lost, r.FirstError))
	}
	if r.Disorder > 0 {
		ps = append(ps, fmt.Sprintf("%d messages out of order or repeated", r.Disorder))
	}
	if r.Unstamped > 0 {
		ps = append(ps, fmt.Sprintf("%d messages without a stamp (error frames?)", r.Unstamped))
	}
	if r.Latency.Count() != r.Received {
		ps = append(ps, fmt.Sprintf("the histograms hold %d latencies for %d deliveries", r.Latency.Count(), r.Received))
	}
	return ps
}
