package quality

import (
	"context"
	"fmt"
	"math"

	"synthos.dev/synthos/shared/ml"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// DefaultDiscriminatorRows is how many rows per side the discriminator
// samples by default.
const DefaultDiscriminatorRows = 10000

// defaultFolds is the discriminator's default cross-validation.
const defaultFolds = 5

// Discriminate runs the report's discriminator alone on the columns of p
// (a profile of a subset of the columns finds what gives a sample away):
// the cross-validated AUC of a classifier telling real rows from synthetic
// ones, with opts' Seed, Folds and DiscriminatorRows. Tables too small to
// cross-validate are an ErrInput.
func Discriminate(ctx context.Context, real, synth *table.Table, p *profile.Profile, opts Options) (*Discriminator, error) {
	if opts.Folds < 0 || opts.Folds == 1 || opts.DiscriminatorRows < 0 {
		return nil, fmt.Errorf("quality.Discriminate: Folds %d, DiscriminatorRows %d: %w", opts.Folds, opts.DiscriminatorRows, ErrInput)
	}
	d, note, err := discriminate(ctx, real, synth, p, opts)
	if err != nil {
		return nil, fmt.Errorf("quality.Discriminate: %w", err)
	}
	if d == nil {
		return nil, fmt.Errorf("quality.Discriminate: %s: %w", note, ErrInput)
	}
	return d, nil
}

// discriminate trains a gradient-boosted classifier to tell real rows
// (label 0) from synthetic ones (label 1) on a balanced, seeded sample and
// returns its cross-validated AUC. It returns a note instead of a result
// when the tables are too small to cross-validate.
func discriminate(ctx context.Context, real, synth *table.Table, p *profile.Profile, opts Options) (*Discriminator, string, error) {
	folds := opts.Folds
	if folds == 0 {
		folds = defaultFolds
	}
	per := opts.DiscriminatorRows
	if per == 0 {
		per = DefaultDiscriminatorRows
	}
	per = min(per, len(real.Rows), len(synth.Rows))
	if per < folds {
		return nil, fmt.Sprintf("discriminator skipped: %d rows per side is fewer than %d folds", per, folds), nil
	}
	rng := newRand(opts.Seed, 0x646973)
	sp := scoredProfile(p)
	both := project(real, sp, sampleRows(real.Rows, per, rng))
	both.Rows = append(both.Rows, project(synth, sp, sampleRows(synth.Rows, per, rng)).Rows...)

	enc, err := ml.FitEncoder(both, sp)
	if err != nil {
		return nil, "", fmt.Errorf("encode: %w", err)
	}
	x, err := enc.Transform(both)
	if err != nil {
		return nil, "", fmt.Errorf("encode: %w", err)
	}
	labels := make([]int, 2*per)
	for i := per; i < 2*per; i++ {
		labels[i] = 1
	}
	fold, err := ml.StratifiedFolds(labels, folds, opts.Seed)
	if err != nil {
		return nil, "", err
	}
	d := &Discriminator{Folds: folds, RowsPerSide: per, FoldAUC: make([]float64, folds)}
	err = parallel(ctx, folds, func(k int) error {
		train := x.Subset(func(i int) bool { return fold[i] != k })
		test := x.Subset(func(i int) bool { return fold[i] == k })
		var y []float64
		var truth []bool
		for i, l := range labels {
			if fold[i] != k {
				y = append(y, float64(l))
			} else {
				truth = append(truth, l == 1)
			}
		}
		params := ml.DefaultParams(ml.Logistic)
		params.Seed = opts.Seed + uint64(k)
		m, err := ml.Fit(ctx, train, y, params)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k, err)
		}
		pred, err := m.Predict(test)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k, err)
		}
		auc, err := ml.AUC(pred, truth)
		if err != nil {
			return fmt.Errorf("fold %d: %w", k, err)
		}
		d.FoldAUC[k] = auc
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	for _, a := range d.FoldAUC {
		d.AUC += a
	}
	d.AUC /= float64(folds)
	d.Score = clamp01(1 - 2*math.Abs(d.AUC-0.5))
	return d, "", nil
}
