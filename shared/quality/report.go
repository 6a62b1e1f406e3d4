package quality

import "synthos.dev/synthos/shared/profile"

// ReportVersion is the version of the Report JSON layout.
const ReportVersion = 1

// Report is the fidelity evaluation of a synthetic table against the real
// one. Scores are in [0, 1], higher is better, except the discriminator AUC
// (0.5 is ideal).
type Report struct {
	Version       int `json:"version"`
	RealRows      int `json:"real_rows"`      // rows scored (after MaxRows sampling)
	SyntheticRows int `json:"synthetic_rows"` // rows scored (after MaxRows sampling)
	HoldoutRows   int `json:"holdout_rows,omitempty"`

	// Overall is SDMetrics' quality score: the mean of ColumnShapes and
	// ColumnPairTrends (ColumnShapes alone when no pair could be scored).
	Overall float64 `json:"overall"`
	// ColumnShapes is the mean of the per-column shape scores.
	ColumnShapes float64 `json:"column_shapes"`
	// ColumnPairTrends is the mean of the scored pairs' trend scores; 0 when
	// no pair could be scored (a note says so).
	ColumnPairTrends float64 `json:"column_pair_trends"`

	Accuracy      Accuracy       `json:"accuracy"`
	Discriminator *Discriminator `json:"discriminator,omitempty"`
	Efficacy      *Efficacy      `json:"ml_efficacy,omitempty"`

	// Relations says how often each of the profile's relations, and each
	// integer-valued column's format, holds in real and synthetic rows.
	Relations []RelationReport `json:"relations,omitempty"`

	Columns  []ColumnReport `json:"columns"`
	Pairs    []PairReport   `json:"pairs"`
	Excluded []Exclusion    `json:"excluded,omitempty"`
	Notes    []string       `json:"notes,omitempty"`
}

// ColumnReport is one column's scores and binned distributions.
type ColumnReport struct {
	Name   string       `json:"name"`
	Kind   profile.Kind `json:"kind"`
	Metric string       `json:"metric"` // KSComplement or TVComplement
	Shape  float64      `json:"shape"`  // the Column Shapes score
	// Accuracy is MOSTLY AI-style univariate accuracy: 1 − TVD of the bins
	// in Distribution.
	Accuracy float64 `json:"accuracy"`

	RealMissingRate      float64 `json:"real_missing_rate"`
	SyntheticMissingRate float64 `json:"synthetic_missing_rate"`
	// MissingRateDiff is |real − synthetic| missing rate.
	MissingRateDiff float64 `json:"missing_rate_diff"`
	// SyntheticInvalid counts synthetic cells of a numeric or datetime
	// column that were not missing yet did not parse; they are scored as
	// missing.
	SyntheticInvalid int `json:"synthetic_invalid,omitempty"`

	Distribution Distribution `json:"distribution"`
}

// Distribution is a column's accuracy bins, for charts: quantile bins of the
// real data for numbers and datetimes, the top categories plus "(other)" for
// discrete columns, and "(missing)" first. Real and Synthetic are shares of
// rows and each sums to 1.
type Distribution struct {
	Bins      []string  `json:"bins"`
	Real      []float64 `json:"real"`
	Synthetic []float64 `json:"synthetic"`
}

// PairReport is one pair of columns' scores, for a heatmap.
type PairReport struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Metric string `json:"metric"` // CorrelationSimilarity or ContingencySimilarity
	// Trend is the Column Pair Trends score; meaningless when Skipped is set.
	Trend float64 `json:"trend"`
	// RealCorrelation and SyntheticCorrelation are the Pearson coefficients
	// behind a CorrelationSimilarity score.
	RealCorrelation      *float64 `json:"real_correlation,omitempty"`
	SyntheticCorrelation *float64 `json:"synthetic_correlation,omitempty"`
	// Skipped says why Trend is undefined (e.g. a constant column); such
	// pairs are left out of ColumnPairTrends, as SDMetrics leaves out NaN.
	Skipped string `json:"skipped,omitempty"`
	// Accuracy is MOSTLY AI-style bivariate accuracy: 1 − TVD of the joint
	// accuracy bins.
	Accuracy float64 `json:"accuracy"`
}

// Accuracy is MOSTLY AI-style accuracy: 1 − total variation distance between
// binned marginals, averaged over columns, pairs and sampled triples.
type Accuracy struct {
	// Overall is the mean of the orders that were scored.
	Overall    float64 `json:"overall"`
	Univariate float64 `json:"univariate"`
	Bivariate  float64 `json:"bivariate"`  // 0 with fewer than 2 columns
	Trivariate float64 `json:"trivariate"` // 0 with fewer than 3 columns
	Triples    int     `json:"triples"`    // how many triples Trivariate averages
}

// Discriminator is how well a classifier tells real rows from synthetic ones.
type Discriminator struct {
	// AUC is the mean out-of-fold ROC AUC of a gradient-boosted classifier
	// predicting "synthetic"; 0.5 means indistinguishable.
	AUC     float64   `json:"auc"`
	FoldAUC []float64 `json:"fold_auc"`
	Folds   int       `json:"folds"`
	// RowsPerSide is how many real and how many synthetic rows were used.
	RowsPerSide int `json:"rows_per_side"`
	// Score is 1 − 2·|AUC − 0.5|, in [0, 1], higher is better.
	Score float64 `json:"score"`
}

// Efficacy compares a model trained on synthetic rows with one trained on
// real rows, both tested on the real holdout.
type Efficacy struct {
	Target string `json:"target"`
	Task   string `json:"task"`   // binary, multiclass or regression
	Metric string `json:"metric"` // auc, macro_f1 or r2
	// Synthetic is the holdout score of the model trained on synthetic rows
	// (train synthetic, test real).
	Synthetic float64 `json:"synthetic"`
	// Real is the holdout score of the model trained on real rows.
	Real float64 `json:"real"`
	// Ratio is Synthetic / Real when Real > 0 (1 means no loss of utility).
	Ratio         float64 `json:"ratio,omitempty"`
	TrainRows     int     `json:"train_rows"`
	SynthRows     int     `json:"synthetic_rows"`
	HoldoutRows   int     `json:"holdout_rows"`
	PositiveClass string  `json:"positive_class,omitempty"`
}
