package dp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// KindDP is the Model.Kind of the differentially private model, the value
// the CLI's --model flag takes.
const KindDP = "dp"

// Defaults for Options.
const (
	DefaultDelta       = 1e-9
	DefaultMaxBins     = 128
	DefaultDomainShare = 0.3
	DefaultOtherLabel  = "(other)"
	// domainDeltaShare is the part of delta given to releasing categories
	// found in the data (Gaussian thresholding); the rest is the zCDP to
	// (eps, delta) conversion's.
	domainDeltaShare = 0.1
	// boundsThreshold, in noise standard deviations, is how large a noisy
	// count of the public bounds grid must be to widen a column's range: at
	// 5 sigma a bucket holding nobody passes with probability below 3e-7.
	boundsThreshold = 5
	// compressThreshold is MST's: fine bins whose noisy count is below
	// 3 sigma are merged into one.
	compressThreshold = 3
)

// Options steer Fit. Exactly one of Epsilon and Rho is set.
type Options struct {
	// Epsilon and Delta state the (epsilon, delta)-DP target; the fit spends
	// the largest rho-zCDP budget that meets it (see Rho).
	Epsilon float64
	// Delta defaults to DefaultDelta.
	Delta float64
	// Rho, instead of Epsilon, is a zCDP budget reserved by the caller (for
	// example from a ledger); the report converts it at Delta.
	Rho float64

	// MaxBins bounds the value bins of a numeric or datetime column
	// (default DefaultMaxBins, at least 2).
	MaxBins int
	// SchemaBounds declares the profile's Min and Max public: they come from
	// a schema the user wrote, not from the data. Otherwise each numeric or
	// datetime column's range is estimated privately, at a cost charged to
	// the budget.
	SchemaBounds bool
	// Levels declares the categories of categorical columns public, by
	// column name. Other categorical columns release the categories found in
	// the data whose noisy count passes a threshold, at a cost in rho and in
	// delta charged to the budget.
	Levels map[string][]string
	// DomainShare is the share of rho spent finding private bounds and
	// categories when some are needed (default DefaultDomainShare).
	DomainShare float64
	// OtherLabel is written for values of categories that were not released
	// (default DefaultOtherLabel).
	OtherLabel string
}

// plan is the budget split of one fit.
type plan struct {
	rho, rhoDomain, rhoMST float64
	delta, deltaConv       float64
	deltaDomain            float64
}

func (o *Options) normalise() error {
	if o.Delta == 0 {
		o.Delta = DefaultDelta
	}
	if o.MaxBins == 0 {
		o.MaxBins = DefaultMaxBins
	}
	if o.DomainShare == 0 {
		o.DomainShare = DefaultDomainShare
	}
	if o.OtherLabel == "" {
		o.OtherLabel = DefaultOtherLabel
	}
	switch {
	case (o.Epsilon > 0) == (o.Rho > 0) || o.Epsilon < 0 || o.Rho < 0 ||
		math.IsInf(o.Epsilon, 0) || math.IsInf(o.Rho, 0) || math.IsNaN(o.Epsilon) || math.IsNaN(o.Rho):
		return fmt.Errorf("set exactly one of Epsilon (%v) and Rho (%v), positive and finite: %w", o.Epsilon, o.Rho, ErrInvalid)
	case !(o.Delta > 0 && o.Delta < 1):
		return fmt.Errorf("delta %v outside (0, 1): %w", o.Delta, ErrInvalid)
	case o.MaxBins < 2 || o.MaxBins > 1024:
		return fmt.Errorf("MaxBins %d outside [2, 1024]: %w", o.MaxBins, ErrInvalid)
	case !(o.DomainShare > 0 && o.DomainShare < 1):
		return fmt.Errorf("DomainShare %v outside (0, 1): %w", o.DomainShare, ErrInvalid)
	}
	return nil
}

// fitter holds the state of one fit.
type fitter struct {
	ctx   context.Context
	t     *table.Table
	p     *profile.Profile
	opts  Options
	plan  plan
	m     *Model
	steps []Step
}

// Fit fits the MST model to t as profiled by p under the budget in opts.
//
// The steps and their budget, all rho-zCDP with respect to adding or removing
// one row, follow McKenna, Miklau and Sheldon 2021 and private-pgm's mst.py:
//
//   - domain (only for columns whose bounds or categories are not public):
//     DomainShare of rho, Gaussian noise on a public grid of signed powers of
//     two (bounds) and Gaussian thresholding of category counts;
//   - a third of the rest: every 1-way marginal with discrete Gaussian noise,
//     then rare bins (noisy count under 3 sigma) merged;
//   - a third: d-1 rounds of the exponential mechanism choosing a maximum
//     spanning tree of pairs, scored by the L1 distance between the pair's
//     true 2-way marginal and the one the noisy 1-way marginals predict;
//   - a third: the chosen 2-way marginals with discrete Gaussian noise.
//
// Everything after is post-processing: a consistent tree model estimated
// from the noisy marginals, and sampling from it.
func Fit(ctx context.Context, t *table.Table, p *profile.Profile, opts Options) (*Model, error) {
	if t == nil || p == nil {
		return nil, fmt.Errorf("dp.Fit: nil table or profile: %w", ErrInvalid)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("dp.Fit: table has no rows: %w", ErrInvalid)
	}
	if len(p.Columns) != len(t.Columns) {
		return nil, fmt.Errorf("dp.Fit: profile has %d columns, table %d: %w", len(p.Columns), len(t.Columns), ErrInvalid)
	}
	for j, c := range t.Columns {
		if p.Columns[j].Name != c {
			return nil, fmt.Errorf("dp.Fit: column %d is %q in the table, %q in the profile: %w", j, c, p.Columns[j].Name, ErrInvalid)
		}
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return nil, fmt.Errorf("dp.Fit: row %d has %d cells, want %d: %w", i, len(r), len(t.Columns), ErrInvalid)
		}
	}
	if err := opts.normalise(); err != nil {
		return nil, fmt.Errorf("dp.Fit: %w", err)
	}
	f := &fitter{ctx: ctx, t: t, p: p, opts: opts, m: &Model{Version: FormatVersion}}
	if err := f.fit(); err != nil {
		return nil, fmt.Errorf("dp.Fit: %w", err)
	}
	f.m.prepare()
	return f.m, nil
}

func (f *fitter) fit() error {
	if err := f.columns(); err != nil {
		return err
	}
	if err := f.budget(); err != nil {
		return err
	}
	if err := f.domain(); err != nil {
		return err
	}
	if len(f.m.Attrs) > 0 {
		if err := f.mst(); err != nil {
			return err
		}
	}
	return f.report()
}

// columns sets up the output columns and the attributes.
func (f *fitter) columns() error {
	for j := range f.p.Columns {
		pc := &f.p.Columns[j]
		c := Column{Name: pc.Name, Kind: pc.Kind, PII: pc.PII, IDFormat: pc.IDFormat, Pattern: pc.Pattern, Attr: -1, Writer: table.String}
		if _, err := c.generator(); err != nil {
			return err
		}
		if len(pc.MissingTokens) > 0 {
			c.Missing = pc.MissingTokens[0]
		}
		switch pc.Kind {
		case profile.Numeric, profile.Datetime, profile.Categorical, profile.Boolean:
			a := Attr{
				Name: pc.Name, Source: j, Kind: pc.Kind, Writer: table.String, Missing: c.Missing,
				MissingTokens: pc.MissingTokens, Integer: pc.Integer || pc.Kind == profile.Datetime,
				Decimals: pc.Decimals, Trim: pc.Trim, Format: pc.Format, Other: f.opts.OtherLabel,
			}
			switch pc.Kind {
			case profile.Numeric:
				a.Writer = table.Float
				if pc.Integer && (pc.Decimals == 0 || pc.Trim) {
					a.Writer = table.Int
				}
			case profile.Datetime:
				if pc.Format == "" {
					return fmt.Errorf("datetime column %q has no format: %w", pc.Name, ErrInvalid)
				}
			case profile.Boolean:
				if pc.TrueToken == "" || pc.FalseToken == "" {
					return fmt.Errorf("boolean column %q lacks its true or false token: %w", pc.Name, ErrInvalid)
				}
				a.Levels = []string{pc.FalseToken, pc.TrueToken}
				a.TrueToken, a.FalseToken = pc.TrueToken, pc.FalseToken
				if _, e1 := strconv.ParseBool(pc.TrueToken); e1 == nil {
					if _, e2 := strconv.ParseBool(pc.FalseToken); e2 == nil {
						a.Writer = table.Bool
					}
				}
			case profile.Categorical:
				if lv, ok := f.opts.Levels[pc.Name]; ok {
					a.Levels = slices.Clone(lv)
					a.PublicLevels = true
				}
			}
			c.Attr = len(f.m.Attrs)
			c.Writer = a.Writer
			f.m.Attrs = append(f.m.Attrs, a)
		}
		f.m.Cols = append(f.m.Cols, c)
	}
	for name := range f.opts.Levels {
		if f.p.Col(name) == nil || f.p.Col(name).Kind != profile.Categorical {
			return fmt.Errorf("Levels names %q, not a categorical column: %w", name, ErrInvalid)
		}
	}
	return nil
}

// domainColumns counts the attributes whose bounds or categories must be
// found privately: numeric ones (without SchemaBounds) and categorical ones.
func (f *fitter) domainColumns() (numeric, categorical int) {
	for _, a := range f.m.Attrs {
		switch {
		case a.isNumber() && !f.opts.SchemaBounds:
			numeric++
		case a.Kind == profile.Categorical && !a.PublicLevels:
			categorical++
		}
	}
	return numeric, categorical
}

// budget splits rho and delta between the steps.
func (f *fitter) budget() error {
	nNum, nCat := f.domainColumns()
	pl := plan{delta: f.opts.Delta, deltaConv: f.opts.Delta}
	if nCat > 0 {
		pl.deltaDomain = f.opts.Delta * domainDeltaShare
		pl.deltaConv = f.opts.Delta - pl.deltaDomain
	}
	pl.rho = f.opts.Rho
	if f.opts.Epsilon > 0 {
		r, err := Rho(f.opts.Epsilon, pl.deltaConv)
		if err != nil {
			return err
		}
		pl.rho = r
	}
	if nNum+nCat > 0 {
		pl.rhoDomain = pl.rho * f.opts.DomainShare
	}
	pl.rhoMST = pl.rho - pl.rhoDomain
	f.plan = pl
	return nil
}

// domain finds private bounds and categories, then lays out the bins.
func (f *fitter) domain() error {
	nNum, nCat := f.domainColumns()
	k := nNum + nCat
	var g *DiscreteGaussian
	if k > 0 {
		// One joint Gaussian measurement: a row adds 1 to one count of each
		// of the k columns, so the L2 sensitivity is sqrt(k).
		var err error
		if g, err = NewDiscreteGaussian(float64(k) / (2 * f.plan.rhoDomain)); err != nil {
			return err
		}
		f.steps = append(f.steps, Step{
			Name: "domain", Rho: float64(k) * g.Rho(), Sigma2: g.Sigma2(), Count: k,
			Note: "public-grid histograms for numeric and datetime bounds; Gaussian thresholding of category counts",
		})
	}
	var tau int64
	if nCat > 0 {
		tau = thresholdFor(g.Sigma2(), f.plan.deltaDomain/float64(nCat))
	}
	for i := range f.m.Attrs {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		a := &f.m.Attrs[i]
		pc := &f.p.Columns[a.Source]
		switch {
		case a.isNumber() && f.opts.SchemaBounds:
			lo, hi := pc.Min, pc.Max
			if hi < lo || math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
				return fmt.Errorf("column %q: schema bounds [%v, %v]: %w", a.Name, lo, hi, ErrInvalid)
			}
			a.setBins(lo, hi, f.opts.MaxBins)
		case a.isNumber():
			lo, hi, err := f.privateBounds(a, pc, g)
			if err != nil {
				return fmt.Errorf("column %q: %w", a.Name, err)
			}
			a.setBins(lo, hi, f.opts.MaxBins)
		case a.Kind == profile.Categorical && !a.PublicLevels:
			lv, err := f.privateLevels(a, pc, g, tau)
			if err != nil {
				return fmt.Errorf("column %q: %w", a.Name, err)
			}
			a.Levels = lv
		}
	}
	return nil
}

// privateBounds measures a noisy histogram of a column on the public grid of
// signed powers of two and returns the range of the buckets whose noisy count
// passes boundsThreshold sigma (or of the largest bucket if none does).
func (f *fitter) privateBounds(a *Attr, pc *profile.Column, g *DiscreteGaussian) (float64, float64, error) {
	counts := make([]int64, 2*logBuckets+1)
	for _, r := range f.t.Rows {
		cell := r[a.Source]
		if profile.IsMissing(cell, pc) {
			continue
		}
		if v, ok := parseValue(a.Kind, a.Format, cell); ok {
			counts[logBucket(v)]++
		}
	}
	if err := g.AddNoise(counts); err != nil {
		return 0, 0, err
	}
	thr := boundsThreshold * math.Sqrt(g.Sigma2())
	first, last, best := -1, -1, 0
	for b, c := range counts {
		if float64(c) >= thr {
			if first < 0 {
				first = b
			}
			last = b
		}
		if c > counts[best] {
			best = b
		}
	}
	if first < 0 {
		first, last = best, best
	}
	lo, _ := logRange(first)
	_, hi := logRange(last)
	return lo, hi, nil
}

// privateLevels releases the categories whose count plus discrete Gaussian
// noise reaches tau, sorted. A category held by one row only (the one a
// neighbouring dataset adds) passes with probability at most the delta share
// thresholdFor was given, which is what makes the step (delta, rho)-
// approximately zCDP; only the set of categories is released, not counts.
func (f *fitter) privateLevels(a *Attr, pc *profile.Column, g *DiscreteGaussian, tau int64) ([]string, error) {
	counts := map[string]int64{}
	for _, r := range f.t.Rows {
		cell := r[a.Source]
		if profile.IsMissing(cell, pc) {
			continue
		}
		counts[strings.TrimSpace(cell)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		z, err := g.Sample()
		if err != nil {
			return nil, err
		}
		if counts[k]+z >= tau {
			out = append(out, k)
		}
	}
	return out, nil
}

// thresholdFor returns the least integer tau with P[1 + Z >= tau] <= delta
// for Z discrete Gaussian of variance parameter sigma2: the probability that
// a category held by a single row is released.
func thresholdFor(sigma2, delta float64) int64 {
	// Tail sums of the unnormalised mass exp(-x²/(2 sigma2)), from far out
	// inwards, against the normaliser.
	s := math.Sqrt(sigma2)
	lim := int64(math.Ceil(40*s)) + 2
	z := 0.0
	for x := -lim; x <= lim; x++ {
		z += math.Exp(-float64(x*x) / (2 * sigma2))
	}
	tail := 0.0
	for x := lim; x >= 0; x-- {
		tail += math.Exp(-float64(x*x) / (2 * sigma2))
		if tail/z > delta {
			// P[Z >= x] > delta, so P[Z >= x+1] <= delta: tau - 1 = x + 1.
			return x + 2
		}
	}
	return 1
}
