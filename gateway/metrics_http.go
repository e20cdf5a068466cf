package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatecast/gatecast/accesslog"
	"github.com/gatecast/gatecast/httpapi"
)

// statMetric is one metric read from a stats snapshot S at scrape time.
type statMetric[S any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*S) float64
}

// statsCollector exports a component's counters at scrape time, so the
// request path only bumps atomics.
type statsCollector[S any] struct {
	stats   func() S
	metrics []statMetric[S]
	extra   func(*S, chan<- prometheus.Metric) // labelled metrics, may be nil
	descs   []*prometheus.Desc
}

func (c *statsCollector[S]) add(name, help string, kind prometheus.ValueType, value func(*S) float64) {
	c.metrics = append(c.metrics, statMetric[S]{prometheus.NewDesc("gatecast_"+name, help, nil, nil), kind, value})
}

func (c *statsCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *statsCollector[S]) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
	if c.extra != nil {
		c.extra(&s, ch)
	}
}

func newHTTPCollector(stats func() httpapi.Stats) prometheus.Collector {
	c := &statsCollector[httpapi.Stats]{stats: stats}
	counter := func(name, help string, v func(*httpapi.Stats) uint64) {
		c.add(name, help, prometheus.CounterValue, func(s *httpapi.Stats) float64 { return float64(v(s)) })
	}
	counter("http_requests_total", "HTTP requests received on the client listener.", func(s *httpapi.Stats) uint64 { return s.Requests })
	counter("http_answers_total", "Whole backend answers passed on to clients.", func(s *httpapi.Stats) uint64 { return s.Answers })
	counter("http_preflights_total", "CORS preflight requests answered by the gateway.", func(s *httpapi.Stats) uint64 { return s.Preflights })
	counter("http_timeouts_total", "Requests answered 504: no backend answer within the route timeout.", func(s *httpapi.Stats) uint64 { return s.Timeouts })
	counter("http_no_responders_total", "Requests answered 503: no backend subscribed to the route's subject.", func(s *httpapi.Stats) uint64 { return s.NoResponders })
	counter("http_publish_errors_total", "Requests or stream control messages NATS refused (NATS down).", func(s *httpapi.Stats) uint64 { return s.PublishErrors })
	counter("http_bad_answers_total", "Requests answered 502: the backend's answer was malformed.", func(s *httpapi.Stats) uint64 { return s.BadAnswers })
	counter("http_backend_errors_total", "Backend answers with a status of 400 or more.", func(s *httpapi.Stats) uint64 { return s.BackendErrors })
	counter("http_mapping_errors_total", "Requests whose mapping templates failed (500).", func(s *httpapi.Stats) uint64 { return s.MappingErrors })
	counter("http_late_answers_total", "Backend answers that came after their request had ended (dropped).", func(s *httpapi.Stats) uint64 { return s.LateAnswers })
	counter("http_client_gone_total", "Clients that left before their answer ended.", func(s *httpapi.Stats) uint64 { return s.ClientGone })
	counter("http_waf_findings_total", "WAF findings in HTTP requests, in any mode.", func(s *httpapi.Stats) uint64 { return s.WAFHits })
	counter("http_streams_total", "Streamed answers started.", func(s *httpapi.Stats) uint64 { return s.Streams })
	counter("http_streams_ended_total", "Streamed answers the backend ended normally.", func(s *httpapi.Stats) uint64 { return s.StreamsEnded })
	counter("http_streams_cut_total", "Streamed answers the gateway cut (slow client, idle backend, too long, malformed).", func(s *httpapi.Stats) uint64 { return s.StreamsCut })
	counter("http_stream_errors_total", "Streamed answers the backend ended with an error marker.", func(s *httpapi.Stats) uint64 { return s.StreamErrors })
	counter("http_stream_chunks_total", "Chunks of streamed answers written to clients.", func(s *httpapi.Stats) uint64 { return s.Chunks })
	c.add("http_streams_open", "Streamed answers in progress.", prometheus.GaugeValue, func(s *httpapi.Stats) float64 { return float64(s.StreamsOpen) })
	c.add("http_requests_in_flight", "Requests waiting for or receiving a backend answer (http.max_in_flight bounds them).", prometheus.GaugeValue, func(s *httpapi.Stats) float64 { return float64(s.InFlight) })
	refused := prometheus.NewDesc("gatecast_http_refused_total", "HTTP requests refused by admission, by reason (auth, waf, request_rate, route_rate, key_rate, quota, api_key, max_in_flight).", []string{"reason"}, nil)
	c.descs = append(c.descs, refused)
	c.extra = func(s *httpapi.Stats, ch chan<- prometheus.Metric) {
		for reason, n := range s.Refused {
			ch <- prometheus.MustNewConstMetric(refused, prometheus.CounterValue, float64(n), reason)
		}
	}
	return c
}

func newAccessLogCollector(stats func() accesslog.Stats) prometheus.Collector {
	c := &statsCollector[accesslog.Stats]{stats: stats}
	c.add("access_log_lines_total", "Access log lines written.", prometheus.CounterValue, func(s *accesslog.Stats) float64 { return float64(s.Logged) })
	c.add("access_log_dropped_total", "Access log entries dropped because the writer fell behind (the request path never waits).", prometheus.CounterValue, func(s *accesslog.Stats) float64 { return float64(s.Dropped) })
	c.add("access_log_write_errors_total", "Failed writes of the access log.", prometheus.CounterValue, func(s *accesslog.Stats) float64 { return float64(s.WriteErrors) })
	return c
}
