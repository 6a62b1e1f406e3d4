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
