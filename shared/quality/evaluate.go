package quality

import (
	"context"
	"errors"
	"fmt"
	"math"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Options tune Evaluate. The zero value scores everything it can with the
// defaults below.
type Options struct {
	// Target is the column ML efficacy predicts; "" (or a nil holdout) skips
	// ML efficacy.
	Target string
	// Seed makes every sample (rows, triples, folds, models) reproducible.
	Seed uint64
	// MaxRows caps the real and the synthetic rows the statistical metrics
	// read (a seeded sample); 0 reads all.
	MaxRows int
	// Triples is how many column triples trivariate accuracy samples;
	// 0 means DefaultTriples, negative skips trivariate accuracy.
	Triples int
	// DiscriminatorRows caps the rows taken from each side for the
	// discriminator (both sides get the same count, so the classes are
	// balanced); 0 means DefaultDiscriminatorRows, negative skips it.
	DiscriminatorRows int
	// Folds is the discriminator's cross-validation folds; 0 means 5.
	Folds int
}

// Evaluate scores synth against real. holdout, real rows kept out of
// training, may be nil; it is used only for ML efficacy. p describes the
// columns of all three tables.
func Evaluate(ctx context.Context, real, synth, holdout *table.Table, p *profile.Profile, opts Options) (*Report, error) {
	if opts.MaxRows < 0 || opts.Folds < 0 || opts.Folds == 1 {
		return nil, fmt.Errorf("quality.Evaluate: MaxRows %d, Folds %d: %w", opts.MaxRows, opts.Folds, ErrInput)
	}
	d, err := prepare(real, synth, p, opts.MaxRows, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("quality.Evaluate: %w", err)
	}
	rep := &Report{Version: ReportVersion, RealRows: d.nReal, SyntheticRows: d.nSyn, Excluded: d.excluded}
	if err := fidelity(ctx, d, opts, rep); err != nil {
		return nil, fmt.Errorf("quality.Evaluate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("quality.Evaluate: %w", err)
	}
	rels, notes, err := relationReports(real, synth, p)
	if err != nil {
		return nil, fmt.Errorf("quality.Evaluate: %w", err)
	}
	rep.Relations = rels
	rep.Notes = append(rep.Notes, notes...)
	if opts.DiscriminatorRows >= 0 {
		disc, note, err := discriminate(ctx, real, synth, p, opts)
		if err != nil {
			return nil, fmt.Errorf("quality.Evaluate: discriminator: %w", err)
		}
		rep.Discriminator = disc
		if note != "" {
			rep.Notes = append(rep.Notes, note)
		}
	}
	switch {
	case opts.Target == "":
		rep.Notes = append(rep.Notes, "ML efficacy skipped: no target column")
	case holdout == nil:
		rep.Notes = append(rep.Notes, "ML efficacy skipped: no holdout table")
	default:
		eff, notes, err := efficacy(ctx, real, synth, holdout, p, opts)
		if err != nil {
			return nil, fmt.Errorf("quality.Evaluate: ML efficacy: %w", err)
		}
		rep.Notes = append(rep.Notes, notes...)
		if eff != nil {
			rep.Efficacy = eff
			rep.HoldoutRows = eff.HoldoutRows
		}
	}
	return rep, nil
}

// fidelity fills the SDMetrics scores and the accuracy of rep from d.
func fidelity(ctx context.Context, d *prepared, opts Options, rep *Report) error {
	shapes(d, rep)
	if err := trends(ctx, d, rep); err != nil {
		return err
	}
	return accuracy(ctx, d, opts, rep)
}

// shapes fills the Column Shapes score and the per-column reports.
func shapes(d *prepared, rep *Report) {
	rep.Columns = make([]ColumnReport, len(d.cols))
	sum := 0.0
	for i, c := range d.cols {
		shape, metric := shapeScore(c)
		rm, sm := float64(c.realMissing)/float64(d.nReal), float64(c.synMissing)/float64(d.nSyn)
		rep.Columns[i] = ColumnReport{
			Name: c.name, Kind: c.kind, Metric: metric, Shape: shape,
			RealMissingRate: rm, SyntheticMissingRate: sm, MissingRateDiff: math.Abs(rm - sm),
			SyntheticInvalid: c.synInvalid,
		}
		sum += shape
		if c.synInvalid > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("column %q: %d synthetic cells did not parse as %s and were scored as missing", c.name, c.synInvalid, c.kind))
		}
	}
	rep.ColumnShapes = sum / float64(len(d.cols))
}

// trends fills the Column Pair Trends score, the per-pair reports and the
// Overall score; shapes must have run.
func trends(ctx context.Context, d *prepared, rep *Report) error {
	n := len(d.cols)
	pc := make([]pairCodes, n)
	for i, c := range d.cols {
		pc[i] = makePairCodes(c)
	}
	var sum float64
	scored := 0
	rep.Pairs = make([]PairReport, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for j := i + 1; j < n; j++ {
			a, b := d.cols[i], d.cols[j]
			score, metric, rc, sc, err := pairScore(a, b, pc[i], pc[j])
			pr := PairReport{A: a.name, B: b.name, Metric: metric, RealCorrelation: rc, SyntheticCorrelation: sc}
			switch {
			case errors.Is(err, ErrUndefined):
				pr.Skipped = err.Error()
			case err != nil:
				return err
			default:
				pr.Trend = score
				sum += score
				scored++
			}
			rep.Pairs = append(rep.Pairs, pr)
		}
	}
	switch {
	case scored > 0:
		rep.ColumnPairTrends = sum / float64(scored)
		rep.Overall = (rep.ColumnShapes + rep.ColumnPairTrends) / 2
	default:
		rep.Overall = rep.ColumnShapes
		rep.Notes = append(rep.Notes, "Column Pair Trends not scored: no pair of columns has a defined trend score")
	}
	if skipped := len(rep.Pairs) - scored; skipped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d column pairs left out of Column Pair Trends (undefined correlation)", skipped))
	}
	return nil
}

// accuracy fills the MOSTLY AI-style accuracy, the per-column
// distributions and the per-column and per-pair accuracy; shapes and
// trends must have run.
func accuracy(ctx context.Context, d *prepared, opts Options, rep *Report) error {
	n := len(d.cols)
	acc := make([]accCodes, n)
	uni := 0.0
	for i, c := range d.cols {
		acc[i] = makeAccCodes(c)
		rep.Columns[i].Accuracy = accuracy1(acc[i])
		rep.Columns[i].Distribution = acc[i].distribution()
		uni += rep.Columns[i].Accuracy
	}
	rep.Accuracy.Univariate = uni / float64(n)
	orders, sum := 1, rep.Accuracy.Univariate

	bi, k := 0.0, 0
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for j := i + 1; j < n; j++ {
			rep.Pairs[k].Accuracy = accuracy2(acc[i], acc[j])
			bi += rep.Pairs[k].Accuracy
			k++
		}
	}
	if k > 0 {
		rep.Accuracy.Bivariate = bi / float64(k)
		orders++
		sum += rep.Accuracy.Bivariate
	}

	want := opts.Triples
	if want == 0 {
		want = DefaultTriples
	}
	if ts := triples(n, want, newRand(opts.Seed, 0x7472697065)); len(ts) > 0 {
		tri := 0.0
		for _, t := range ts {
			if err := ctx.Err(); err != nil {
				return err
			}
			tri += accuracy3(acc[t[0]], acc[t[1]], acc[t[2]])
		}
		rep.Accuracy.Trivariate = tri / float64(len(ts))
		rep.Accuracy.Triples = len(ts)
		orders++
		sum += rep.Accuracy.Trivariate
	}
	rep.Accuracy.Overall = sum / float64(orders)
	return nil
}
