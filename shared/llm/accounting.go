package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"synthos.dev/synthos/shared/state"
)

// Price is what a model costs per million tokens, in US dollars.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// Prices maps a model name to its price. A model missing from the table is
// priced by its longest listed prefix ("gemini-2.5-flash-001" as
// "gemini-2.5-flash"), or at zero with ok false.
type Prices map[string]Price

// DefaultPrices are the vendors' published list prices per million tokens
// (standard context, no batch discount) of the models the defaults name;
// SYNTHOS_AI_PRICES overrides or extends them when a vendor changes them.
var DefaultPrices = Prices{
	"gemini-2.5-pro":    {Input: 1.25, Output: 10},
	"gemini-2.5-flash":  {Input: 0.30, Output: 2.50},
	"claude-sonnet-4-5": {Input: 3, Output: 15},
	"claude-haiku-4-5":  {Input: 1, Output: 5},
	"claude-opus-4-1":   {Input: 15, Output: 75},
	"offline":           {},
}

// Lookup finds a model's price.
func (p Prices) Lookup(model string) (Price, bool) {
	if pr, ok := p[model]; ok {
		return pr, true
	}
	best := ""
	for name := range p {
		if strings.HasPrefix(model, name) && len(name) > len(best) {
			best = name
		}
	}
	if best == "" {
		return Price{}, false
	}
	return p[best], true
}

// Cost prices a usage, rounded up to a micro-dollar.
func (p Prices) Cost(model string, u Usage) Micros {
	pr, _ := p.Lookup(model)
	// price per million tokens × tokens = micro-dollars
	return Micros(math.Ceil(pr.Input*float64(u.InputTokens) + pr.Output*float64(u.OutputTokens)))
}

// ParsePrices reads "model=in/out,model=in/out" (dollars per million
// tokens) over a copy of base.
func ParsePrices(s string, base Prices) (Prices, error) {
	out := Prices{}
	for k, v := range base {
		out[k] = v
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, io, ok := strings.Cut(item, "=")
		in, outp, ok2 := strings.Cut(io, "/")
		a, err1 := strconv.ParseFloat(strings.TrimSpace(in), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(outp), 64)
		if !ok || !ok2 || err1 != nil || err2 != nil || a < 0 || b < 0 || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("llm: price %q: want model=input/output in dollars per million tokens: %w", item, ErrInvalid)
		}
		out[strings.TrimSpace(name)] = Price{Input: a, Output: b}
	}
	return out, nil
}

// Totals are the counters of one tenant (or of everything).
type Totals struct {
	Calls        int64  `json:"calls"`
	CacheHits    int64  `json:"cache_hits"`
	Failures     int64  `json:"failures"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	Cost         Micros `json:"cost_micros"`
}

func (t *Totals) add(r Response) {
	t.Calls++
	if r.Cached {
		t.CacheHits++
		return
	}
	t.InputTokens += r.Usage.InputTokens
	t.OutputTokens += r.Usage.OutputTokens
	t.Cost += r.Cost
}

// Meter counts tokens and cost per tenant and provider, and refuses a call
// that would take a tenant past its monthly limit. Counters live in memory
// for metrics (Snapshot); month-to-date spend is also kept in the document
// store when one is given, so the limit holds across instances.
type Meter struct {
	// Limit returns a tenant's monthly AI budget; ok false means no limit.
	Limit func(ctx context.Context, tenant string) (Micros, bool, error)
	// Store, when set, keeps month-to-date spend per tenant.
	Store state.Store
	// Now is the clock (tests fix it).
	Now func() time.Time

	mu     sync.Mutex
	totals map[string]*Totals // key: tenant + "\x00" + provider
	month  map[string]Micros  // tenant|YYYY-MM -> spend, when Store is nil
}

// UsageCollection holds month-to-date AI spend per tenant.
const UsageCollection = "ai_usage"

type monthDoc struct {
	Tenant string `json:"tenant"`
	Month  string `json:"month"`
	Totals
	// Holds are the estimates admitted jobs hold, by job id (ReserveTx).
	Holds map[string]Micros `json:"holds,omitempty"`
}

func (m *Meter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func monthKey(tenant string, t time.Time) string { return tenant + "-" + t.UTC().Format("2006-01") }

// Spent returns a tenant's month-to-date spend.
func (m *Meter) Spent(ctx context.Context, tenant string) (Micros, error) {
	t, err := m.Month(ctx, tenant)
	return t.Cost, err
}

// Month returns a tenant's month-to-date counters: every one with a
// document store, only the spend without (the in-memory fallback keeps
// no more).
func (m *Meter) Month(ctx context.Context, tenant string) (Totals, error) {
	key := monthKey(tenant, m.now())
	if m.Store != nil {
		var d monthDoc
		err := m.Store.Get(ctx, UsageCollection, key, &d)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return Totals{}, fmt.Errorf("llm: read AI usage: %w", err)
		}
		return d.Totals, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return Totals{Cost: m.month[key]}, nil
}

// Budget returns a tenant's monthly AI budget; ok is false when there is
// none.
func (m *Meter) Budget(ctx context.Context, tenant string) (limit Micros, ok bool, err error) {
	if m == nil || m.Limit == nil {
		return 0, false, nil
	}
	return m.Limit(ctx, tenant)
}

// Check refuses a call whose estimated cost would pass the tenant's limit.
func (m *Meter) Check(ctx context.Context, tenant string, estimate Micros) error {
	if m == nil || m.Limit == nil || tenant == "" || estimate <= 0 {
		return nil // free calls (the offline provider) are never refused
	}
	limit, ok, err := m.Limit(ctx, tenant)
	if err != nil {
		return fmt.Errorf("llm: read AI budget: %w", err)
	}
	if !ok {
		return nil
	}
	spent, err := m.Spent(ctx, tenant)
	if err != nil {
		return err
	}
	if spent+estimate > limit {
		return fmt.Errorf("llm: tenant %s has spent %s of its %s monthly AI budget; this call may cost %s: %w",
			tenant, spent, limit, estimate, ErrQuota)
	}
	return nil
}

// Record adds a response to the counters and the tenant's month.
func (m *Meter) Record(ctx context.Context, tenant string, r Response, failed bool) error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	if m.totals == nil {
		m.totals, m.month = map[string]*Totals{}, map[string]Micros{}
	}
	k := tenant + "\x00" + r.Provider
	t := m.totals[k]
	if t == nil {
		t = &Totals{}
		m.totals[k] = t
	}
	if failed {
		t.Failures++
	} else {
		t.add(r)
	}
	key := monthKey(tenant, m.now())
	if m.Store == nil && !failed && !r.Cached {
		m.month[key] += r.Cost
	}
	m.mu.Unlock()
	if m.Store == nil || failed || r.Cached || tenant == "" {
		return nil
	}
	return m.Store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var d monthDoc
		if err := tx.Get(UsageCollection, key, &d); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		d.Tenant, d.Month = tenant, m.now().UTC().Format("2006-01")
		d.Totals.add(r)
		return tx.Set(UsageCollection, key, d)
	})
}

// Line is one row of a Snapshot.
type Line struct {
	Tenant   string `json:"tenant"`
	Provider string `json:"provider"`
	Totals
}

// Snapshot returns the counters since start, by tenant and provider, sorted
// (for metrics exporters and tests).
func (m *Meter) Snapshot() []Line {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Line
	for k, t := range m.totals {
		tenant, provider, _ := strings.Cut(k, "\x00")
		out = append(out, Line{Tenant: tenant, Provider: provider, Totals: *t})
	}
	slices.SortFunc(out, func(a, b Line) int {
		return strings.Compare(a.Tenant+"\x00"+a.Provider, b.Tenant+"\x00"+b.Provider)
	})
	return out
}

func (m Micros) String() string { return fmt.Sprintf("$%.6f", float64(m)/1e6) }

// Dollars converts US dollars to Micros, rounded to the nearest
// micro-dollar.
func Dollars(usd float64) Micros { return Micros(math.Round(usd * 1e6)) }

// A month's AI budget is also held for admitted jobs: admission reserves
// a job's estimate (ReserveTx) in the same transaction that stores the
// job, and settling the job releases it (ReleaseTx). The tenant's month
// document keeps the holds by job id, so concurrent admissions, serialised
// by the document store's transaction, can never together promise more
// than the budget. Calls are still recorded (Record) as they happen, so
// while a job runs its spend counts both in the month's cost and in its
// hold until it is settled: admission errs on the side of refusing.
// Per-call checks (Check) count spend only, so a job's own calls are
// never refused for its own hold.

// held is the sum of the month document's holds.
func (d monthDoc) held() Micros {
	var h Micros
	for _, v := range d.Holds {
		h += v
	}
	return h
}

// ReserveTx holds estimate of tenant's AI budget for job in this month
// (at now), inside tx: it refuses with ErrQuota when the month's spend,
// the holds of other jobs and estimate together pass limit (limited false:
// no cap, the hold is still kept so the month shows it). It returns the
// key of the month document, which ReleaseTx needs, and the write to run
// once every read of the transaction is done. Reserving the same job again
// replaces its hold.
func ReserveTx(tx state.Tx, tenant, job string, estimate, limit Micros, limited bool, now time.Time) (key string, write func() error, err error) {
	if tenant == "" || job == "" || estimate < 0 {
		return "", nil, fmt.Errorf("llm: reserve AI budget: a tenant, a job and an estimate ≥ 0 are needed: %w", ErrInvalid)
	}
	key = monthKey(tenant, now)
	var d monthDoc
	if err := tx.Get(UsageCollection, key, &d); err != nil && !errors.Is(err, state.ErrNotFound) {
		return "", nil, fmt.Errorf("llm: read AI usage: %w", err)
	}
	others := d.held() - d.Holds[job]
	if limited && d.Cost+others+estimate > limit {
		return "", nil, fmt.Errorf("llm: tenant %s has spent %s and holds %s for running jobs of its %s monthly AI budget; this job may cost %s: %w",
			tenant, d.Cost, others, limit, estimate, ErrQuota)
	}
	d.Tenant, d.Month = tenant, now.UTC().Format("2006-01")
	if d.Holds == nil {
		d.Holds = map[string]Micros{}
	}
	d.Holds[job] = estimate
	return key, func() error { return tx.Set(UsageCollection, key, d) }, nil
}

// ReleaseTx ends job's hold in the month document key (ReserveTx's),
// inside tx; the job's actual spend is already in the month's cost
// (Record). write is nil when there is nothing to release.
func ReleaseTx(tx state.Tx, key, job string) (write func() error, err error) {
	var d monthDoc
	switch err := tx.Get(UsageCollection, key, &d); {
	case errors.Is(err, state.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("llm: read AI usage: %w", err)
	}
	if _, ok := d.Holds[job]; !ok {
		return nil, nil
	}
	delete(d.Holds, job)
	return func() error { return tx.Set(UsageCollection, key, d) }, nil
}

// Held returns what tenant's admitted, unsettled jobs hold of this month's
// AI budget.
func (m *Meter) Held(ctx context.Context, tenant string) (Micros, error) {
	if m == nil || m.Store == nil {
		return 0, nil
	}
	var d monthDoc
	err := m.Store.Get(ctx, UsageCollection, monthKey(tenant, m.now()), &d)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return 0, fmt.Errorf("llm: read AI usage: %w", err)
	}
	return d.held(), nil
}
