package admission

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/gatecast/gatecast/internal/httpsyntax"
)

// HTTP requests pass three kinds of throttle, after Amazon API Gateway's:
// the gateway's request rate (Config.RequestRate), a route's own rate (a
// *Limiter the caller builds per route), and the usage plan of the API key
// the request carries: a rate per key and a quota per key and calendar
// period. Request applies them all in one call; a refusal says which one
// refused and when to come back.
//
// # Order, and why no refusal costs a token
//
// Request looks at the most specific limit first and the shared one last:
//
//	api_key → quota → key_rate → route_rate → request_rate
//
// A client over its own plan is told so, with its own Retry-After, and
// never reaches the gateway's bucket, which well-behaved clients share
// (and whose lock every request takes). The quota is looked at before the
// key's rate: a key that has used up its month should hear "quota" and
// the time to the 1st, not "retry in 100 ms" for as long as the month
// lasts.
//
// Each stage takes its token as it passes. When a later stage refuses,
// the earlier ones get theirs back (as golang.org/x/time/rate's
// Reservation.Cancel does): a request refused by the gateway costs its key
// no token and no quota unit. The quota unit is taken under the key's lock
// together with the check, so a key's quota is exact under any number of
// goroutines; a unit given back by a later refusal may, for the
// microseconds between, have made a concurrent request of the same key see
// the quota one lower than it ends up. That can refuse one request early
// at the very edge of a quota, never admit one too many.
//
// # API keys
//
// Keys are secrets. The pipeline keeps only the SHA-256 of each key, never
// its text (Config() lists them as "sha256:<hex>"), and finds a presented
// key by the SHA-256 of what was sent: the map lookup compares digests,
// and how long it takes says nothing about a key that would hash to them.
// Config may list a key as "sha256:<64 hex digits>" so that the key itself
// need not be in the config file (`printf %s "$KEY" | sha256sum`). What
// metrics and logs see of a key is its KeyID: the first 8 hex digits of
// the digest.
//
// On a route that requires a key, a missing or unknown key is refused
// with 403 "Forbidden", as Amazon answers. On a route that does not, an
// unknown key is the same as no key (so a client with a revoked key still
// reaches public routes), and a known key is metered: its plan's rate
// and quota count all the traffic the key is sent with.
//
// Quota state is in memory, per Pipeline: a restart or a reload that
// builds a new Pipeline starts every key's period anew, and each node of
// a cluster counts its own.

// UsagePlan is a rate and a quota that each of its API keys gets for
// itself (Amazon's usage plans work per key, too).
type UsagePlan struct {
	// Name labels the plan in metrics (QuotaState.Plan) and logs.
	// Required and unique.
	Name string `yaml:"name"`
	// Rate bounds each key's requests per second. Zero means no rate
	// per key.
	Rate Rate `yaml:"rate"`
	// Quota bounds each key's requests per calendar period. Zero means
	// no quota.
	Quota Quota `yaml:"quota"`
	// Keys are the plan's API keys: the key itself (at least 20
	// characters, as Amazon requires), or "sha256:" and the key's
	// SHA-256 in hex. A key belongs to one plan. Zero means a plan with
	// no keys yet.
	Keys []string `yaml:"keys"`
}

// Quota is a number of requests per calendar period, in UTC.
type Quota struct {
	// Limit is how many requests each key may make per period. Zero
	// means no quota.
	Limit int64 `yaml:"limit"`
	// Period is "day" (from 00:00 UTC), "week" (from Monday 00:00 UTC,
	// as ISO 8601 weeks; Amazon's default starts on Sunday) or "month"
	// (from the 1st, 00:00 UTC). Zero is an error when Limit is set: a
	// quota says its period.
	Period Period `yaml:"period"`
}

// Period is a quota's calendar period.
type Period string

// The quota periods.
const (
	PeriodDay   Period = "day"
	PeriodWeek  Period = "week"
	PeriodMonth Period = "month"
)

// bounds returns the period that holds now, [start, end), in Unix ns.
func (p Period) bounds(now time.Time) (start, end int64) {
	y, m, d := now.UTC().Date()
	var s, e time.Time
	switch p {
	case PeriodDay:
		s = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		e = s.AddDate(0, 0, 1)
	case PeriodWeek:
		s = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		s = s.AddDate(0, 0, -(int(s.Weekday())+6)%7) // back to Monday
		e = s.AddDate(0, 0, 7)
	default: // PeriodMonth
		s = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		e = s.AddDate(0, 1, 0)
	}
	return s.UnixNano(), e.UnixNano()
}

// minKeyLen is the shortest key accepted in clear, Amazon's minimum: a
// shorter one is within reach of guessing.
const minKeyLen = 20

// hashPrefix marks a Keys entry given by its SHA-256.
const hashPrefix = "sha256:"

// plan is a UsagePlan compiled. Fixed once New returns.
type plan struct {
	name  string
	rate  Rate
	quota Quota
	keys  []*keyState // in config order, for Quotas

	// What a refused client is told, made once.
	rateDetail, quotaDetail string
}

// keyState is one API key's state.
type keyState struct {
	plan *plan
	id   string // KeyID: the first 8 hex digits of the SHA-256

	mu    sync.Mutex
	meter Meter // guarded by mu: the plan's rate for this key
	used  int64 // guarded by mu: quota units taken in [start, end)
	start int64 // guarded by mu: the current quota period, Unix ns
	end   int64 // guarded by mu: 0 until the first request
}

// roll moves the key to the quota period that holds now when the one it
// counts in has ended. A clock that steps back does not reopen a period.
// Caller holds mu.
func (k *keyState) roll(now time.Time) {
	if t := now.UnixNano(); t >= k.end {
		k.start, k.end = k.plan.quota.Period.bounds(now)
		k.used = 0
	}
}

// A take outcome: the key passed, or which of its limits refused.
const (
	keyPassed = iota
	keyQuota
	keyRate
)

// take checks the key's quota, then takes a token from its rate and,
// when both pass, a unit of its quota. It returns what refused (and the
// wait), or, on success, whether a quota unit was taken and in which
// period (for refund).
func (k *keyState) take(now time.Time) (outcome int, wait time.Duration, period int64, counted bool) {
	pl := k.plan
	k.mu.Lock()
	defer k.mu.Unlock()
	if pl.quota.Limit > 0 {
		k.roll(now)
		if k.used >= pl.quota.Limit {
			return keyQuota, time.Duration(k.end - now.UnixNano()), 0, false
		}
	}
	if ok, wait := k.meter.Allow(now, pl.rate); !ok {
		return keyRate, wait, 0, false
	}
	if pl.quota.Limit > 0 {
		k.used++
		return keyPassed, 0, k.start, true
	}
	return keyPassed, 0, 0, false
}

// refund gives back what take took, when a later stage refused.
func (k *keyState) refund(period int64, counted bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.meter.refund(k.plan.rate)
	if counted && k.start == period && k.used > 0 {
		k.used--
	}
}

// initRequests fills the HTTP defaults into p.cfg and compiles the usage
// plans. It returns every fault it finds; no message holds a key.
func (p *Pipeline) initRequests() []error {
	cfg := &p.cfg
	if cfg.RequestRate == (Rate{}) {
		cfg.RequestRate = Rate{PerSecond: 10000, Burst: 5000}
	}
	p.request = NewLimiter(cfg.RequestRate)
	var errs []error
	if cfg.APIKeyHeader == "" {
		cfg.APIKeyHeader = "x-api-key"
	} else if !httpsyntax.IsToken(cfg.APIKeyHeader) {
		errs = append(errs, fmt.Errorf("admission.api_key_header %q: not a header name", cfg.APIKeyHeader))
	}

	p.keys = make(map[[sha256.Size]byte]*keyState)
	where := make(map[[sha256.Size]byte]string) // digest -> "usage_plans[i].keys[j]"
	names := make(map[string]bool)
	// Config() shows the keys as digests: a copy, so that the caller's
	// slices are left as they were.
	hashed := slices.Clone(cfg.UsagePlans)
	defer func() { cfg.UsagePlans = hashed }()
	for i, up := range cfg.UsagePlans {
		hashed[i].Keys = make([]string, 0, len(up.Keys))
		field := fmt.Sprintf("admission.usage_plans[%d]", i)
		switch {
		case up.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: required (it labels the plan's metrics)", field))
		case names[up.Name]:
			errs = append(errs, fmt.Errorf("%s.name %q: another plan has that name", field, up.Name))
		}
		names[up.Name] = true
		q := up.Quota
		switch {
		case q.Limit < 0:
			errs = append(errs, fmt.Errorf("%s.quota.limit %d: must not be negative (0 means no quota)", field, q.Limit))
		case q.Limit > 0 && q.Period != PeriodDay && q.Period != PeriodWeek && q.Period != PeriodMonth:
			errs = append(errs, fmt.Errorf("%s.quota.period %q: want day, week or month", field, q.Period))
		}
		pl := &plan{
			name:        up.Name,
			rate:        up.Rate,
			quota:       q,
			rateDetail:  "Too Many Requests: this API key's request rate is exceeded",
			quotaDetail: "Limit Exceeded: this API key's quota for the " + string(q.Period) + " is used up",
		}
		for j, s := range up.Keys {
			kf := fmt.Sprintf("%s.keys[%d]", field, j)
			sum, err := keyDigest(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", kf, err))
				continue
			}
			if prev, dup := where[sum]; dup {
				errs = append(errs, fmt.Errorf("%s: the same key as admission.%s (a key belongs to one plan)", kf, prev))
				continue
			}
			where[sum] = strings.TrimPrefix(kf, "admission.")
			hashed[i].Keys = append(hashed[i].Keys, hashPrefix+hex.EncodeToString(sum[:]))
			k := &keyState{plan: pl, id: hex.EncodeToString(sum[:4])}
			p.keys[sum] = k
			pl.keys = append(pl.keys, k)
		}
		p.plans = append(p.plans, pl)
	}
	return errs
}

// keyDigest is the SHA-256 of a Keys entry: the key in clear, or
// "sha256:<hex>". Its errors never quote the entry, which is a secret.
func keyDigest(s string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if h, ok := strings.CutPrefix(s, hashPrefix); ok {
		if len(h) != 2*sha256.Size {
			return sum, fmt.Errorf("a %q key has %d hex digits after the prefix, want %d", hashPrefix, len(h), 2*sha256.Size)
		}
		if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
			return sum, errors.New("a " + hashPrefix + " key is not hex after the prefix")
		}
		return sum, nil
	}
	if len(s) < minKeyLen {
		return sum, fmt.Errorf("a key of %d characters is too easy to guess: use at least %d", len(s), minKeyLen)
	}
	return sha256.Sum256([]byte(s)), nil
}

// The Detail of HTTP refusals; Amazon's messages lead.
const (
	detailForbidden   = "Forbidden"
	detailRequestRate = "Too Many Requests: the gateway is at its request rate"
	detailRouteRate   = "Too Many Requests: this route's request rate is exceeded"
)

// Request admits one HTTP request at now, or says why not. route is the
// route's own limit (NewLimiter with the route's rate; nil for none);
// apiKey is the value of the Config.APIKeyHeader header ("" for none);
// keyRequired says whether the route requires a key.
//
// It checks, in order (see the top of request.go for why):
//
//   - the key: on a route that requires one, a missing or unknown key is
//     refused with 403, Reason "api_key" and Detail "Forbidden";
//   - the key's plan quota: 429, Reason "quota", Retry-After the time to
//     the next period;
//   - the key's plan rate: 429, Reason "key_rate";
//   - the route's rate: 429, Reason "route_rate";
//   - the gateway's rate: 429, Reason "request_rate".
//
// A refusal gives back what earlier stages took, so it costs the client
// no token and no quota unit. Admitting allocates nothing; a refusal
// allocates the *Refusal, which is the caller's. Safe for concurrent use.
func (p *Pipeline) Request(route *Limiter, apiKey string, keyRequired bool, now time.Time) *Refusal {
	var k *keyState
	if apiKey != "" && len(p.keys) > 0 {
		// The key is hashed where it lies: sha256 reads it and keeps
		// nothing, and a copy would allocate for keys over 32 bytes.
		k = p.keys[sha256.Sum256(unsafe.Slice(unsafe.StringData(apiKey), len(apiKey)))]
	}
	if k == nil && keyRequired {
		p.stats.apiKey.Add(1)
		return &Refusal{Status: http.StatusForbidden, Reason: "api_key", Detail: detailForbidden}
	}

	var (
		period  int64
		counted bool
	)
	if k != nil {
		var (
			outcome int
			wait    time.Duration
		)
		outcome, wait, period, counted = k.take(now)
		switch outcome {
		case keyQuota:
			p.stats.quota.Add(1)
			return tooMany("quota", k.plan.quotaDetail, wait)
		case keyRate:
			p.stats.keyRate.Add(1)
			return tooMany("key_rate", k.plan.rateDetail, wait)
		}
	}
	if route != nil {
		if ok, wait := route.Allow(now); !ok {
			if k != nil {
				k.refund(period, counted)
			}
			p.stats.routeRate.Add(1)
			return tooMany("route_rate", detailRouteRate, wait)
		}
	}
	if ok, wait := p.request.Allow(now); !ok {
		if route != nil {
			route.refund()
		}
		if k != nil {
			k.refund(period, counted)
		}
		p.stats.requestRate.Add(1)
		return tooMany("request_rate", detailRequestRate, wait)
	}
	return nil
}

// QuotaState is one API key's quota at a moment, for a gauge of what is
// left.
type QuotaState struct {
	Plan  string // UsagePlan.Name
	KeyID string // the first 8 hex digits of the key's SHA-256: not a secret
	Limit int64  // Quota.Limit
	Used  int64  // requests counted in the current period
	// Remaining is Limit - Used.
	Remaining int64
	// ResetsAt is when the next period starts and Used goes back to 0.
	ResetsAt time.Time
}

// Quotas returns the quota state at now of every key whose plan has a
// quota, plan by plan in config order and each plan's keys in order. Safe
// for concurrent use; it takes each key's lock in turn.
func (p *Pipeline) Quotas(now time.Time) []QuotaState {
	var out []QuotaState
	for _, pl := range p.plans {
		if pl.quota.Limit <= 0 {
			continue
		}
		for _, k := range pl.keys {
			k.mu.Lock()
			k.roll(now)
			used, end := k.used, k.end
			k.mu.Unlock()
			out = append(out, QuotaState{
				Plan: pl.name, KeyID: k.id, Limit: pl.quota.Limit, Used: used,
				Remaining: pl.quota.Limit - used, ResetsAt: time.Unix(0, end).UTC(),
			})
		}
	}
	return out
}
