package httpapi

import (
	"sync"
	"sync/atomic"
)

type handlerStats struct {
	requests      atomic.Uint64
	answers       atomic.Uint64 // whole answers passed on
	preflights    atomic.Uint64 // CORS preflights answered
	timeouts      atomic.Uint64 // 504: no answer within the route timeout
	noResponders  atomic.Uint64 // 503: no backend subscribed
	publishErrors atomic.Uint64 // requests or control messages NATS refused
	badAnswers    atomic.Uint64 // 502: answers that were not valid
	backendErrors atomic.Uint64 // answers with a status of 400 or more
	mappingErrors atomic.Uint64
	lateAnswers   atomic.Uint64 // answers for requests no longer waiting (dropped)
	clientGone    atomic.Uint64 // clients that left before the answer ended
	wafHits       atomic.Uint64
	streams       atomic.Uint64
	streamsOpen   atomic.Int64
	streamsEnded  atomic.Uint64 // streams that ended with the backend's end marker
	streamsCut    atomic.Uint64 // streams the gateway cut (slow client, idle backend, too long, bad message)
	streamErrors  atomic.Uint64 // streams the backend ended with an error marker
	chunks        atomic.Uint64

	mu      sync.Mutex
	refusal map[string]uint64 // by admission reason
}

func (s *handlerStats) refused(reason string) {
	s.mu.Lock()
	if s.refusal == nil {
		s.refusal = make(map[string]uint64)
	}
	s.refusal[reason]++
	s.mu.Unlock()
}

// Stats are a Handler's counters.
type Stats struct {
	Requests, Answers, Preflights, Timeouts, NoResponders, PublishErrors uint64
	BadAnswers, BackendErrors, MappingErrors, LateAnswers, ClientGone    uint64
	WAFHits, Streams, StreamsEnded, StreamsCut, StreamErrors, Chunks     uint64
	StreamsOpen, InFlight                                                int64
	// Refused counts refusals by reason: auth, waf, and the admission
	// reasons (request_rate, route_rate, key_rate, quota, api_key).
	Refused map[string]uint64
}

// Stats returns the handler's counters.
func (h *Handler) Stats() Stats {
	s := &h.stats
	st := Stats{
		Requests: s.requests.Load(), Answers: s.answers.Load(), Preflights: s.preflights.Load(),
		Timeouts: s.timeouts.Load(), NoResponders: s.noResponders.Load(), PublishErrors: s.publishErrors.Load(),
		BadAnswers: s.badAnswers.Load(), BackendErrors: s.backendErrors.Load(), MappingErrors: s.mappingErrors.Load(),
		LateAnswers: s.lateAnswers.Load(), ClientGone: s.clientGone.Load(), WAFHits: s.wafHits.Load(),
		Streams: s.streams.Load(), StreamsEnded: s.streamsEnded.Load(), StreamsCut: s.streamsCut.Load(),
		StreamErrors: s.streamErrors.Load(), Chunks: s.chunks.Load(),
		StreamsOpen: s.streamsOpen.Load(), InFlight: h.inFlight.Load(),
		Refused: make(map[string]uint64),
	}
	s.mu.Lock()
	for k, v := range s.refusal {
		st.Refused[k] = v
	}
	s.mu.Unlock()
	return st
}
