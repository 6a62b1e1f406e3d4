// Package synth fits synthesis models to a profiled table and samples
// synthetic rows from them.
//
// Two models sit behind one interface: a Gaussian copula (a fast baseline)
// and a sequential tree model in the manner of synthpop's CART (the default,
// highest fidelity). Both model the "modelled" columns (numeric, datetime,
// categorical, boolean) jointly; PII, key and free-text columns are never
// modelled from their values but generated fresh, so that no identifier of the
// training table can reach the output.
//
// Sampling is deterministic and shardable: rows are produced in fixed-size
// blocks whose random streams derive only from (seed, block index), and shard
// i of k owns a contiguous range of blocks, so the k shards concatenated are
// byte-for-byte the single-shard sample whatever k is.
package synth

import (
	"context"
	"fmt"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Model kinds accepted by FitOptions.Kind and returned by Model.Kind.
const (
	KindTree   = "tree"
	KindCopula = "copula"
)

// Errors callers act on; every error this package returns wraps one of them.
var (
	// ErrInvalid reports bad input: an empty table, a profile that does not
	// match the table, bad options or bad shard arguments.
	ErrInvalid = errs.New(errs.InvalidArgument, "synth: invalid input")
	// ErrImpossible reports a Fixed condition that no row can satisfy, such
	// as a category never seen in training.
	ErrImpossible = errs.New(errs.InvalidArgument, "synth: impossible condition")
	// ErrRejected reports that MaxTriesPerRow consecutive candidate rows were
	// rejected by the Fixed conditions, the Accept filter or the exact-copy
	// guard.
	ErrRejected = errs.New(errs.FailedPrecondition, "synth: too many rejected rows")
	// ErrFormat reports a serialized model that cannot be read: wrong magic,
	// unknown version or corrupt body.
	ErrFormat = errs.New(errs.Internal, "synth: bad model file")
)

// Model, RowWriter and SampleOptions are package model's: the tree and
// copula models are drivers of the model-neutral core (see driver.go).
type (
	Model         = model.Model
	RowWriter     = model.RowWriter
	SampleOptions = model.SampleOptions
)

// DefaultMaxTries is the MaxTriesPerRow used when the option is 0.
const DefaultMaxTries = model.DefaultMaxTries

// FitOptions steer fitting.
type FitOptions struct {
	// Kind is KindTree (the default when empty) or KindCopula.
	Kind string
	// MinLeaf is the tree model's minimum number of training rows in a leaf.
	// 0 means DefaultMinLeaf, or for a table of fewer than 4,000 rows one
	// row in 40 but at least DefaultMinLeafSmall. Larger leaves mean
	// smoother, more private, less faithful samples.
	MinLeaf int
	// MinSplitStat is how significant a tree split must be: the impurity
	// decrease it brings, over the node's impurity per row, must reach it.
	// For a two-level target this is Pearson's chi-square statistic of the
	// split's 2x2 table, for a number target about its F statistic, so
	// splits that only fit noise (which place a synthetic row near the few
	// training rows that happen to share it, and raise the DCR share) are
	// not made. 0 means DefaultMinSplitStat.
	MinSplitStat float64
	// Smoothing scales how far a number drawn from a tree leaf is moved
	// from a training value held by only one row of that leaf, in units of
	// the gap to the neighbouring distinct leaf values: 1 (the default, used
	// when Smoothing is 0 unless NoSmoothing is set) moves up to one
	// neighbour away. Values held by several rows of a leaf are kept exact.
	Smoothing float64
	// NoSmoothing makes Smoothing 0 mean "no smoothing" instead of "default".
	NoSmoothing bool
	// Order lists modelled column names in the order the tree model visits
	// them; missing names follow in the default order. Empty means the
	// default heuristic (see treeOrder).
	Order []string
	// MaxDepth bounds tree depth (default DefaultMaxDepth).
	MaxDepth int
	// Seed drives the few random choices fitting makes (PII hash salt,
	// the near-copy guard's held-out slice).
	Seed uint64
	// GuardQuantile is the held-out quantile of nearest-training-row
	// distances below which a sampled row counts as a near-copy and is
	// redrawn (see guard.go); 0 means DefaultGuardQuantile, or on tables of
	// more than largeTableRows rows LargeTableGuardQuantile. NoGuard turns
	// the near-copy guard off (the exact-copy guard stays).
	GuardQuantile float64
	NoGuard       bool
}

// Defaults for FitOptions. DefaultMinLeaf was chosen on adult (26,048
// rows): with stratified leaf draws, leaves of 100 rows keep the Column Pair
// Trends of leaves of 60 while lowering the DCR share (see the fidelity test).
const (
	DefaultMinLeaf      = 100
	DefaultMinLeafSmall = 10
	DefaultMinSplitStat = 3.0
	DefaultMaxDepth     = 24
	DefaultSmoothing    = 1.0
)

// Fit fits the model FitOptions.Kind to t as profiled by p.
func Fit(ctx context.Context, t *table.Table, p *profile.Profile, opts FitOptions) (Model, error) {
	if t == nil || p == nil {
		return nil, fmt.Errorf("synth.Fit: nil table or profile: %w", ErrInvalid)
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("synth.Fit: table has no rows: %w", ErrInvalid)
	}
	schema, err := newSchema(t, p, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("synth.Fit: %w", err)
	}
	switch q := opts.GuardQuantile; {
	case opts.NoGuard:
	case q == 0:
		schema.guardQ = defaultGuardQuantile(len(t.Rows))
	case q > 0 && q < 1:
		schema.guardQ = q
	default:
		return nil, fmt.Errorf("synth.Fit: guard quantile %v is not in (0, 1): %w", q, ErrInvalid)
	}
	switch opts.Kind {
	case "", KindTree:
		m, err := fitTree(ctx, schema, t, p, opts)
		if err != nil {
			return nil, fmt.Errorf("synth.Fit: tree: %w", err)
		}
		return m, nil
	case KindCopula:
		m, err := fitCopula(ctx, schema, t, p)
		if err != nil {
			return nil, fmt.Errorf("synth.Fit: copula: %w", err)
		}
		return m, nil
	default:
		return nil, fmt.Errorf("synth.Fit: unknown model kind %q: %w", opts.Kind, ErrInvalid)
	}
}
