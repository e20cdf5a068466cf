package broker

import "sync/atomic"

type hubStats struct {
	events        atomic.Uint64 // route events published
	publishErrors atomic.Uint64 // route events that could not be published (NATS down)
	replies       atomic.Uint64 // route responses delivered to clients
	lateReplies   atomic.Uint64 // replies after their request timed out (dropped)
	timeouts      atomic.Uint64 // requests that timed out
	noResponders  atomic.Uint64 // requests no backend was subscribed for
	pendingFull   atomic.Uint64 // events refused because the request table was full
	errorFrames   atomic.Uint64
	backendErrors atomic.Uint64 // route responses with a non-2xx status
	rateLimited   atomic.Uint64 // messages refused by a message rate
	originRefused atomic.Uint64 // upgrades refused for their Origin
	authRefused   atomic.Uint64 // upgrades refused for their token
	scopeRefused  atomic.Uint64 // messages refused for missing route scopes
	wafHits       atomic.Uint64 // WAF findings, in any mode
	wafBlocked    atomic.Uint64 // upgrades and messages the WAF blocked
	commands      atomic.Uint64
	publishes     atomic.Uint64 // topic publishes through this node's API
	topicMessages atomic.Uint64 // topic messages received for local members
	deliveries    atomic.Uint64 // topic message writes to local members
	joins         atomic.Uint64
	topics        atomic.Int64 // topics with local members
}

// Stats are a Hub's counters.
type Stats struct {
	Events, PublishErrors, Replies, LateReplies, Timeouts, NoResponders  uint64
	PendingFull, ErrorFrames, Commands, Publishes, TopicMessages         uint64
	BackendErrors, RateLimited, OriginRefused, AuthRefused, ScopeRefused uint64
	WAFHits, WAFBlocked                                                  uint64
	Deliveries, Joins                                                    uint64
	Topics, Pending                                                      int64
	Connected                                                            bool
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	s := &h.stats
	return Stats{
		Events: s.events.Load(), PublishErrors: s.publishErrors.Load(), Replies: s.replies.Load(),
		LateReplies: s.lateReplies.Load(), Timeouts: s.timeouts.Load(), NoResponders: s.noResponders.Load(),
		PendingFull: s.pendingFull.Load(), ErrorFrames: s.errorFrames.Load(), Commands: s.commands.Load(),
		Publishes: s.publishes.Load(), TopicMessages: s.topicMessages.Load(), Deliveries: s.deliveries.Load(),
		Joins: s.joins.Load(), BackendErrors: s.backendErrors.Load(), RateLimited: s.rateLimited.Load(), OriginRefused: s.originRefused.Load(),
		AuthRefused: s.authRefused.Load(), ScopeRefused: s.scopeRefused.Load(),
		WAFHits: s.wafHits.Load(), WAFBlocked: s.wafBlocked.Load(), Topics: s.topics.Load(), Pending: int64(h.pending.len()),
		Connected: h.nc.IsConnected(),
	}
}
