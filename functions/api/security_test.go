package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/edge"
	"synthos.dev/synthos/shared/ipfilter"
	"synthos.dev/synthos/shared/ratelimit/redistest"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
)

// rateCatalog: free allows a burst of 3 requests per key (then one a
// minute), pro 8; pro is bought with price pri_pro.
func rateCatalog(t testing.TB) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{
		{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 1000, ConcurrentJobs: 100, ReportRetentionDays: 1,
			RequestsPerMinute: 1, RequestBurst: 3, TenantRequestsPerMinute: 1000},
		{Name: plans.Pro, RowsPerMonth: 10_000_000, RowsPerJob: 1000, ConcurrentJobs: 100, ReportRetentionDays: 1,
			RequestsPerMinute: 1, RequestBurst: 8, TenantRequestsPerMinute: 1000, PriceIDs: []string{"pri_pro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// audits returns the audit events published so far.
func (f *fixture) audits() []audit.Event {
	f.pub.mu.Lock()
	defer f.pub.mu.Unlock()
	var out []audit.Event
	for _, m := range f.pub.msgs {
		if m.topic != topics.AuditEvents {
			continue
		}
		var ev audit.Event
		if err := json.Unmarshal(m.data, &ev); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func (f *fixture) auditCount(action string) int {
	n := 0
	for _, ev := range f.audits() {
		if ev.Action == action {
			n++
		}
	}
	return n
}

// burst sends n requests of key at once and counts the statuses.
func burst(f *fixture, n int, key string) map[int]int {
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.do(req{method: "GET", path: "/v1/usage", key: key})
			mu.Lock()
			got[r.status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return got
}

func TestSecurityPlanAwareRateLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{plans: rateCatalog(t), edgeEnv: map[string]string{}})
	free := f.key("free-co", apikeys.Read)
	pro := f.key("pro-co", apikeys.Read)
	if err := f.st.Set(context.Background(), subscription.CollRecords, "pro-co",
		subscription.Record{Tenant: "pro-co", Status: subscription.Active, PriceIDs: []string{"pri_pro"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key   string
		burst int
	}{{free, 3}, {pro, 8}} {
		for i := range tc.burst {
			r := f.do(req{method: "GET", path: "/v1/usage", key: tc.key})
			if r.status != 200 {
				t.Fatalf("request %d of burst %d: %d %s", i+1, tc.burst, r.status, r.body)
			}
			if got, want := r.header.Get("RateLimit"), fmt.Sprintf(`"key";r=%d;`, tc.burst-1-i); !strings.Contains(got, want) {
				t.Errorf("RateLimit %q, want it to contain %q", got, want)
			}
		}
		r := f.do(req{method: "GET", path: "/v1/usage", key: tc.key})
		if r.status != 429 || r.errCode(t) != "rate_limited" {
			t.Fatalf("beyond burst %d: %d %s", tc.burst, r.status, r.body)
		}
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After %q", ra)
		}
		if pol := r.header.Get("RateLimit-Policy"); !strings.Contains(pol, `"key";q=1;w=60`) || !strings.Contains(pol, `"ip";q=1200;w=60`) {
			t.Errorf("RateLimit-Policy %q", pol)
		}
	}
}

// 200 parallel requests with one key whose burst is 50: exactly 50 pass,
// in process and in Redis (shared by two API instances).
func TestSecurityNoOverAdmission(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SYNTHOS_RATE_KEY_PER_MINUTE": "1", "SYNTHOS_RATE_KEY_BURST": "50", "SYNTHOS_RATE_IP_BURST": "100000", "SYNTHOS_RATE_IP_PER_MINUTE": "100000"}
	t.Run("memory", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{edgeEnv: env})
		got := burst(f, 200, f.key("acme", apikeys.Read))
		if got[200] != 50 || got[429] != 150 {
			t.Fatalf("statuses %v, want 50 × 200 and 150 × 429", got)
		}
	})
	t.Run("redis", func(t *testing.T) {
		_, prefix := redistest.Client(t)
		renv := map[string]string{"SYNTHOS_REDIS_URL": "redis://127.0.0.1:6379/0"}
		for k, v := range env {
			renv[k] = v
		}
		counter := &edge.MemCounter{}
		a := newFixture(t, fixtureOptions{edgeEnv: renv, redisPrefix: prefix, counter: counter})
		key := a.key("acme", apikeys.Read)
		// A second instance over a copy of the key store: both count in
		// the same Redis.
		b := newFixture(t, fixtureOptions{edgeEnv: renv, redisPrefix: prefix, counter: counter})
		if err := copyKeys(a, b); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		got := map[int]int{}
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := a
				if i%2 == 1 {
					f = b
				}
				r := f.do(req{method: "GET", path: "/v1/usage", key: key})
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if got[200] != 50 || got[429] != 150 {
			t.Fatalf("statuses %v across two instances, want 50 × 200 and 150 × 429 (counters %v)", got, counter.Snapshot())
		}
	})
}

// copyKeys copies a's stored API keys into b's store.
func copyKeys(a, b *fixture) error {
	ctx := context.Background()
	docs, err := a.st.Query(ctx, apikeys.Collection, state.Query{})
	if err != nil {
		return err
	}
	for _, d := range docs {
		var v map[string]any
		if err := d.DataTo(&v); err != nil {
			return err
		}
		if err := b.st.Set(ctx, apikeys.Collection, d.ID, v); err != nil {
			return err
		}
	}
	return nil
}

func TestSecurityFailedKeysBanTheAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{edgeEnv: map[string]string{}})
	good := f.key("acme", apikeys.Read)
	// Ten failures at once are tolerated (the default: ten a minute); the
	// eleventh bans (a slow machine may refill one every 6 s: no
	// wall-clock limit, the count decides).
	failures := 0
	for ; failures < 100; failures++ {
		r := f.do(req{method: "GET", path: "/v1/jobs", key: fmt.Sprintf("sk_live_guess%04d", failures)})
		if r.status == 403 && r.errCode(t) == "ip_banned" {
			break
		}
		if r.status != 401 {
			t.Fatalf("guess %d: %d %s", failures, r.status, r.body)
		}
	}
	if failures < 11 || failures == 100 {
		t.Fatalf("banned after %d failures, want after the 11th", failures)
	}
	r := f.do(req{method: "GET", path: "/v1/jobs", key: good})
	if r.status != 403 || r.errCode(t) != "ip_banned" {
		t.Fatalf("after 11 failures a good key from the same address: %d %s", r.status, r.body)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 (the first ban is a minute)", r.header.Get("Retry-After"))
	}
	if n := f.auditCount("security.auth.failed"); n != failures {
		t.Errorf("%d auth.failed audit records, want %d", n, failures)
	}
	if n := f.auditCount("security.ip.banned"); n != 1 {
		t.Errorf("%d ip.banned audit records, want 1", n)
	}
	// No raw address or key in the records.
	for _, ev := range f.audits() {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "127.0.0.1") || strings.Contains(string(b), "sk_live_guess") {
			t.Errorf("audit record carries raw personal data: %s", b)
		}
	}
}

func TestSecurityWAF(t *testing.T) {
	t.Parallel()
	counter := &edge.MemCounter{}
	f := newFixture(t, fixtureOptions{edgeEnv: map[string]string{}, counter: counter})
	key := f.key("acme", apikeys.Read, apikeys.Write)
	attack := "/v1/jobs?cursor=" + url.QueryEscape("1' UNION SELECT password FROM users --")
	for i := range 6 {
		r := f.do(req{method: "GET", path: attack, key: key})
		if r.status != 403 || r.errCode(t) != "request_blocked" {
			t.Fatalf("attack %d: %d %s", i, r.status, r.body)
		}
		id, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["request_id"].(string)
		if id == "" || !strings.Contains(r.header.Get("traceparent"), id) || r.header.Get("X-Request-Id") != id {
			t.Fatalf("request id %q not the trace id (traceparent %q)", id, r.header.Get("traceparent"))
		}
	}
	// Five blocks in ten minutes are tolerated; the sixth banned the address.
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: key}); r.status != 403 || r.errCode(t) != "ip_banned" {
		t.Fatalf("after six blocks: %d %s", r.status, r.body)
	}
	if n := f.auditCount("security.waf.blocked"); n != 6 {
		t.Errorf("%d waf.blocked audit records, want 6", n)
	}
	var blocked int64
	for _, line := range counter.Snapshot() {
		if strings.HasPrefix(line, "waf.blocked{") {
			n, _ := strconv.ParseInt(line[strings.LastIndexByte(line, ' ')+1:], 10, 64)
			blocked += n
		}
	}
	if blocked != 6 {
		t.Errorf("waf.blocked counted %d times, want 6: %v", blocked, counter.Snapshot())
	}
	if n := f.auditCount("security.ip.banned"); n != 1 {
		t.Errorf("%d ip.banned records, want 1", n)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	key := f.key("acme", apikeys.Read)
	for _, rq := range []req{
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/v1/usage", key: key},
		{method: "GET", path: "/v1/nope", key: key},
		{method: "GET", path: "/v1/jobs"},
		{method: "GET", path: "/v1/jobs?x=" + url.QueryEscape("<script>alert(1)</script>"), key: key},
	} {
		r := f.do(rq)
		for h, want := range map[string]string{
			"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
			"X-Content-Type-Options":    "nosniff",
			"X-Frame-Options":           "DENY",
			"Content-Security-Policy":   "frame-ancestors 'none'",
			"Referrer-Policy":           "no-referrer",
		} {
			if got := r.header.Get(h); got != want {
				t.Errorf("%s %s (%d): %s = %q, want %q", rq.method, rq.path, r.status, h, got, want)
			}
		}
	}
	// Oversized headers and URLs are refused before anything else runs.
	long := strings.Repeat("a", 9000)
	if r := f.do(req{method: "GET", path: "/v1/jobs?cursor=" + long, key: key}); r.status != 414 {
		t.Errorf("long URL: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: key, header: map[string]string{"X-Pad": strings.Repeat("b", 33<<10)}}); r.status != 431 {
		t.Errorf("large headers: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: key, body: strings.Repeat(" ", 3<<20), header: map[string]string{"Content-Type": "application/json"}}); r.status != 413 {
		t.Errorf("large JSON body: %d", r.status)
	}
}

func TestSecurityIPRules(t *testing.T) {
	t.Parallel()
	t.Run("tenant", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{edgeEnv: map[string]string{}})
		locked := f.key("locked", apikeys.Read)
		open := f.key("open", apikeys.Read)
		store := ipfilter.NewTenantStore(f.st, time.Second)
		if _, err := store.Put(context.Background(), "locked", ipfilter.TenantRules{Allow: []string{"203.0.113.0/24"}}); err != nil {
			t.Fatal(err)
		}
		if r := f.do(req{method: "GET", path: "/v1/usage", key: locked}); r.status != 403 || r.errCode(t) != "ip_denied" {
			t.Fatalf("locked tenant from outside its allow list: %d %s", r.status, r.body)
		}
		if r := f.do(req{method: "GET", path: "/v1/usage", key: open}); r.status != 200 {
			t.Fatalf("other tenant: %d %s", r.status, r.body)
		}
	})
	t.Run("platform deny", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{edgeEnv: map[string]string{"SYNTHOS_IP_DENY": "127.0.0.0/8,::1"}})
		if r := f.do(req{method: "GET", path: "/healthz"}); r.status != 403 || r.errCode(t) != "ip_denied" {
			t.Fatalf("denied address: %d %s", r.status, r.body)
		}
	})
	t.Run("platform allow", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{edgeEnv: map[string]string{"SYNTHOS_IP_ALLOW": "127.0.0.1,::1"}})
		if r := f.do(req{method: "GET", path: "/healthz"}); r.status != 200 {
			t.Fatalf("allowed address: %d %s", r.status, r.body)
		}
	})
	t.Run("admin API is audited", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		admin := f.key("acme", apikeys.Admin)
		r := f.do(req{method: "PUT", path: "/v1/security/ip-rules", key: admin, body: map[string]any{"allow": []string{"127.0.0.1"}, "deny": []string{"198.51.100.0/24"}}})
		if r.status != 200 {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
		var found bool
		for _, ev := range f.audits() {
			if ev.Action == "security.ip_rules.updated" && ev.Details["allow"] == "127.0.0.1/32" && ev.Details["deny"] == "198.51.100.0/24" && ev.Tenant == "acme" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no audit record of the change: %+v", f.audits())
		}
	})
}

func TestSecurityDPBurst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{plans: dpPlans(t), edgeEnv: map[string]string{}})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	var last resp
	for i := range 6 {
		last = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 20, "model": "dp", "epsilon": 0.1}})
		if i < 5 && last.status != 202 {
			t.Fatalf("dp job %d: %d %s", i, last.status, last.body)
		}
	}
	if last.status != 403 || last.errCode(t) != "request_blocked" {
		t.Fatalf("sixth dp job at one dataset: %d %s", last.status, last.body)
	}
	if n := f.auditCount("security.rule.matched"); n != 1 {
		t.Errorf("%d rule.matched records, want 1", n)
	}
	// A tree job at the same dataset is not affected.
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 20, "model": "tree"}}); r.status != 202 {
		t.Fatalf("tree job: %d %s", r.status, r.body)
	}
}

func TestSecurityEnumerationBans(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{edgeEnv: map[string]string{"SYNTHOS_RATE_KEY_BURST": "1000"}})
	key := f.key("acme", apikeys.Read)
	// 30 at once are tolerated (the rule then allows one more every 2 s,
	// so a slow machine may need a few more guesses: no wall-clock limit).
	guesses := 0
	for ; guesses < 200; guesses++ {
		r := f.do(req{method: "GET", path: fmt.Sprintf("/v1/jobs/job_guess%03d", guesses), key: key})
		if r.status == 403 && r.errCode(t) == "ip_banned" {
			break
		}
		if r.status != 404 {
			t.Fatalf("guess %d: %d %s", guesses, r.status, r.body)
		}
	}
	if guesses < 31 || guesses == 200 {
		t.Fatalf("banned after %d 404s, want after the 31st", guesses)
	}
	if r := f.do(req{method: "GET", path: "/v1/usage", key: key}); r.status != 403 || r.errCode(t) != "ip_banned" {
		t.Fatalf("after the ban: %d %s", r.status, r.body)
	}
}
