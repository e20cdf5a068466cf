package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatecast/gatecast/conn"
)

// wsCollector exports conn.Server's counters at scrape time, so the hot
// path only bumps per-loop atomics and never touches Prometheus.
type wsCollector struct {
	stats func() conn.Stats

	open, sockets, accepted, refused, frames, bytes, messagesIn *prometheus.Desc
	slow, dropped, closeTimeouts, acceptPauses, acceptErrors    *prometheus.Desc
	busy                                                        *prometheus.Desc
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
	}
}

func (c *wsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.sockets, c.accepted, c.refused, c.frames, c.bytes,
		c.messagesIn, c.slow, c.dropped, c.closeTimeouts, c.acceptPauses, c.acceptErrors, c.busy} {
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
	ch <- prometheus.MustNewConstMetric(c.busy, prometheus.CounterValue, s.LoopBusy.Seconds())
}
