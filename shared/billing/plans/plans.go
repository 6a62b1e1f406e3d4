// Package plans defines the plans a tenant can be on (free, pro, enterprise),
// their limits, and which provider price ids buy which plan.
//
// The catalog comes from a JSON file (SYNTHOS_PLANS_FILE) or inline JSON
// (SYNTHOS_PLANS_JSON); without either, Default applies. Price ids are the
// Paddle (pri_...) and Stripe (price_...) ids of the products on sale: a
// subscription whose price id no plan lists entitles to the free plan, so a
// new price must be added to the catalog before it is sold.
package plans

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Plan names.
const (
	Free       = "free"
	Pro        = "pro"
	Enterprise = "enterprise"
)

// Plan is one plan's limits. Every limit is positive.
type Plan struct {
	Name string `json:"name"`
	// RowsPerMonth is the synthetic rows a tenant may generate per calendar
	// month (UTC).
	RowsPerMonth int64 `json:"rows_per_month"`
	// RowsPerJob caps one job's rows.
	RowsPerJob int64 `json:"rows_per_job"`
	// DPAllowed allows the differentially private model.
	DPAllowed bool `json:"dp_allowed"`
	// ConcurrentJobs caps jobs running at once.
	ConcurrentJobs int `json:"concurrent_jobs"`
	// ReportRetentionDays is how long evaluation reports are kept.
	ReportRetentionDays int `json:"report_retention_days"`
	// PriceIDs are the provider price ids that buy this plan.
	PriceIDs []string `json:"price_ids,omitempty"`
	// RequestsPerMinute and RequestBurst limit API requests per key
	// (GCRA: the burst at once, then the rate); TenantRequestsPerMinute
	// limits all of a tenant's keys together, with a burst of twice the
	// key burst. Zero uses the configuration's defaults
	// (SYNTHOS_RATE_KEY_PER_MINUTE, SYNTHOS_RATE_KEY_BURST,
	// SYNTHOS_RATE_TENANT_PER_MINUTE).
	RequestsPerMinute       int `json:"requests_per_minute,omitempty"`
	RequestBurst            int `json:"request_burst,omitempty"`
	TenantRequestsPerMinute int `json:"tenant_requests_per_minute,omitempty"`
	// AIBudgetUSD caps a tenant's model spend (design, text columns,
	// labels, narratives) per calendar month, in US dollars; 0 is no cap.
	// SYNTHOS_AI_BUDGETS, when it names the plan, overrides it (AIBudget).
	AIBudgetUSD float64 `json:"ai_budget_usd,omitempty"`
}

// AIBudget returns p's monthly AI budget in US dollars: overrides[p.Name]
// when the configuration names the plan (SYNTHOS_AI_BUDGETS, parsed by
// ParseAIBudgets), else the catalog's AIBudgetUSD. ok is false when the
// budget is 0: no cap.
func (p Plan) AIBudget(overrides map[string]float64) (usd float64, ok bool) {
	usd = p.AIBudgetUSD
	if o, set := overrides[p.Name]; set {
		usd = o
	}
	return usd, usd > 0
}

// ParseAIBudgets reads SYNTHOS_AI_BUDGETS' plan=dollars items.
func ParseAIBudgets(items []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, it := range items {
		plan, v, ok := strings.Cut(it, "=")
		d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || strings.TrimSpace(plan) == "" || err != nil || d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
			return nil, fmt.Errorf("%w: SYNTHOS_AI_BUDGETS: %q: want plan=dollars (0: no cap), e.g. pro=50", ErrInvalid, it)
		}
		out[strings.TrimSpace(plan)] = d
	}
	return out, nil
}

// ErrInvalid reports a catalog that cannot be used.
var ErrInvalid = errors.New("plans: invalid catalog")

// Catalog is an immutable set of plans; it always has a free plan, the
// fallback of every tenant without an entitling subscription.
type Catalog struct {
	plans   map[string]Plan
	byPrice map[string]string
}

// defaultPlans is the built-in catalog; a test checks that New accepts it.
var defaultPlans = []Plan{
	{Name: Free, RowsPerMonth: 100_000, RowsPerJob: 10_000, ConcurrentJobs: 1, ReportRetentionDays: 7,
		RequestsPerMinute: 120, RequestBurst: 60, TenantRequestsPerMinute: 240, AIBudgetUSD: 1},
	{Name: Pro, RowsPerMonth: 10_000_000, RowsPerJob: 1_000_000, DPAllowed: true, ConcurrentJobs: 5, ReportRetentionDays: 90,
		RequestsPerMinute: 1200, RequestBurst: 300, TenantRequestsPerMinute: 3000, AIBudgetUSD: 50},
	{Name: Enterprise, RowsPerMonth: 1_000_000_000, RowsPerJob: 100_000_000, DPAllowed: true, ConcurrentJobs: 50, ReportRetentionDays: 365,
		RequestsPerMinute: 12000, RequestBurst: 2000, TenantRequestsPerMinute: 30000, AIBudgetUSD: 1000},
}

// Default returns the built-in catalog. It lists no price ids, so every
// tenant is on the free plan until the catalog is configured.
func Default() *Catalog {
	c := &Catalog{plans: map[string]Plan{}, byPrice: map[string]string{}}
	for _, p := range defaultPlans {
		c.plans[p.Name] = p
	}
	return c
}

// New validates plans and builds a catalog: names unique and non-empty, a
// plan named "free", positive limits, each price id used by one plan.
func New(plans []Plan) (*Catalog, error) {
	c := &Catalog{plans: map[string]Plan{}, byPrice: map[string]string{}}
	var errs []error
	for _, p := range plans {
		name := p.Name
		switch {
		case name == "":
			errs = append(errs, errors.New("a plan has no name"))
			continue
		case c.plans[name].Name != "":
			errs = append(errs, fmt.Errorf("plan %q is defined twice", name))
			continue
		}
		if p.RowsPerMonth <= 0 || p.RowsPerJob <= 0 || p.ConcurrentJobs <= 0 || p.ReportRetentionDays <= 0 {
			errs = append(errs, fmt.Errorf("plan %q: rows_per_month, rows_per_job, concurrent_jobs and report_retention_days must be positive", name))
		}
		if p.AIBudgetUSD < 0 || math.IsNaN(p.AIBudgetUSD) || math.IsInf(p.AIBudgetUSD, 0) {
			errs = append(errs, fmt.Errorf("plan %q: ai_budget_usd must be a number ≥ 0 (0: no cap)", name))
		}
		if p.RequestsPerMinute < 0 || p.RequestBurst < 0 || p.TenantRequestsPerMinute < 0 {
			errs = append(errs, fmt.Errorf("plan %q: requests_per_minute, request_burst and tenant_requests_per_minute cannot be negative (0: the configured default)", name))
		}
		for _, id := range p.PriceIDs {
			if other, dup := c.byPrice[id]; dup {
				errs = append(errs, fmt.Errorf("price id %q is in plans %q and %q", id, other, name))
			}
			if id == "" {
				errs = append(errs, fmt.Errorf("plan %q: empty price id", name))
			}
			c.byPrice[id] = name
		}
		p.PriceIDs = slices.Clone(p.PriceIDs)
		c.plans[name] = p
	}
	if _, ok := c.plans[Free]; !ok {
		errs = append(errs, errors.New(`a plan named "free" is required (the fallback plan)`))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return c, nil
}

// Decode reads a catalog from JSON: {"plans":[{...}, ...]}.
func Decode(r io.Reader) (*Catalog, error) {
	var doc struct {
		Plans []Plan `json:"plans"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return New(doc.Plans)
}

// Environment variables FromEnv reads.
const (
	EnvFile = "SYNTHOS_PLANS_FILE"
	EnvJSON = "SYNTHOS_PLANS_JSON"
)

// FromEnv loads the catalog from EnvFile or EnvJSON (not both), or returns
// Default when neither is set. lookup is os.LookupEnv when nil.
func FromEnv(lookup func(string) (string, bool)) (*Catalog, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	file, hasFile := lookup(EnvFile)
	inline, hasJSON := lookup(EnvJSON)
	hasFile, hasJSON = hasFile && file != "", hasJSON && inline != ""
	switch {
	case hasFile && hasJSON:
		return nil, fmt.Errorf("%w: set %s or %s, not both", ErrInvalid, EnvFile, EnvJSON)
	case hasFile:
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, EnvFile, err)
		}
		defer f.Close()
		c, err := Decode(f)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvFile, file, err)
		}
		return c, nil
	case hasJSON:
		c, err := Decode(strings.NewReader(inline))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvJSON, err)
		}
		return c, nil
	}
	return Default(), nil
}

// Get returns the named plan.
func (c *Catalog) Get(name string) (Plan, bool) {
	p, ok := c.plans[name]
	return p, ok
}

// Free returns the fallback plan.
func (c *Catalog) Free() Plan { return c.plans[Free] }

// ForPrice returns the plan a price id buys, and false when no plan lists it.
func (c *Catalog) ForPrice(priceID string) (Plan, bool) {
	name, ok := c.byPrice[priceID]
	if !ok {
		return Plan{}, false
	}
	return c.plans[name], true
}

// Names lists the plans, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.plans))
	for n := range c.plans {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
