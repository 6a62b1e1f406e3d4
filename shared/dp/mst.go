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
	DefaultDelta      = 1e-9
	DefaultMaxBins    = 128
	DefaultOtherLabel = "(other)"
	// domainDeltaShare is the part of delta given to releasing categories
	// found in the data (Gaussian thresholding) when the caller sets a
	// zCDP budget (Options.Rho): the noise is fixed then, and the share
	// only trades the reported epsilon against the release threshold. The
	// rest is the zCDP to (eps, delta) conversion's.
	domainDeltaShare = 0.1
	// domainDeltaShareEps replaces it when the caller states the target
	// (Options.Epsilon, Delta): the release threshold is tau ~ sigma *
	// sqrt(2 ln(nCat / deltaDomain)) with sigma ~ 1/sqrt(rho(eps, delta -
	// deltaDomain)), and tau, for a fixed part of rho, is least near 0.3
	// of delta for every epsilon from 0.1 to 10 and 1 to 12 discovered
	// columns (TestDomainDeltaShareNearOptimal; the curve is flat from 0.2
	// to 0.4). The split is a function of public inputs only, and the two
	// parts still add up to Delta. Measured on credit at epsilon 1, mean
	// of 600 fits: shapes / trends 0.827 / 0.706 at 0.1, 0.831 / 0.713 at
	// 0.3, 0.830 / 0.711 at 0.5.
	domainDeltaShareEps = 0.3
	// boundsThreshold, in noise standard deviations, is how large the
	// noisy count of a bucket of the public bounds grid next to the range
	// must be to widen it (the range grows outwards from the largest
	// bucket, so a lone noisy bucket far away cannot stretch it). It is
	// low because a range too wide costs little: the 1-way step trims the
	// bins the data leaves empty, while a range too narrow clamps rows.
	boundsThreshold = 1
	// jumpThreshold and maxJump: the range may also grow over up to maxJump
	// empty buckets to one whose noisy count passes jumpThreshold sigma
	// (an empty bucket does so with probability 3e-5).
	jumpThreshold = 4
	maxJump       = 32
	// perValueThreshold replaces boundsThreshold for a bucket that would
	// take an integer range of one bin per value beyond them.
	perValueThreshold = 2.5
	// yearThreshold (sigma) is the bar a calendar year next to a datetime
	// column's range must pass to join it: noise alone passes it about
	// twice in ten thousand fits per side.
	yearThreshold = 3.5
	// warnThreshold: when even the largest bucket of a bounds histogram is
	// below this many sigma (the largest of the grid's empty buckets
	// reaches it one time in five), the range is a guess and the report
	// says so.
	warnThreshold = 3
	// refineExtra is the rho spent refining a narrow range (refineBounds),
	// as a share of the bounds' rho and on top of it, in refineLevels levels of refineBuckets
	// sub-buckets; a coarse range of fewer than refineMaxBuckets grid
	// buckets is refined, a level is kept when its run covers at most
	// refineKeep of the range.
	refineExtra      = 0.3
	refineLevels     = 2
	refineBuckets    = 32
	refineMaxBuckets = 2
	refineKeep       = 0.25
	// refineCoreThreshold: noise passes it once in 30,000 buckets.
	refineCoreThreshold = jumpThreshold
	// refineOut: noise alone passes it one time in 40.
	refineOut = 3
	// refineHold: the share of the noisy rows a kept run must hold.
	refineHold = 0.9
	// refineMinRows: a table refines bounds only when its noisy row count
	// is at least this many standard deviations of a sub-bucket's noise.
	refineMinRows = 30
	// countShare is the share of rho spent on a noisy row count, which
	// sizes the bins and the domain budget (the row count is not public).
	countShare = 0.02
	// releaseShare: the domain budget is calibrated so that a category
	// held by this share of the (noisy) rows is released.
	releaseShare = 0.05
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
	// categories when some are needed. Zero calibrates it to the noisy row
	// count: the least share of domainShares at which a category held by
	// releaseShare of the rows passes the release threshold (large tables
	// spend 10%, small ones up to 50%, or 80% when discovered categorical
	// columns are at least half of the columns: see catMaxShare).
	DomainShare float64
	// OtherLabel is written in a categorical column none of whose
	// categories was released (default DefaultOtherLabel); a column with
	// released categories writes one of them in place of the others.
	OtherLabel string
}

// plan is the budget split of one fit.
type plan struct {
	rho, rhoCount, rhoDomain, rhoMST float64
	// rhoRefine is the part of rhoDomain that refines narrow bounds.
	rhoRefine float64
	// rhoGaps measures the order relations' gaps (gaps.go).
	rhoGaps float64
	// rho1, rhoSel and rho2 split rhoMST between the 1-way marginals, the
	// selection of pairs and the 2-way marginals (see splitMST).
	rho1, rhoSel, rho2 float64
	// rows is the noisy row count (at least 1).
	rows float64
	// rowsSigma2 is the variance of the noisy row count.
	rowsSigma2       float64
	delta, deltaConv float64
	deltaDomain      float64
}

func (o *Options) normalise() error {
	if o.Delta == 0 {
		o.Delta = DefaultDelta
	}
	if o.MaxBins == 0 {
		o.MaxBins = DefaultMaxBins
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
	case o.DomainShare != 0 && !(o.DomainShare > 0 && o.DomainShare < 1):
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
	// warnings go to Report.Warnings.
	warnings []string
	// levelCounts[i] are the noisy counts that released attribute i's
	// levels (nil when its levels are public), of variance levelSigma2.
	levelCounts [][]int64
	levelSigma2 float64
	// missingCounts are the noisy counts of missing cells the domain step
	// measured with the levels, by source column.
	missingCounts map[int]int64
}

// Fit fits the MST model to t as profiled by p under the budget in opts.
//
// The steps and their budget, all rho-zCDP with respect to adding or removing
// one row, follow McKenna, Miklau and Sheldon 2021 and private-pgm's mst.py
// (doc.go gives the privacy argument):
//
//   - a noisy row count (countShare of rho), which sizes the bins and the
//     domain share;
//   - for each order relation of the profile between two numeric or two
//     datetime columns, a noisy histogram of its gap (gapShare of the rest
//     each, gapMaxShare for all), from which package model's repair draws
//     the later column;
//   - domain (only for columns whose bounds or categories are not declared
//     public): DomainShare of the rest, calibrated to the noisy row count
//     when zero, plus refineExtra of its bounds' part for refining narrow
//     bounds; Gaussian noise on a public grid (bounds) and Gaussian
//     thresholding of category counts, in two rounds when two or more
//     categorical columns are discovered and the first round can release
//     the values most rows hold (release.go);
//   - a third of the rest: every 1-way marginal with discrete Gaussian noise,
//     then rare bins merged (numeric ranges trimmed of empty ends and merged
//     in contiguous runs); a categorical column whose categories were
//     discovered is not measured again, its domain histogram serves (when
//     no column is left to measure, the next two steps take half each);
//   - two thirds: up to d-1 rounds, each the exponential mechanism choosing
//     a pair that joins two components of the spanning tree (scored by the
//     L1 distance between the pair's true 2-way marginal and the one the
//     noisy 1-way marginals predict, less AIM's expected noise of measuring
//     the pair) and that pair's 2-way marginal with discrete Gaussian noise.
//     The rounds end at the first measured pair that shows no more
//     dependence than its noise would (a small table: credit's first pair
//     at epsilon 1); the rounds not run measure the 1-way marginals again.
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
	f := &fitter{ctx: ctx, t: t, p: p, opts: opts, m: &Model{Version: FormatVersion}, missingCounts: map[int]int64{}}
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
	if err := f.measureGaps(); err != nil {
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
				// The profile is public (see Report.Public): a column
				// it saw no missing-value spelling in gets no missing
				// bin, so no blank is ever invented into it.
				NoMissing: len(pc.MissingTokens) == 0,
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
				lv, ok := f.opts.Levels[pc.Name]
				if !ok && pc.Categories != nil {
					lv, ok = pc.Categories, true
				}
				if ok {
					if len(lv) == 0 {
						return fmt.Errorf("categorical column %q: empty public category list: %w", pc.Name, ErrInvalid)
					}
					a.Levels = slices.Clone(lv)
					a.PublicLevels, a.NoOther = true, true
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
	for i := range f.m.Attrs {
		a := &f.m.Attrs[i]
		switch {
		case a.isNumber() && !f.publicBounds(a):
			numeric++
		case a.Kind == profile.Categorical && !a.PublicLevels:
			categorical++
		}
	}
	return numeric, categorical
}

// publicBounds reports whether a numeric or datetime column's bounds are
// public: declared in the schema (profile.Column.PublicBounds) or, for every
// column, by Options.SchemaBounds.
func (f *fitter) publicBounds(a *Attr) bool {
	return f.opts.SchemaBounds || f.p.Columns[a.Source].PublicBounds
}

// domainShares are the domain budget shares the calibration tries, up to
// maxShare, or up to catMaxShare when categorical columns whose categories
// are discovered make up at least half of the attributes.
var domainShares = []float64{0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}

// maxShare and catMaxShare cap the calibrated domain share. When the
// release threshold stays out of reach (small tables), every extra share
// releases more categories but leaves noisier marginals for the other
// columns. Measured at epsilon 1 (README, "--model dp"; 30–40 fits), a table
// mostly of discovered categorical columns, whose 1-way marginals come from
// the domain step (fromDomain), gains up to 0.8 (credit, 12 of 21: shapes
// 0.756 at 0.5, 0.803 at 0.7, 0.809 at 0.8, 0.801 at 0.9), while one of
// mostly numeric columns loses beyond 0.5 (insurance, 2 of 7: 0.923 at
// 0.3, 0.937 at 0.5, 0.932 at 0.7).
const (
	maxShare    = 0.5
	catMaxShare = 0.8
)

// budget splits rho and delta between the steps. It measures the row count
// first (charged), because the split and the bins depend on it.
func (f *fitter) budget() error {
	nNum, nCat := f.domainColumns()
	pl := plan{delta: f.opts.Delta, deltaConv: f.opts.Delta}
	if nCat > 0 {
		share := domainDeltaShare
		if f.opts.Epsilon > 0 {
			share = domainDeltaShareEps
		}
		pl.deltaDomain = f.opts.Delta * share
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
	// The noisy row count: one count of sensitivity 1.
	pl.rhoCount = pl.rho * countShare
	g, err := NewDiscreteGaussian(1 / (2 * pl.rhoCount))
	if err != nil {
		return err
	}
	z, err := g.Sample()
	if err != nil {
		return err
	}
	pl.rows = math.Max(float64(int64(len(f.t.Rows))+z), 1)
	pl.rowsSigma2 = g.Sigma2()
	f.steps = append(f.steps, Step{Name: "row count", Rho: g.Rho(), Sigma2: g.Sigma2(), Count: 1,
		Note: "sizes the bins and the domain budget"})
	rest := pl.rho - g.Rho()
	if k := len(f.orderRelations()); k > 0 {
		pl.rhoGaps = rest * math.Min(gapShare*float64(k), gapMaxShare)
		rest -= pl.rhoGaps
	}
	if k := nNum + nCat; k > 0 {
		share := f.opts.DomainShare
		if share == 0 {
			limit := maxShare
			if 2*nCat >= len(f.m.Attrs) {
				limit = catMaxShare
			}
			// The calibration keeps domainDeltaShare's threshold as
			// its yardstick whatever delta the release gets: the extra
			// delta of an epsilon target lowers the threshold without
			// moving the domain share (which, calibrated at the lower
			// threshold, fell a step at epsilon 10 and cost credit 0.003
			// of shapes there). Public inputs only, like the rest.
			share = calibrateShare(k, nCat, rest, f.opts.Delta*domainDeltaShare, pl.rows, limit)
		}
		pl.rhoDomain = rest * share
		// The bounds' refinement (refineBounds) comes on top of the
		// bounds' part of the domain share, out of the marginals', so
		// that the coarse histograms keep their noise: every numeric
		// column pays for it, used or not, and a noisier coarse
		// histogram lost credit's rare buckets (shapes 0.858 to 0.844,
		// bivariate 0.739 to 0.706 at epsilon 1, with the refinement
		// taking 0.3 of the bounds' rho instead).
		pl.rhoRefine = pl.rhoDomain * refineExtra * numWeight * float64(nNum) / (float64(nCat) + numWeight*float64(nNum))
		// On a small table a sub-bucket's noise is too large against the
		// rows for refineBounds to tell a narrow column from a spread one
		// (credit's amount, 800 rows against a sigma of 127, was cut to
		// [1024, 2048): shapes 0.854 to 0.843), so it is not measured and
		// costs nothing; the noisy row count and the budget are public.
		if nNum == 0 || pl.rows < refineMinRows*math.Sqrt(refineSigma2(nNum, pl.rhoRefine)) {
			pl.rhoRefine = 0
		}
		pl.rhoDomain += pl.rhoRefine
	}
	pl.rhoMST = rest - pl.rhoDomain
	f.plan = pl
	f.splitMST()
	return nil
}

// calibrateShare returns the least domain share at which the noise lets the
// domain step see a category (or bounds bucket) holding releaseShare of the
// rows: the release threshold of thresholdFor for categories, the
// boundsThreshold for bounds alone. Small tables need a larger share; on
// large ones a tenth of the budget does and the rest measures marginals.
func calibrateShare(k, nCat int, rho, deltaDomain, rows, limit float64) float64 {
	target := releaseShare * rows
	last := domainShares[0]
	for _, s := range domainShares {
		if s > limit {
			break
		}
		last = s
		sigma2Cat, sigma2Num := domainSigma2(k-nCat, nCat, s*rho)
		var need float64
		if nCat > 0 {
			need = float64(thresholdFor(sigma2Cat, deltaDomain/float64(nCat)))
		} else {
			need = boundsThreshold * math.Sqrt(sigma2Num)
		}
		if need <= target {
			return s
		}
	}
	return last
}

// numWeight is the share of a category histogram's rho a bounds histogram
// gets in the domain step.
const numWeight = 0.25

// domainSigma2 splits rho between nNum bounds histograms and nCat category
// histograms, a bounds one getting numWeight of a category one's rho, and
// returns their noise variances: nCat/(2 s2c) + nNum/(2 s2n) = rho.
func domainSigma2(nNum, nCat int, rho float64) (sigma2Cat, sigma2Num float64) {
	w := float64(nCat) + numWeight*float64(nNum)
	sigma2Cat = w / (2 * rho)
	return sigma2Cat, sigma2Cat / numWeight
}

// splitMST splits rhoMST between the 1-way marginals, the selection of
// pairs and the 2-way marginals in thirds, as MST does (halves between the
// last two when every 1-way marginal comes from the domain step). Pairs
// that turn out not worth measuring (selectAndMeasure) hand their share
// back to the 1-way marginals.
func (f *fitter) splitMST() {
	pl := &f.plan
	if f.oneWayCount() == 0 {
		pl.rhoSel, pl.rho2 = pl.rhoMST/2, pl.rhoMST/2
		return
	}
	pl.rho1 = pl.rhoMST / 3
	pl.rhoSel = pl.rhoMST / 3
	pl.rho2 = pl.rhoMST - pl.rho1 - pl.rhoSel
}

// oneWaySigma is the noise standard deviation of each 1-way marginal count
// (see mst).
func (f *fitter) oneWaySigma() float64 {
	rho := f.plan.rho1
	if rho == 0 {
		rho = f.plan.rhoMST / 3
	}
	return math.Sqrt(float64(max(f.oneWayCount(), 1)) / (2 * rho))
}

// fromDomain reports whether attribute i's 1-way marginal is the domain
// step's histogram (a categorical column whose categories are discovered)
// rather than a measurement of the 1-way step.
func (f *fitter) fromDomain(i int) bool {
	a := &f.m.Attrs[i]
	return a.Kind == profile.Categorical && !a.PublicLevels
}

// oneWayCount is the number of attributes the 1-way step measures.
func (f *fitter) oneWayCount() int {
	n := 0
	for i := range f.m.Attrs {
		if !f.fromDomain(i) {
			n++
		}
	}
	return n
}

// valueBins is the number of fine value bins of numeric and datetime
// columns: enough that bins holding compressThreshold sigma of the 1-way
// noise each can be told apart two ways, within [8, MaxBins]. The 1-way
// step then merges adjacent bins that the noise drowns. (Four ways, the
// rule before the pairs could stop early, measured worse on small tables
// and no better on adult: at epsilon 1, mean of 60 fits, shapes / trends credit
// discovered 0.825 / 0.706 against 0.830 / 0.709 now, insurance discovered
// 0.936 / 0.878 against 0.944 / 0.885, public 0.937 / 0.883 against
// 0.947 / 0.891; adult's bins stay at MaxBins down to epsilon 0.3.)
func (f *fitter) valueBins() int {
	k := 2 * f.plan.rows / (compressThreshold * f.oneWaySigma())
	return int(math.Max(8, math.Min(float64(f.opts.MaxBins), math.Round(k))))
}

// domain finds private bounds and categories, then lays out the bins.
func (f *fitter) domain() error {
	nNum, nCat := f.domainColumns()
	// Each of the nNum + nCat columns is one Gaussian measurement of L2
	// sensitivity 1 (a row adds 1 to one count of the column's histogram);
	// zCDP adds up over them. Bounds need less precision than the release
	// threshold of categories, so a bounds histogram gets numWeight of a
	// category histogram's rho (twice its noise).
	rhoBase := f.plan.rhoDomain - f.plan.rhoRefine
	sigma2Cat, sigma2Num := domainSigma2(nNum, nCat, rhoBase)
	var gCat, gNum, gRef *DiscreteGaussian
	var err error
	two := f.twoRounds(nCat, sigma2Cat)
	deltaFirst := f.plan.deltaDomain
	if two {
		// Two release rounds (release.go): the first gets 1 - secondShare
		// of the categories' rho and 1 - secondDelta of their delta.
		sigma2Cat /= 1 - secondShare
		deltaFirst *= 1 - secondDelta
	}
	if nCat > 0 {
		if gCat, err = NewDiscreteGaussian(sigma2Cat); err != nil {
			return err
		}
		f.steps = append(f.steps, Step{Name: "domain: categories", Rho: float64(nCat) * gCat.Rho(), Sigma2: gCat.Sigma2(), Count: nCat,
			Note: "Gaussian thresholding of category counts"})
	}
	if nNum > 0 {
		if gNum, err = NewDiscreteGaussian(sigma2Num); err != nil {
			return err
		}
		f.steps = append(f.steps, Step{Name: "domain: bounds", Rho: float64(nNum) * gNum.Rho(), Sigma2: gNum.Sigma2(), Count: nNum,
			Note: "public-grid histograms: signed powers of two for numbers, calendar years for datetimes"})
		// Each of a column's refineLevels refinements gets an equal part
		// of rhoRefine.
		if f.plan.rhoRefine > 0 {
			if gRef, err = NewDiscreteGaussian(refineSigma2(nNum, f.plan.rhoRefine)); err != nil {
				return err
			}
			f.steps = append(f.steps, Step{Name: "domain: bounds, refined", Rho: float64(nNum*refineLevels) * gRef.Rho(), Sigma2: gRef.Sigma2(), Count: nNum * refineLevels,
				Note: "equal sub-buckets of a narrow coarse range, charged whether used or not"})
		}
	}
	var tau int64
	if nCat > 0 {
		tau = thresholdFor(gCat.Sigma2(), deltaFirst/float64(nCat))
	}
	var cats []int
	var crs []*catRelease
	bins := f.valueBins()
	for i := range f.m.Attrs {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		a := &f.m.Attrs[i]
		pc := &f.p.Columns[a.Source]
		switch {
		case a.isNumber() && f.publicBounds(a):
			lo, hi := pc.Min, pc.Max
			if hi < lo || math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
				return fmt.Errorf("column %q: schema bounds [%v, %v]: %w", a.Name, lo, hi, ErrInvalid)
			}
			a.setBins(lo, hi, bins)
		case a.isNumber():
			lo, hi, err := f.privateBounds(a, pc, gNum, gRef, bins)
			if err != nil {
				return fmt.Errorf("column %q: %w", a.Name, err)
			}
			a.setBins(lo, hi, bins)
		case a.Kind == profile.Categorical && !a.PublicLevels:
			cr, err := f.privateLevels(a, pc, gCat, tau)
			if err != nil {
				return fmt.Errorf("column %q: %w", a.Name, err)
			}
			cats, crs = append(cats, i), append(crs, cr)
			lv, noisy := cr.levels()
			a.Levels = lv
			if f.levelCounts == nil {
				f.levelCounts = make([][]int64, len(f.m.Attrs))
			}
			f.levelCounts[i], f.levelSigma2 = noisy, gCat.Sigma2()
		}
	}
	if two {
		rho2 := rhoBase*float64(nCat)/(float64(nCat)+numWeight*float64(nNum)) - float64(nCat)*gCat.Rho()
		if err := f.secondRelease(cats, crs, rho2, f.plan.deltaDomain-deltaFirst); err != nil {
			return err
		}
	}
	for _, i := range cats {
		if a := &f.m.Attrs[i]; len(a.Levels) == 0 {
			f.warnings = append(f.warnings, fmt.Sprintf("column %q: no category reached the release threshold of %d rows, so every value is written as %q: declare its categories in the schema", a.Name, tau, a.Other))
		}
	}
	return nil
}

// privateBounds measures a noisy histogram of a column on a public grid —
// signed powers of two for numbers, calendar years 1900–2099 for datetimes —
// and returns the range of the run of buckets around the largest noisy one
// whose noisy counts reach boundsThreshold sigma. The range is only coarse:
// the 1-way step trims the value bins at its ends that the data leaves
// empty, so the model draws no value far outside the data.
func (f *fitter) privateBounds(a *Attr, pc *profile.Column, g, gRef *DiscreteGaussian, bins int) (float64, float64, error) {
	gr := gridFor(a.Kind)
	counts := make([]int64, gr.size())
	for _, r := range f.t.Rows {
		cell := r[a.Source]
		if profile.IsMissing(cell, pc) {
			continue
		}
		if v, ok := parseValue(a.Kind, a.Format, cell); ok {
			counts[gr.bucket(v)]++
		}
	}
	if err := g.AddNoise(counts); err != nil {
		return 0, 0, err
	}
	thr := boundsThreshold * math.Sqrt(g.Sigma2())
	best := 0
	for b, c := range counts {
		if c > counts[best] {
			best = b
		}
	}
	// Grow the range outwards from the largest bucket: to the next bucket
	// when it passes thr, or over up to maxJump empty ones to a bucket
	// passing jumpThreshold sigma (zero-inflated columns: the zero bucket
	// and the first values ≥ 1 are twenty powers of two apart).
	// An integer range small enough for one bin per value grows only at
	// perValueThreshold sigma to a bucket that would make it too large
	// for them, since a noise bucket that joins it turns exact values
	// into intervals, which split a spike (adult's hours-per-week at 40:
	// [2, 256) after a noise bucket passed 1 sigma, column shape 0.78 in 5
	// of 30 fits at epsilon 10; none of 30 with this rule). A bucket that
	// keeps it per-value joins at thr like any other: a noise value at the
	// end is a bin the 1-way step trims, while a real one left out is lost
	// (credit's installment_rate and residence_history, 1 to 4, lost their
	// value 1, 13% of the rows and a bucket of its own at 2.2 sigma, in
	// three fits of four; at epsilon 1, 600 fits, credit's shapes / trends
	// went from 0.830 / 0.710 to 0.834 / 0.718, insurance's and adult's
	// stayed within 0.002).
	small := func(b int) bool {
		if !a.Integer {
			return false
		}
		lo, _ := gr.rng(min(b, best))
		_, hi := gr.rng(max(b, best))
		return hi-lo+1 <= float64(bins)
	}
	first, last := growRun(counts, best, math.Sqrt(g.Sigma2()), func(cur, b int) float64 {
		switch {
		case a.Kind == profile.Datetime:
			// A year bucket of real rows next to the data's main
			// one holds a large count; at 1 sigma, noise alone
			// added a neighbouring year to one fit in six.
			return yearThreshold * math.Sqrt(g.Sigma2())
		case small(cur) && !small(b):
			return perValueThreshold * math.Sqrt(g.Sigma2())
		}
		return thr
	})
	if float64(counts[best]) < warnThreshold*math.Sqrt(g.Sigma2()) {
		f.warnings = append(f.warnings, fmt.Sprintf("column %q: no bucket of the bounds grid stands out of the noise (sigma %.0f rows), so its range is a guess: declare min and max in the schema", a.Name, math.Sqrt(g.Sigma2())))
	}
	lo, _ := gr.rng(first)
	_, hi := gr.rng(last)
	// The refinement starts from the core of the run: the buckets that
	// stand out of the noise (refineCoreThreshold sigma), since the run
	// itself often takes in a noise bucket at 1 sigma. Rows outside the core
	// fall in the end sub-buckets, so real ones there keep the refinement
	// from narrowing the range.
	core := refineCoreThreshold * math.Sqrt(g.Sigma2())
	cf, cl := growRun(counts, best, math.Sqrt(g.Sigma2()), func(int, int) float64 { return core })
	clo, _ := gr.rng(cf)
	_, chi := gr.rng(cl)
	if gRef != nil && cl-cf < refineMaxBuckets && float64(counts[best]) >= core && (a.Kind == profile.Datetime || clo > 0 || chi < 0) {
		if rlo, rhi, ok, err := f.refineBounds(a, pc, gRef, clo, chi); err != nil || ok {
			return rlo, rhi, err
		}
	}
	return lo, hi, nil
}

// refineSigma2 is the noise variance of each of nNum columns' refineLevels
// refinement histograms sharing rhoRefine.
func refineSigma2(nNum int, rhoRefine float64) float64 {
	return float64(nNum*refineLevels) / (2 * rhoRefine)
}

// growRun grows a run of buckets outwards from bucket best and returns its
// ends: to the next bucket when its noisy count reaches thr(cur, next), or
// over up to maxJump buckets to one passing jumpThreshold sigma
// (zero-inflated columns: the zero bucket and the first values ≥ 1 are
// twenty powers of two apart).
func growRun(counts []int64, best int, sigma float64, thr func(cur, b int) float64) (first, last int) {
	jump := jumpThreshold * sigma
	grow := func(cur, step int) int {
		for {
			next := -1
			for j := 1; j <= maxJump; j++ {
				b := cur + j*step
				if b < 0 || b >= len(counts) {
					break
				}
				if (j == 1 && float64(counts[b]) >= thr(cur, b)) || float64(counts[b]) >= jump {
					next = b
					break
				}
			}
			if next < 0 {
				return cur
			}
			cur = next
		}
	}
	return grow(best, -1), grow(best, 1)
}

// refineBounds narrows a coarse range [lo, hi) of one or two grid buckets
// (latitudes 48.85–48.91 in [32, 64), prices 1000–1100 in [512, 2048)),
// where the value bins laid on it would be too coarse to tell the data's
// values apart: up to refineLevels times, it cuts the range into
// refineBuckets equal sub-buckets, measures their noisy histogram with g
// and grows a run from the largest as privateBounds does, and keeps the run
// when it holds the data and covers at most refineKeep of the range (else the 1-way step's
// trimming does as well, and a run cut by noise would clamp real rows);
// ok reports whether a level was kept.
// Each level is a measurement of L2 sensitivity 1 whether it is kept or
// not, charged up front; every decision reads only noisy counts and public
// inputs (the column's kind and decimals).
func (f *fitter) refineBounds(a *Attr, pc *profile.Column, g *DiscreteGaussian, lo, hi float64) (rlo, rhi float64, ok bool, err error) {
	// The values' resolution: sub-buckets narrower than it would leave
	// gaps between values that stop the run.
	res := math.Pow(10, -float64(a.Decimals))
	switch {
	case a.Kind == profile.Datetime:
		res = 86400
	case a.Integer:
		res = 1
	}
	sigma := math.Sqrt(g.Sigma2())
	thr := func(int, int) float64 { return boundsThreshold * sigma }
	for range refineLevels {
		n := int(math.Min(refineBuckets, math.Floor((hi-lo)/res)))
		if n < 4 {
			break
		}
		w := (hi - lo) / float64(n)
		counts := make([]int64, n)
		for _, r := range f.t.Rows {
			cell := r[a.Source]
			if profile.IsMissing(cell, pc) {
				continue
			}
			if v, ok := parseValue(a.Kind, a.Format, cell); ok {
				counts[min(max(int(math.Floor((v-lo)/w)), 0), n-1)]++
			}
		}
		if err := g.AddNoise(counts); err != nil {
			return 0, 0, false, err
		}
		best := 0
		for b, c := range counts {
			if c > counts[best] {
				best = b
			}
		}
		first, last := growRun(counts, best, sigma, thr)
		// The run must hold the data: the noisy count outside it must be
		// what noise alone leaves in those buckets (below refineOut
		// standard deviations of their sum), else a run grown from a
		// bucket of a spread column would clamp most of its rows.
		var out, in int64
		for b, c := range counts {
			if b < first || b > last {
				out += c
			} else {
				in += c
			}
		}
		// And it must hold refineHold of the noisy row count (up to a
		// standard deviation of its noise): on a small
		// table the sum outside cannot tell a spread column from noise
		// (insurance's charges, a quarter of them above a coarse bucket
		// and clamped into the last sub-bucket, were cut to [16000, 16384)).
		if float64(in)+sigma*math.Sqrt(float64(last-first+1)) < refineHold*f.plan.rows {
			break
		}
		if float64(last-first+1) > refineKeep*float64(n) || float64(counts[best]) < refineCoreThreshold*sigma ||
			float64(out) > refineOut*sigma*math.Sqrt(float64(n-(last-first+1))) {
			break
		}
		lo, hi, ok = lo+float64(first)*w, lo+float64(last+1)*w, true
	}
	return lo, hi, ok, nil
}

// privateLevels releases the categories whose count plus discrete Gaussian
// noise reaches tau, sorted. A category held by one row only (the one a
// neighbouring dataset adds) passes with probability at most the delta share
// thresholdFor was given, which is what makes the step (delta, rho)-
// approximately zCDP. It returns every present value's noisy count, of
// which only the released ones' are shown (the 1-way step uses them: see
// doc.go, releasing the counts above the threshold is the same mechanism),
// and each row's value, for the second round.
func (f *fitter) privateLevels(a *Attr, pc *profile.Column, g *DiscreteGaussian, tau int64) (*catRelease, error) {
	var counts []int64
	var keys []string
	idx := map[string]int32{}
	codes := make([]int32, len(f.t.Rows))
	var missing int64
	for r, row := range f.t.Rows {
		cell := row[a.Source]
		if profile.IsMissing(cell, pc) {
			missing++
			codes[r] = -1
			continue
		}
		v := strings.TrimSpace(cell)
		k, ok := idx[v]
		if !ok {
			k = int32(len(keys))
			idx[v] = k
			keys = append(keys, v)
			counts = append(counts, 0)
		}
		codes[r] = k
		counts[k]++
	}
	// The missing cells are one more count of the same histogram (a row
	// adds 1 to a value's count or to this one), released whatever its
	// size: its key is public, so it needs no threshold.
	if a.missingBin() >= 0 {
		z, err := g.Sample()
		if err != nil {
			return nil, err
		}
		f.missingCounts[a.Source] = missing + z
	}
	// Keys in sorted order, so that the levels come out sorted.
	order := make([]int32, len(keys))
	for k := range order {
		order[k] = int32(k)
	}
	sort.Slice(order, func(x, y int) bool { return keys[order[x]] < keys[order[y]] })
	rank := make([]int32, len(keys))
	cr := &catRelease{keys: make([]string, len(keys)), noisy: make([]int64, len(keys)), released: make([]bool, len(keys)), codes: codes}
	for k, old := range order {
		rank[old] = int32(k)
		z, err := g.Sample()
		if err != nil {
			return nil, err
		}
		cr.keys[k], cr.noisy[k] = keys[old], counts[old]+z
		cr.released[k] = cr.noisy[k] >= tau
	}
	for r, k := range codes {
		if k >= 0 {
			codes[r] = rank[k]
		}
	}
	return cr, nil
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
