package admission

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the admission section. Every field's zero value means the
// default in its comment (Amazon API Gateway's quotas where it has one).
type Config struct {
	// ConnectRate bounds new WebSocket connections per second over the
	// gateway. Zero means 500/s with a burst of 500; a negative PerSecond
	// turns it off.
	ConnectRate Rate `yaml:"connect_rate"`

	// PerIPConns caps the connections one client IP may hold at once.
	// Zero means no cap.
	PerIPConns int `yaml:"per_ip_conns"`
	// PerIPConnectRate bounds new connections per second from one client
	// IP. Zero means no limit.
	PerIPConnectRate Rate `yaml:"per_ip_connect_rate"`
	// MaxTrackedIPs bounds the per-IP table; past it, new IPs are refused
	// rather than the table growing. Zero means 100,000.
	MaxTrackedIPs int `yaml:"max_tracked_ips"`

	// TrustedProxies lists the addresses (CIDRs) whose X-Forwarded-For is
	// believed. Zero trusts nobody: the client IP is the socket's peer.
	TrustedProxies []string `yaml:"trusted_proxies"`

	// MessageRate bounds the messages per second one connection may send
	// (routes may set their own). Zero means no limit.
	MessageRate Rate `yaml:"message_rate"`
	// MessagePolicy is what happens to a message over the rate: "drop"
	// (the default: the client gets an error frame naming the limit) or
	// "close" (1008).
	MessagePolicy string `yaml:"message_policy"`

	// RequestRate bounds HTTP requests per second over the gateway.
	// Zero means 10,000/s with a burst of 5,000 (Amazon API Gateway's
	// account throttle); a negative PerSecond turns it off.
	RequestRate Rate `yaml:"request_rate"`
	// APIKeyHeader names the request header that carries an API key
	// (case-insensitive). Zero means "x-api-key", as Amazon's.
	APIKeyHeader string `yaml:"api_key_header"`
	// UsagePlans give API keys a rate and a quota (request.go). Zero
	// means none: no key is known, so a route that requires a key
	// refuses every request with 403.
	UsagePlans []UsagePlan `yaml:"usage_plans"`
}

// Pipeline holds the gateway-wide admission state.
type Pipeline struct {
	cfg     Config
	trusted []netip.Prefix
	connect *Limiter
	request *Limiter // HTTP requests over the gateway

	// keys finds an API key by the SHA-256 of its text; plans are in
	// config order. Both are fixed once New returns: only the state
	// inside each keyState changes, under its own lock.
	keys  map[[sha256.Size]byte]*keyState
	plans []*plan

	mu  sync.Mutex
	ips map[netip.Addr]*ipState // guarded by mu

	stats struct {
		connectRate, ipConns, ipRate, ipTable atomic.Uint64
		// HTTP requests (request.go)
		requestRate, routeRate, keyRate, quota, apiKey atomic.Uint64
	}
}

type ipState struct {
	conns int
	meter Meter
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Pipeline, error) {
	if cfg.ConnectRate == (Rate{}) {
		cfg.ConnectRate = Rate{PerSecond: 500, Burst: 500}
	}
	if cfg.MaxTrackedIPs == 0 {
		cfg.MaxTrackedIPs = 100000
	}
	var errs []error
	switch cfg.MessagePolicy {
	case "":
		cfg.MessagePolicy = "drop"
	case "drop", "close":
	default:
		errs = append(errs, fmt.Errorf("admission.message_policy %q: want \"drop\" or \"close\"", cfg.MessagePolicy))
	}
	if cfg.PerIPConns < 0 {
		errs = append(errs, fmt.Errorf("admission.per_ip_conns %d must not be negative", cfg.PerIPConns))
	}
	p := &Pipeline{cfg: cfg, connect: NewLimiter(cfg.ConnectRate), ips: make(map[netip.Addr]*ipState)}
	errs = append(errs, p.initRequests()...)
	for _, s := range cfg.TrustedProxies {
		pfx, err := parsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("admission.trusted_proxies: %q is not an address or CIDR", s))
			continue
		}
		p.trusted = append(p.trusted, pfx)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Config returns the configuration in force, its defaults filled in and
// its API keys as "sha256:<hex>" digests, safe to log.
func (p *Pipeline) Config() Config { return p.cfg }

// ClientIP is the client's address: the socket's peer, or, when the peer
// is a trusted proxy, the right-most address in X-Forwarded-For that is
// not a trusted proxy itself.
func (p *Pipeline) ClientIP(peer netip.Addr, forwardedFor string) netip.Addr {
	if len(p.trusted) == 0 || forwardedFor == "" || !p.isTrusted(peer) {
		return peer
	}
	for rest := forwardedFor; rest != ""; {
		i := strings.LastIndexByte(rest, ',')
		field := strings.TrimSpace(rest[i+1:])
		if i < 0 {
			rest = ""
		} else {
			rest = rest[:i]
		}
		a, err := netip.ParseAddr(field)
		if err != nil {
			return peer // a malformed list: trust only what we saw
		}
		a = a.Unmap()
		if !p.isTrusted(a) {
			return a
		}
		peer = a
	}
	return peer
}

func (p *Pipeline) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pfx := range p.trusted {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// Connect admits a new WebSocket connection from ip at now: the gateway's
// connect rate, then the IP's rate and connection cap. On success the IP
// holds one more connection until Release.
func (p *Pipeline) Connect(ip netip.Addr, now time.Time) *Refusal {
	if ok, wait := p.connect.Allow(now); !ok {
		p.stats.connectRate.Add(1)
		return tooMany("connect_rate", fmt.Sprintf("too many new connections: the gateway accepts %g per second", p.cfg.ConnectRate.PerSecond), wait)
	}
	if p.cfg.PerIPConns == 0 && p.cfg.PerIPConnectRate.Unlimited() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.ips[ip]
	if st == nil {
		if len(p.ips) >= p.cfg.MaxTrackedIPs {
			p.sweepLocked(now)
			if len(p.ips) >= p.cfg.MaxTrackedIPs {
				p.stats.ipTable.Add(1)
				return &Refusal{Status: 503, RetryAfter: time.Second, Reason: "ip_table", Detail: "too many clients at once"}
			}
		}
		st = &ipState{}
		p.ips[ip] = st
	}
	if p.cfg.PerIPConns > 0 && st.conns >= p.cfg.PerIPConns {
		p.stats.ipConns.Add(1)
		return tooMany("ip_conns", fmt.Sprintf("too many connections from one address: at most %d", p.cfg.PerIPConns), time.Second)
	}
	if ok, wait := st.meter.Allow(now, p.cfg.PerIPConnectRate); !ok {
		p.stats.ipRate.Add(1)
		return tooMany("ip_rate", fmt.Sprintf("too many new connections from one address: at most %g per second", p.cfg.PerIPConnectRate.PerSecond), wait)
	}
	st.conns++
	return nil
}

// Release gives back the connection ip took in Connect.
func (p *Pipeline) Release(ip netip.Addr, now time.Time) {
	if p.cfg.PerIPConns == 0 && p.cfg.PerIPConnectRate.Unlimited() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.ips[ip]
	if st == nil {
		return
	}
	st.conns--
	if st.conns <= 0 && st.meter.Full(now, p.cfg.PerIPConnectRate) {
		delete(p.ips, ip)
	}
}

// sweepLocked forgets IPs with no connection and a full bucket.
// Caller holds mu.
func (p *Pipeline) sweepLocked(now time.Time) {
	for ip, st := range p.ips {
		if st.conns <= 0 && st.meter.Full(now, p.cfg.PerIPConnectRate) {
			delete(p.ips, ip)
		}
	}
}

// Message applies the message rate to one connection's meter. Loop
// goroutine of the connection; no allocation when it admits.
func (p *Pipeline) Message(m *Meter, r Rate, now time.Time) *Refusal {
	if ok, wait := m.Allow(now, r); !ok {
		status := 429
		return &Refusal{Status: status, RetryAfter: wait, Reason: "message_rate",
			Detail: fmt.Sprintf("Too Many Requests: message rate limit of %g per second exceeded", r.PerSecond)}
	}
	return nil
}

// Stats are the pipeline's refusal counters by reason (every Refusal.Reason
// that Connect and Request give, zero or not), and the number of client
// IPs tracked.
type Stats struct {
	Refused    map[string]uint64
	TrackedIPs int
}

// Stats returns the counters.
func (p *Pipeline) Stats() Stats {
	p.mu.Lock()
	n := len(p.ips)
	p.mu.Unlock()
	return Stats{TrackedIPs: n, Refused: map[string]uint64{
		"connect_rate": p.stats.connectRate.Load(),
		"ip_conns":     p.stats.ipConns.Load(),
		"ip_rate":      p.stats.ipRate.Load(),
		"ip_table":     p.stats.ipTable.Load(),
		"request_rate": p.stats.requestRate.Load(),
		"route_rate":   p.stats.routeRate.Load(),
		"key_rate":     p.stats.keyRate.Load(),
		"quota":        p.stats.quota.Load(),
		"api_key":      p.stats.apiKey.Load(),
	}}
}
