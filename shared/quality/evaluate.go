package quality

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

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
	if opts.DiscriminatorRows >= 0 {
		disc, err := discriminate(ctx, real, synth, p, opts)
		if err != nil {
			return nil, fmt.Errorf("quality.Evaluate: discriminator: %w", err)
		}
		rep.Discriminator = disc
	}
	switch {
	case opts.Target == "":
		rep.Notes = append(rep.Notes, "ML efficacy skipped: no target column")
	case holdout == nil:
		rep.Notes = append(rep.Notes, "ML efficacy skipped: no holdout table")
	default:
		eff, err := efficacy(ctx, real, synth, holdout, p, opts)
		if err != nil {
			return nil, fmt.Errorf("quality.Evaluate: ML efficacy: %w", err)
		}
		rep.Efficacy = eff
		rep.HoldoutRows = eff.HoldoutRows
	}
	return rep, nil
}

// fidelity fills the SDMetrics scores and the accuracy of rep from d.
func fidelity(ctx context.Context, d *prepared, opts Options, rep *Report) error {
	n := len(d.cols)
	acc := make([]accCodes, n)
	pc := make([]pairCodes, n)
	var shapeSum, uniSum float64
	for i, c := range d.cols {
		acc[i] = makeAccCodes(c)
		pc[i] = makePairCodes(c)
		shape, metric := shapeScore(c)
		uni := accuracy1(acc[i])
		rm, sm := float64(c.realMissing)/float64(d.nReal), float64(c.synMissing)/float64(d.nSyn)
		rep.Columns = append(rep.Columns, ColumnReport{
			Name: c.name, Kind: c.kind, Metric: metric, Shape: shape, Accuracy: uni,
			RealMissingRate: rm, SyntheticMissingRate: sm, MissingRateDiff: math.Abs(rm - sm),
			SyntheticInvalid: c.synInvalid, Distribution: acc[i].distribution(),
		})
		shapeSum += shape
		uniSum += uni
		if c.synInvalid > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("column %q: %d synthetic cells did not parse as %s and were scored as missing", c.name, c.synInvalid, c.kind))
		}
	}
	rep.ColumnShapes = shapeSum / float64(n)
	rep.Accuracy.Univariate = uniSum / float64(n)

	var trendSum, biSum float64
	trends, pairs := 0, 0
	rep.Pairs = make([]PairReport, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for j := i + 1; j < n; j++ {
			a, b := d.cols[i], d.cols[j]
			pr := PairReport{A: a.name, B: b.name, Accuracy: accuracy2(acc[i], acc[j])}
			score, metric, rc, sc, err := pairScore(a, b, pc[i], pc[j])
			pr.Metric, pr.RealCorrelation, pr.SyntheticCorrelation = metric, rc, sc
			switch {
			case errors.Is(err, ErrUndefined):
				pr.Skipped = err.Error()
			case err != nil:
				return err
			default:
				pr.Trend = score
				trendSum += score
				trends++
			}
			biSum += pr.Accuracy
			pairs++
			rep.Pairs = append(rep.Pairs, pr)
		}
	}
	switch {
	case trends > 0:
		rep.ColumnPairTrends = trendSum / float64(trends)
		rep.Overall = (rep.ColumnShapes + rep.ColumnPairTrends) / 2
	default:
		rep.Overall = rep.ColumnShapes
		rep.Notes = append(rep.Notes, "Column Pair Trends not scored: no pair of columns has a defined trend score")
	}
	if skipped := pairs - trends; skipped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d column pairs left out of Column Pair Trends (undefined correlation)", skipped))
	}

	orders, accSum := 1, rep.Accuracy.Univariate
	if pairs > 0 {
		rep.Accuracy.Bivariate = biSum / float64(pairs)
		orders++
		accSum += rep.Accuracy.Bivariate
	}
	want := opts.Triples
	if want == 0 {
		want = DefaultTriples
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x7472697065))
	if ts := triples(n, want, rng); len(ts) > 0 {
		sum := 0.0
		for _, t := range ts {
			sum += accuracy3(acc[t[0]], acc[t[1]], acc[t[2]])
		}
		rep.Accuracy.Trivariate = sum / float64(len(ts))
		rep.Accuracy.Triples = len(ts)
		orders++
		accSum += rep.Accuracy.Trivariate
	}
	rep.Accuracy.Overall = accSum / float64(orders)
	return nil
}
