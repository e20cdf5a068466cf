package gateway

import (
	"time"

	"github.com/gatecast/gatecast/admission"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatecast/gatecast/broker"
	"github.com/gatecast/gatecast/conn"
)

// wsCollector exports conn.Server's counters at scrape time, so the hot
// path only bumps per-loop atomics and never touches Prometheus.
type wsCollector struct {
	stats func() conn.Stats

	open, sockets, accepted, refused, frames, bytes, messagesIn *prometheus.Desc
	slow, dropped, closeTimeouts, acceptPauses, acceptErrors    *prometheus.Desc
	admitted, sessionEnds                                       *prometheus.Desc
	busy, handOffs, tlsErrors, tlsStayed                        *prometheus.Desc
}

func newWSCollector(stats func() conn.Stats) *wsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gatecast_"+name, help, labels, nil)
	}
	return &wsCollector{
		stats:         stats,
		open:          d("websocket_connections_open", "WebSocket connections past the handshake and not yet closed."),
		sockets:       d("websocket_sockets", "Accepted client sockets not yet closed, in any state (handshake, open, closing)."),
		accepted:      d("websocket_accepted_total", "TCP connections accepted on the client listener."),
		refused:       d("websocket_refused_total", "Connections refused before or during the handshake, by reason.", "reason"),
		frames:        d("websocket_frames_total", "WebSocket frames, by direction.", "direction"),
		bytes:         d("websocket_bytes_total", "Bytes read from and written to client sockets, by direction.", "direction"),
		messagesIn:    d("websocket_messages_received_total", "Complete data messages received from clients."),
		slow:          d("websocket_slow_consumers_total", "Times a connection's write queue went over its bound."),
		dropped:       d("websocket_messages_dropped_total", "Messages dropped because the connection's write queue was full."),
		closeTimeouts: d("websocket_close_timeouts_total", "Close handshakes the client did not finish within the close timeout."),
		acceptPauses:  d("netpoll_accept_pauses_total", "Times accept paused because the process ran out of file descriptors (EMFILE/ENFILE)."),
		acceptErrors:  d("netpoll_accept_errors_total", "Accept calls that failed for one connection (ECONNABORTED and the like)."),
		busy:          d("netpoll_loop_busy_seconds_total", "Time the event loops spent handling events rather than waiting, summed over loops."),
		admitted:      d("websocket_connections_admitted", "Connections holding one of websocket.max_conns (open, or waiting for the $connect verdict)."),
		sessionEnds:   d("websocket_session_timeouts_total", "Connections closed with 1001 by a session timer, by timer (idle, lifetime).", "timer"),
		handOffs:      d("http_handoffs_total", "Client connections whose first request was plain HTTP (or HTTP/2), handed from the event loops to the HTTP server, by result (ok, error).", "result"),
		tlsErrors:     d("tls_record_errors_total", "TLS connections ended after the handshake by a record that broke the protocol (answered with an alert) or by a fatal alert from the client."),
		tlsStayed:     d("tls_crypto_tls_fallbacks_total", "TLS 1.3 connections that stayed with crypto/tls after the handshake because gatecast's record layer could not follow them (expected 0; each costs up to 26 KiB while idle)."),
	}
}

func (c *wsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.sockets, c.accepted, c.refused, c.frames, c.bytes,
		c.messagesIn, c.slow, c.dropped, c.closeTimeouts, c.acceptPauses, c.acceptErrors, c.busy, c.admitted, c.sessionEnds,
		c.handOffs, c.tlsErrors, c.tlsStayed} {
		ch <- d
	}
}

func (c *wsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.open, float64(s.Open))
	gauge(c.sockets, float64(s.Sockets))
	gauge(c.admitted, float64(s.Admitted))
	counter(c.sessionEnds, s.IdleTimeouts, "idle")
	counter(c.sessionEnds, s.LifetimeEnds, "lifetime")
	counter(c.accepted, s.Listener.Accepted)
	for reason, n := range s.Refused {
		counter(c.refused, n, reason)
	}
	counter(c.refused, s.Listener.RefusedFDLimit, "fd_limit")
	counter(c.frames, s.FramesIn, "in")
	counter(c.frames, s.FramesOut, "out")
	counter(c.bytes, s.BytesIn, "in")
	counter(c.bytes, s.BytesOut, "out")
	counter(c.messagesIn, s.MessagesIn)
	counter(c.slow, s.SlowConsumers)
	counter(c.dropped, s.Dropped)
	counter(c.closeTimeouts, s.CloseTimeouts)
	counter(c.acceptPauses, s.Listener.Pauses)
	counter(c.acceptErrors, s.Listener.AcceptErrors)
	counter(c.handOffs, s.HandedOff, "ok")
	counter(c.handOffs, s.HandOffErrors, "error")
	counter(c.tlsErrors, s.TLSErrors)
	counter(c.tlsStayed, s.TLSStayed)
	ch <- prometheus.MustNewConstMetric(c.busy, prometheus.CounterValue, s.LoopBusy.Seconds())
}

// brokerCollector exports broker.Hub's counters at scrape time.
type brokerCollector struct {
	stats func() broker.Stats
	descs map[string]*prometheus.Desc
}

func newBrokerCollector(stats func() broker.Stats) *brokerCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("gatecast_"+name, help, nil, nil)
	}
	return &brokerCollector{stats: stats, descs: map[string]*prometheus.Desc{
		"connected":      d("nats_connected", "1 while the NATS connection is up."),
		"events":         d("broker_events_published_total", "Route events ($connect, messages, $disconnect) published to backends."),
		"publish_errors": d("broker_publish_errors_total", "Route events that could not be published because NATS was unreachable."),
		"replies":        d("broker_replies_delivered_total", "Route responses delivered to clients."),
		"late":           d("broker_late_replies_total", "Backend replies that came after their request timed out (dropped)."),
		"timeouts":       d("broker_request_timeouts_total", "Route responses and $connect verdicts that did not come within the route timeout."),
		"noresp":         d("broker_no_responders_total", "Requests for which no backend was subscribed."),
		"pending_full":   d("broker_pending_full_total", "Events refused because the table of outstanding requests was full."),
		"pending":        d("broker_pending_requests", "Route responses and $connect verdicts outstanding."),
		"error_frames":   d("broker_error_frames_total", "Error messages sent to clients (no route, no backend, timeout, broker down, rate limit)."),
		"rate_limited":   d("broker_messages_rate_limited_total", "Client messages refused by a message rate limit."),
		"origin_refused": d("admission_origin_refused_total", "Upgrades refused with 403 because their Origin is another site's."),
		"auth_refused":   d("admission_auth_refused_total", "Upgrades refused by JWT authentication (401, 403, 503)."),
		"scope_refused":  d("admission_scope_refused_total", "Messages refused because the connection's token lacks the route's scopes."),
		"waf_hits":       d("admission_waf_findings_total", "WAF findings (SQL injection, XSS, custom rules) on upgrades and messages, in any mode."),
		"waf_blocked":    d("admission_waf_blocked_total", "Upgrades (403) and messages (close 1008) the WAF blocked."),
		"backend_errors": d("broker_backend_errors_total", "Route responses in which the backend reported an error (non-2xx status)."),
		"commands":       d("broker_commands_total", "Commands (send, close, info, join, leave) run on local connections."),
		"publishes":      d("broker_topic_publishes_total", "Topic publishes made through this node's management API."),
		"topic_msgs":     d("broker_topic_messages_total", "Topic messages received for local members."),
		"deliveries":     d("broker_topic_deliveries_total", "Topic message writes to local members."),
		"topics":         d("broker_topics", "Topics with members on this node (one NATS subscription each)."),
	}}
}

func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(k string, v uint64) {
		ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, float64(v))
	}
	gauge := func(k string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.GaugeValue, v)
	}
	connected := 0.0
	if s.Connected {
		connected = 1
	}
	gauge("connected", connected)
	counter("events", s.Events)
	counter("publish_errors", s.PublishErrors)
	counter("replies", s.Replies)
	counter("late", s.LateReplies)
	counter("timeouts", s.Timeouts)
	counter("noresp", s.NoResponders)
	counter("pending_full", s.PendingFull)
	gauge("pending", float64(s.Pending))
	counter("error_frames", s.ErrorFrames)
	counter("rate_limited", s.RateLimited)
	counter("origin_refused", s.OriginRefused)
	counter("auth_refused", s.AuthRefused)
	counter("scope_refused", s.ScopeRefused)
	counter("waf_hits", s.WAFHits)
	counter("waf_blocked", s.WAFBlocked)
	counter("backend_errors", s.BackendErrors)
	counter("commands", s.Commands)
	counter("publishes", s.Publishes)
	counter("topic_msgs", s.TopicMessages)
	counter("deliveries", s.Deliveries)
	gauge("topics", float64(s.Topics))
}

// admissionCollector exports the admission pipeline's refusals.
type admissionCollector struct {
	p       *admission.Pipeline
	refused *prometheus.Desc
	ips     *prometheus.Desc
	quota   *prometheus.Desc
}

func newAdmissionCollector(p *admission.Pipeline) *admissionCollector {
	return &admissionCollector{
		p: p,
		refused: prometheus.NewDesc("gatecast_admission_refused_total", "Upgrades and HTTP requests refused by admission, by reason "+
			"(connect_rate, ip_conns, ip_rate, ip_table, message_rate, request_rate, route_rate, key_rate, quota, api_key).", []string{"reason"}, nil),
		ips: prometheus.NewDesc("gatecast_admission_tracked_ips", "Client IPs with per-IP admission state.", nil, nil),
		quota: prometheus.NewDesc("gatecast_admission_quota_remaining", "Requests left in the current quota period of each usage plan key (key_id: the first 8 hex digits of the key's SHA-256).",
			[]string{"plan", "key_id"}, nil),
	}
}

func (c *admissionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.refused
	ch <- c.ips
	ch <- c.quota
}

func (c *admissionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, q := range c.p.Quotas(time.Now()) {
		ch <- prometheus.MustNewConstMetric(c.quota, prometheus.GaugeValue, float64(q.Remaining), q.Plan, q.KeyID)
	}
	s := c.p.Stats()
	for reason, n := range s.Refused {
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(c.ips, prometheus.GaugeValue, float64(s.TrackedIPs))
}
