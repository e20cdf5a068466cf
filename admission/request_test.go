package admission

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	goldKey   = "gold-0123456789abcdefghij"
	silverKey = "silver-0123456789abcdefgh"
	hashedKey = "hashed-0123456789abcdefgh" // listed by its digest only
)

func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func newPipeline(t testing.TB, cfg Config) *Pipeline {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wantRefusal fails unless ref refuses with reason (or admits, for "").
func wantRefusal(t *testing.T, ref *Refusal, reason string) {
	t.Helper()
	switch {
	case reason == "" && ref != nil:
		t.Fatalf("refused: %v", ref)
	case reason != "" && ref == nil:
		t.Fatalf("admitted, want refused for %s", reason)
	case reason != "" && ref.Reason != reason:
		t.Fatalf("refused for %s (%v), want %s", ref.Reason, ref, reason)
	}
}

func TestRequestRateDefault(t *testing.T) {
	p := newPipeline(t, Config{})
	if got := p.Config(); got.RequestRate != (Rate{PerSecond: 10000, Burst: 5000}) || got.APIKeyHeader != "x-api-key" {
		t.Fatalf("defaults: request_rate %+v, api_key_header %q", got.RequestRate, got.APIKeyHeader)
	}
	for i := range 5000 {
		if ref := p.Request(nil, "", false, t0); ref != nil {
			t.Fatalf("request %d of the burst: %v", i, ref)
		}
	}
	ref := p.Request(nil, "", false, t0)
	wantRefusal(t, ref, "request_rate")
	// A token comes back in 100µs; a refusal says at least 1ms.
	if ref.Status != 429 || ref.RetryAfter != time.Millisecond || ref.RetryAfterHeader() != "1" {
		t.Fatalf("the 5,001st at once: %+v, want 429 after 1ms (Retry-After: 1)", ref)
	}
	wantRefusal(t, p.Request(nil, "", false, t0.Add(100*time.Microsecond)), "")
	if got := p.Stats().Refused["request_rate"]; got != 1 {
		t.Fatalf("counted %d request_rate refusals, want 1", got)
	}

	off := newPipeline(t, Config{RequestRate: Rate{PerSecond: -1}})
	for i := range 100000 {
		if ref := off.Request(nil, "", false, t0); ref != nil {
			t.Fatalf("request %d with request_rate off: %v", i, ref)
		}
	}
}

// plansConfig has two plans: gold (rate 5 burst 5, 100 a day) and silver
// (no rate, 3 a month), and no gateway limit to speak of.
func plansConfig() Config {
	return Config{
		RequestRate: Rate{PerSecond: -1},
		UsagePlans: []UsagePlan{
			{Name: "gold", Rate: Rate{PerSecond: 5, Burst: 5}, Quota: Quota{Limit: 100, Period: PeriodDay}, Keys: []string{goldKey}},
			{Name: "silver", Quota: Quota{Limit: 3, Period: PeriodMonth}, Keys: []string{silverKey, "sha256:" + strings.ToUpper(digest(hashedKey))}},
		},
	}
}

func TestRequestAPIKey(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		required bool
		reason   string
	}{
		{"required, known", goldKey, true, ""},
		{"required, known by digest", hashedKey, true, ""},
		{"required, missing", "", true, "api_key"},
		{"required, unknown", "nope-0123456789abcdefghij", true, "api_key"},
		{"required, the digest itself", "sha256:" + digest(hashedKey), true, "api_key"},
		{"required, another case", strings.ToUpper(goldKey), true, "api_key"},
		{"not required, missing", "", false, ""},
		{"not required, unknown", "nope-0123456789abcdefghij", false, ""},
		{"not required, known", goldKey, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline(t, plansConfig())
			ref := p.Request(nil, tt.key, tt.required, t0)
			wantRefusal(t, ref, tt.reason)
			if ref != nil && (ref.Status != 403 || ref.Detail != "Forbidden" || ref.RetryAfterHeader() != "") {
				t.Errorf("refusal %+v, want 403 Forbidden without Retry-After", ref)
			}
			if got, want := p.Stats().Refused["api_key"], uint64(len(tt.reason)/len("api_key")); got != want {
				t.Errorf("counted %d api_key refusals, want %d", got, want)
			}
		})
	}

	t.Run("no plans", func(t *testing.T) {
		p := newPipeline(t, Config{})
		wantRefusal(t, p.Request(nil, goldKey, true, t0), "api_key")
		wantRefusal(t, p.Request(nil, goldKey, false, t0), "")
	})
	t.Run("unknown key is not metered", func(t *testing.T) {
		p := newPipeline(t, plansConfig())
		for range 10 { // over gold's burst of 5
			wantRefusal(t, p.Request(nil, "nope-0123456789abcdefghij", false, t0), "")
		}
	})
	t.Run("known key is metered on a public route", func(t *testing.T) {
		p := newPipeline(t, plansConfig())
		for range 5 {
			wantRefusal(t, p.Request(nil, goldKey, false, t0), "")
		}
		wantRefusal(t, p.Request(nil, goldKey, false, t0), "key_rate")
	})
}

func TestRequestKeyRate(t *testing.T) {
	p := newPipeline(t, plansConfig())
	for i := range 5 {
		if ref := p.Request(nil, goldKey, true, t0); ref != nil {
			t.Fatalf("request %d of the burst: %v", i, ref)
		}
	}
	ref := p.Request(nil, goldKey, true, t0)
	wantRefusal(t, ref, "key_rate")
	if ref.Status != 429 || ref.RetryAfter != 200*time.Millisecond {
		t.Fatalf("over the key's rate: %+v, want 429 after 200ms", ref)
	}
	wantRefusal(t, p.Request(nil, silverKey, true, t0), "") // each key its own bucket
	wantRefusal(t, p.Request(nil, goldKey, true, t0.Add(200*time.Millisecond)), "")
	if q := quotaOf(t, p, "gold"); q.Used != 6 {
		t.Errorf("gold used %d of its quota, want 6 (refusals count nothing)", q.Used)
	}
}

func quotaOf(t *testing.T, p *Pipeline, plan string) QuotaState {
	t.Helper()
	for _, q := range p.Quotas(t0) {
		if q.Plan == plan {
			return q
		}
	}
	t.Fatalf("no quota for plan %q", plan)
	return QuotaState{}
}

// TestRequestNoWaste: a refusal further down the chain gives back what
// the stages before it took.
func TestRequestNoWaste(t *testing.T) {
	t.Run("route refuses", func(t *testing.T) {
		p := newPipeline(t, plansConfig())
		route := NewLimiter(Rate{PerSecond: 1, Burst: 2})
		var reasons []string
		for range 5 {
			if ref := p.Request(route, goldKey, true, t0); ref != nil {
				reasons = append(reasons, ref.Reason)
			} else {
				reasons = append(reasons, "ok")
			}
		}
		if got := strings.Join(reasons, " "); got != "ok ok route_rate route_rate route_rate" {
			t.Fatalf("got %s", got)
		}
		if q := quotaOf(t, p, "gold"); q.Used != 2 {
			t.Errorf("gold used %d, want 2: the route's refusals took quota", q.Used)
		}
		// The key's bucket (5) lost only the 2 admitted requests' tokens.
		for i := range 3 {
			if ref := p.Request(nil, goldKey, true, t0); ref != nil {
				t.Fatalf("request %d on another route: %v; the route's refusals took key tokens", i, ref)
			}
		}
		wantRefusal(t, p.Request(nil, goldKey, true, t0), "key_rate")
	})

	t.Run("gateway refuses", func(t *testing.T) {
		cfg := plansConfig()
		cfg.RequestRate = Rate{PerSecond: 1, Burst: 1}
		p := newPipeline(t, cfg)
		route := NewLimiter(Rate{PerSecond: 1, Burst: 3})
		wantRefusal(t, p.Request(route, goldKey, true, t0), "")
		for range 4 {
			wantRefusal(t, p.Request(route, goldKey, true, t0), "request_rate")
		}
		if q := quotaOf(t, p, "gold"); q.Used != 1 {
			t.Errorf("gold used %d, want 1", q.Used)
		}
		// One second on, the gateway has one token again, the route still
		// two and the key four of five: the refusals cost neither.
		later := t0.Add(time.Second)
		wantRefusal(t, p.Request(route, goldKey, true, later), "")
		if ok, _ := route.Allow(later); !ok {
			t.Error("the route's bucket lost tokens to the gateway's refusals")
		}
	})

	t.Run("quota first", func(t *testing.T) {
		// silver has 3 a month: its 4th is refused for the quota, and
		// costs the route nothing.
		p := newPipeline(t, plansConfig())
		route := NewLimiter(Rate{PerSecond: 1, Burst: 4})
		for range 3 {
			wantRefusal(t, p.Request(route, silverKey, true, t0), "")
		}
		wantRefusal(t, p.Request(route, silverKey, true, t0), "quota")
		wantRefusal(t, p.Request(route, "", false, t0), "")
	})
}

func TestQuotaPeriods(t *testing.T) {
	pst := time.FixedZone("PST", -8*3600)
	tests := []struct {
		name   string
		period Period
		at     time.Time // the quota is used up here
		resets time.Time
	}{
		{"day", PeriodDay, time.Date(2024, 3, 10, 23, 59, 58, 0, time.UTC), time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)},
		{"day in another zone", PeriodDay, time.Date(2024, 3, 10, 20, 0, 0, 0, pst), time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC)},
		{"week from sunday", PeriodWeek, time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC), time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)},
		{"week from monday", PeriodWeek, time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 18, 0, 0, 0, 0, time.UTC)},
		{"week across a year", PeriodWeek, time.Date(2024, 12, 31, 9, 0, 0, 0, time.UTC), time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)},
		{"month, leap february", PeriodMonth, time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"month, december", PeriodMonth, time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline(t, Config{RequestRate: Rate{PerSecond: -1}, UsagePlans: []UsagePlan{
				{Name: "p", Quota: Quota{Limit: 2, Period: tt.period}, Keys: []string{goldKey}},
			}})
			for range 2 {
				wantRefusal(t, p.Request(nil, goldKey, true, tt.at), "")
			}
			ref := p.Request(nil, goldKey, true, tt.at)
			wantRefusal(t, ref, "quota")
			if want := tt.resets.Sub(tt.at); ref.Status != 429 || ref.RetryAfter != want {
				t.Fatalf("refusal %+v, want 429 with Retry-After %v", ref, want)
			}
			q := p.Quotas(tt.at)[0]
			if q.Used != 2 || q.Remaining != 0 || !q.ResetsAt.Equal(tt.resets) {
				t.Fatalf("quota %+v, want used 2, none left, resets at %v", q, tt.resets)
			}
			wantRefusal(t, p.Request(nil, goldKey, true, tt.resets.Add(-time.Nanosecond)), "quota")
			wantRefusal(t, p.Request(nil, goldKey, true, tt.resets), "")
			if q := p.Quotas(tt.resets)[0]; q.Used != 1 || q.Remaining != 1 {
				t.Fatalf("in the next period: %+v, want used 1", q)
			}
			// A clock that steps back does not reopen the old period.
			wantRefusal(t, p.Request(nil, goldKey, true, tt.at), "")
			wantRefusal(t, p.Request(nil, goldKey, true, tt.at), "quota")
		})
	}
}

func TestQuotas(t *testing.T) {
	p := newPipeline(t, plansConfig())
	for range 2 {
		wantRefusal(t, p.Request(nil, silverKey, true, t0), "")
	}
	wantRefusal(t, p.Request(nil, goldKey, true, t0), "")
	day := time.Unix(t0.Unix()-t0.Unix()%86400+86400, 0).UTC()
	y, m, _ := t0.UTC().Date()
	month := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	want := []QuotaState{
		{Plan: "gold", KeyID: digest(goldKey)[:8], Limit: 100, Used: 1, Remaining: 99, ResetsAt: day},
		{Plan: "silver", KeyID: digest(silverKey)[:8], Limit: 3, Used: 2, Remaining: 1, ResetsAt: month},
		{Plan: "silver", KeyID: digest(hashedKey)[:8], Limit: 3, Used: 0, Remaining: 3, ResetsAt: month},
	}
	got := p.Quotas(t0)
	if len(got) != len(want) {
		t.Fatalf("Quotas = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Quotas[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, q := range got {
		if strings.Contains(goldKey+silverKey+hashedKey, q.KeyID) {
			t.Errorf("KeyID %q is part of a key", q.KeyID)
		}
	}
	if s := p.Stats().Refused; s["quota"] != 0 || s["key_rate"] != 0 {
		t.Errorf("refusals counted without refusals: %v", s)
	}
}

func TestRequestStats(t *testing.T) {
	cfg := plansConfig()
	cfg.RequestRate = Rate{PerSecond: 1, Burst: 1}
	p := newPipeline(t, cfg)
	route := NewLimiter(Rate{PerSecond: 1, Burst: 1})
	later := t0.Add(time.Hour)
	steps := []struct {
		route    *Limiter
		key      string
		required bool
		at       time.Time
		reason   string
	}{
		{nil, "", true, t0, "api_key"},
		{route, "", false, t0, ""},
		{route, "", false, t0, "route_rate"},
		{nil, "", false, t0, "request_rate"},
		{nil, silverKey, true, later, ""},
		{nil, silverKey, true, later, "request_rate"}, // gives back silver's unit
		{nil, silverKey, true, later.Add(time.Second), ""},
		{nil, silverKey, true, later.Add(2 * time.Second), ""},
		{nil, silverKey, true, later.Add(3 * time.Second), "quota"},
		{nil, goldKey, true, later.Add(4 * time.Second), ""},
	}
	want := map[string]uint64{}
	for i, st := range steps {
		ref := p.Request(st.route, st.key, st.required, st.at)
		if got := ""; ref != nil {
			got = ref.Reason
			if got != st.reason {
				t.Fatalf("step %d: %s, want %q", i, got, st.reason)
			}
		} else if st.reason != "" {
			t.Fatalf("step %d admitted, want %s", i, st.reason)
		}
		if st.reason != "" {
			want[st.reason]++
		}
	}
	got := p.Stats().Refused
	for _, reason := range []string{"api_key", "quota", "key_rate", "route_rate", "request_rate"} {
		if got[reason] != want[reason] {
			t.Errorf("Refused[%q] = %d, want %d", reason, got[reason], want[reason])
		}
	}
}

func TestUsagePlanErrors(t *testing.T) {
	plan := func(mod func(*UsagePlan)) Config {
		up := UsagePlan{Name: "p", Quota: Quota{Limit: 1, Period: PeriodDay}, Keys: []string{goldKey}}
		mod(&up)
		return Config{UsagePlans: []UsagePlan{up}}
	}
	tests := []struct {
		name    string
		cfg     Config
		mention string
	}{
		{"header name", Config{APIKeyHeader: "x api key"}, `api_key_header "x api key"`},
		{"no name", plan(func(u *UsagePlan) { u.Name = "" }), "usage_plans[0].name"},
		{"same name", Config{UsagePlans: []UsagePlan{{Name: "a"}, {Name: "a"}}}, `usage_plans[1].name "a"`},
		{"negative limit", plan(func(u *UsagePlan) { u.Quota.Limit = -1 }), "quota.limit -1"},
		{"no period", plan(func(u *UsagePlan) { u.Quota.Period = "" }), `quota.period ""`},
		{"bad period", plan(func(u *UsagePlan) { u.Quota.Period = "year" }), `quota.period "year"`},
		{"short key", plan(func(u *UsagePlan) { u.Keys = []string{goldKey, "short-secret"} }), "keys[1]: a key of 12 characters"},
		{"digest length", plan(func(u *UsagePlan) { u.Keys = []string{"sha256:abcd"} }), "keys[0]: a \"sha256:\" key has 4 hex digits"},
		{"digest hex", plan(func(u *UsagePlan) { u.Keys = []string{"sha256:" + strings.Repeat("zz", 32)} }), "keys[0]: a sha256: key is not hex"},
		{"same key twice", Config{UsagePlans: []UsagePlan{
			{Name: "a", Keys: []string{goldKey}},
			{Name: "b", Keys: []string{"sha256:" + digest(goldKey)}},
		}}, "usage_plans[1].keys[0]: the same key as admission.usage_plans[0].keys[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			for _, secret := range []string{goldKey, "short-secret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a key", err)
				}
			}
		})
	}
}

func TestUsagePlanYAML(t *testing.T) {
	doc := `
request_rate: {per_second: 100, burst: 50}
api_key_header: X-Client-Key
usage_plans:
  - name: free
    rate: {per_second: 1, burst: 2}
    quota: {limit: 1000, period: month}
    keys: ["` + goldKey + `", "sha256:` + digest(hashedKey) + `"]
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	p := newPipeline(t, cfg)
	if got := p.Config(); got.RequestRate != (Rate{PerSecond: 100, Burst: 50}) || got.APIKeyHeader != "X-Client-Key" {
		t.Fatalf("decoded %+v", got)
	}
	wantRefusal(t, p.Request(nil, hashedKey, true, t0), "")
	wantRefusal(t, p.Request(nil, goldKey, true, t0), "")
	wantRefusal(t, p.Request(nil, goldKey, true, t0), "")
	wantRefusal(t, p.Request(nil, goldKey, true, t0), "key_rate")
	if q := p.Quotas(t0); len(q) != 2 || q[0].Plan != "free" || q[0].Limit != 1000 || q[0].Used != 2 {
		t.Fatalf("quotas %+v", q)
	}
}

// TestRequestConcurrent: many goroutines on one key at one instant; the
// quota and the buckets admit exactly what they hold, and the refusals
// further down give back every unit they took.
func TestRequestConcurrent(t *testing.T) {
	tests := []struct {
		name      string
		quota     int64
		route     Rate
		gateway   Rate
		admitted  int64
		quotaUsed int64
	}{
		{"quota", 500, Rate{}, Rate{PerSecond: -1}, 500, 500},
		{"route under the quota", 500, Rate{PerSecond: 1, Burst: 300}, Rate{PerSecond: -1}, 300, 300},
		{"gateway under the route", 500, Rate{PerSecond: 1, Burst: 300}, Rate{PerSecond: 1, Burst: 200}, 200, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline(t, Config{RequestRate: tt.gateway, UsagePlans: []UsagePlan{
				{Name: "p", Quota: Quota{Limit: tt.quota, Period: PeriodDay}, Keys: []string{goldKey}},
			}})
			route := NewLimiter(tt.route)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 200 {
						if p.Request(route, goldKey, true, t0) == nil {
							admitted.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if got := admitted.Load(); got != tt.admitted {
				t.Errorf("admitted %d, want %d", got, tt.admitted)
			}
			if q := p.Quotas(t0)[0]; q.Used != tt.quotaUsed {
				t.Errorf("quota used %d, want %d", q.Used, tt.quotaUsed)
			}
			s := p.Stats().Refused
			if total := s["quota"] + s["route_rate"] + s["request_rate"]; total != uint64(16*200-tt.admitted) {
				t.Errorf("counted %d refusals, want %d (%v)", total, 16*200-tt.admitted, s)
			}
		})
	}
}

func TestRequestAllocs(t *testing.T) {
	p := newPipeline(t, Config{
		RequestRate: Rate{PerSecond: 1e12, Burst: 1 << 30},
		UsagePlans: []UsagePlan{{Name: "p", Rate: Rate{PerSecond: 1e12, Burst: 1 << 30},
			Quota: Quota{Limit: 1 << 60, Period: PeriodMonth}, Keys: []string{goldKey + goldKey}}},
	})
	route := NewLimiter(Rate{PerSecond: 1e12, Burst: 1 << 30})
	key := goldKey + goldKey // over 32 bytes: no stack copy to hide an allocation
	if n := testing.AllocsPerRun(1000, func() {
		if ref := p.Request(route, key, true, t0); ref != nil {
			t.Fatal(ref)
		}
	}); n != 0 {
		t.Fatalf("an admitted request allocates %v times", n)
	}
}

// BenchmarkRequestAdmit is the cost of admitting one HTTP request with
// every throttle on: the gateway's rate, the route's and an API key's
// plan (rate and quota), the key hashed with SHA-256.
func BenchmarkRequestAdmit(b *testing.B) {
	big := Rate{PerSecond: 1e12, Burst: 1 << 30}
	key := "bench-key-0123456789abcdef0123456789" // 36 bytes, a usual length
	p := newPipeline(b, Config{RequestRate: big, UsagePlans: []UsagePlan{
		{Name: "bench", Rate: big, Quota: Quota{Limit: 1 << 60, Period: PeriodMonth}, Keys: []string{key}},
	}})
	route := NewLimiter(big)
	b.Run("goroutines=1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ref := p.Request(route, key, true, t0); ref != nil {
				b.Fatal(ref)
			}
		}
	})
	b.Run("goroutines=GOMAXPROCS", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if ref := p.Request(route, key, true, t0); ref != nil {
					b.Error(ref)
					return
				}
			}
		})
	})
	b.Run("refused", func(b *testing.B) {
		p := newPipeline(b, Config{RequestRate: Rate{PerSecond: 1e-9, Burst: 1}, UsagePlans: []UsagePlan{
			{Name: "bench", Rate: big, Quota: Quota{Limit: 1 << 60, Period: PeriodMonth}, Keys: []string{key}},
		}})
		p.Request(nil, "", false, t0)
		b.ReportAllocs()
		for b.Loop() {
			if ref := p.Request(route, key, true, t0); ref == nil {
				b.Fatal("admitted")
			}
		}
	})
}

// TestConfigHidesKeys: Config() lists the keys as digests, which still
// work when fed back to New, and the caller's config is left alone.
func TestConfigHidesKeys(t *testing.T) {
	cfg := plansConfig()
	p := newPipeline(t, cfg)
	got := p.Config()
	want := []string{"sha256:" + digest(silverKey), "sha256:" + digest(hashedKey)}
	if strings.Join(got.UsagePlans[1].Keys, ",") != strings.Join(want, ",") {
		t.Fatalf("Config() keys %q, want %q", got.UsagePlans[1].Keys, want)
	}
	if cfg.UsagePlans[0].Keys[0] != goldKey {
		t.Fatal("New changed the caller's config")
	}
	again := newPipeline(t, got)
	wantRefusal(t, again.Request(nil, goldKey, true, t0), "")
}
