package quality

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// noML skips the discriminator and ML efficacy.
var noML = Options{DiscriminatorRows: -1}

func smallProfile() *profile.Profile {
	return &profile.Profile{Columns: []profile.Column{
		{Name: "x", Kind: profile.Numeric},
		{Name: "c", Kind: profile.Categorical, MissingTokens: []string{"?"}},
		{Name: "id", Kind: profile.ID},
	}}
}

func TestEvaluateByHand(t *testing.T) {
	t.Parallel()
	real := &table.Table{Columns: []string{"id", "x", "c"}, Rows: [][]string{
		{"1", "1", "a"}, {"2", "2", "a"}, {"3", "3", "b"}, {"4", "4", "b"},
	}}
	synth := &table.Table{Columns: []string{"c", "x", "id"}, Rows: [][]string{
		{"a", "3", "9"}, {"b", "4", "8"}, {"b", "5", "7"}, {"b", "6", "6"},
	}}
	rep, err := Evaluate(context.Background(), real, synth, nil, smallProfile(), noML)
	if err != nil {
		t.Fatal(err)
	}
	// x: KS = 0.5 → 0.5. c: p = (½, ½), q = (¼, ¾) → 0.75.
	// Pair (x, c): real x binned on [1, 4] in 10 bins of 0.3: 1→bin 0, 2→3,
	// 3→6, 4→9; synthetic 3→6, 4→9, 5 and 6 above the range.
	// Real cells (0,a) (3,a) (6,b) (9,b) ¼ each; synthetic (6,a) ¼, (9,b) ¼,
	// (over,b) ½. ½Σ|p−q| = ½(¼+¼+¼+0+¼+½) = ¾ → 0.25.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"shape x", rep.Columns[0].Shape, 0.5},
		{"shape c", rep.Columns[1].Shape, 0.75},
		{"column shapes", rep.ColumnShapes, 0.625},
		{"pair trends", rep.ColumnPairTrends, 0.25},
		{"overall", rep.Overall, 0.4375},
		// Accuracy bins of x: the real deciles 1,1,1,2,2,3,3,3,4 give edges
		// 2, 3, 4 → bins <2, [2,3), [3,4), ≥4 holding ¼ each for real; the
		// synthetic 3 falls in [3,4) and 4, 5, 6 in ≥4: ½(¼+¼+0+½).
		{"univariate accuracy x", rep.Columns[0].Accuracy, 1 - 0.5*(0.25+0.25+0+0.5)},
		{"univariate accuracy c", rep.Columns[1].Accuracy, 0.75},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > eps {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(rep.Excluded) != 1 || rep.Excluded[0].Column != "id" {
		t.Errorf("excluded = %+v, want the id column", rep.Excluded)
	}
	if rep.Pairs[0].Metric != MetricContingency || rep.Columns[0].Metric != MetricKS || rep.Columns[1].Metric != MetricTV {
		t.Errorf("metrics = %s %s %s", rep.Pairs[0].Metric, rep.Columns[0].Metric, rep.Columns[1].Metric)
	}
	if rep.Version != ReportVersion || rep.Discriminator != nil || rep.Efficacy != nil {
		t.Errorf("report header = %+v", rep)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"version":1`) {
		t.Errorf("JSON lacks the version: %s", b)
	}
}

func TestEvaluateMissing(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Columns: []profile.Column{
		{Name: "x", Kind: profile.Numeric, MissingTokens: []string{"NA"}},
		{Name: "y", Kind: profile.Numeric},
		{Name: "c", Kind: profile.Categorical, MissingTokens: []string{"?"}},
	}}
	real := &table.Table{Columns: []string{"x", "y", "c"}, Rows: [][]string{
		{"1", "1", "a"}, {"2", "2", "?"}, {"NA", "3", "a"}, {"4", "4", "?"},
	}}
	synth := &table.Table{Columns: []string{"x", "y", "c"}, Rows: [][]string{
		{"1", "1", "a"}, {"2", "2", "a"}, {"oops", "3", "a"}, {"4", "4", ""},
	}}
	rep, err := Evaluate(context.Background(), real, synth, nil, p, noML)
	if err != nil {
		t.Fatal(err)
	}
	x, c := rep.Columns[0], rep.Columns[2]
	// x: missing dropped for KS; the unparseable cell counts as missing.
	if x.Shape != 1 || x.RealMissingRate != 0.25 || x.SyntheticMissingRate != 0.25 || x.SyntheticInvalid != 1 {
		t.Errorf("x = %+v", x)
	}
	// c: real a ½ missing ½; synthetic a ¾ missing ¼ → 0.75.
	if c.Shape != 0.75 || c.MissingRateDiff != 0.25 {
		t.Errorf("c = %+v", c)
	}
	// (x, y): correlation over complete rows is 1 on both sides.
	if pr := rep.Pairs[0]; pr.Metric != MetricCorrelation || pr.Trend != 1 || *pr.RealCorrelation != 1 {
		t.Errorf("pair (x, y) = %+v", pr)
	}
	if len(rep.Notes) == 0 || !strings.Contains(strings.Join(rep.Notes, "\n"), "did not parse") {
		t.Errorf("notes = %q, want one about the unparseable cell", rep.Notes)
	}
}

func TestEvaluateConstantPairSkipped(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Columns: []profile.Column{{Name: "x", Kind: profile.Numeric}, {Name: "k", Kind: profile.Numeric}}}
	real := &table.Table{Columns: []string{"x", "k"}, Rows: [][]string{{"1", "7"}, {"2", "7"}}}
	rep, err := Evaluate(context.Background(), real, real, nil, p, noML)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pairs[0].Skipped == "" || rep.Overall != rep.ColumnShapes || rep.ColumnShapes != 1 {
		t.Errorf("report = %+v, want the constant pair skipped and overall = shapes", rep)
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	p := smallProfile()
	good := &table.Table{Columns: []string{"x", "c", "id"}, Rows: [][]string{{"1", "a", "1"}}}
	tests := []struct {
		name        string
		real, synth *table.Table
		p           *profile.Profile
		opts        Options
		want        error
	}{
		{"nil profile", good, good, nil, noML, ErrInput},
		{"nil synthetic", good, nil, p, noML, ErrInput},
		{"empty real", &table.Table{Columns: good.Columns}, good, p, noML, ErrInput},
		{"missing column", good, &table.Table{Columns: []string{"x"}, Rows: [][]string{{"1"}}}, p, noML, ErrSchema},
		{"ragged row", good, &table.Table{Columns: good.Columns, Rows: [][]string{{"1", "a"}}}, p, noML, ErrSchema},
		{"negative MaxRows", good, good, p, Options{MaxRows: -1}, ErrInput},
		{"one fold", good, good, p, Options{Folds: 1}, ErrInput},
		{"only excluded kinds", good, good, &profile.Profile{Columns: []profile.Column{{Name: "id", Kind: profile.ID}}}, noML, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Evaluate(context.Background(), tc.real, tc.synth, nil, tc.p, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEvaluateCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	real := loadCSV(t, "adult.holdout.csv")
	if _, err := Evaluate(ctx, real, real, nil, adultProfile(), noML); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestAdultFidelity validates the statistical metrics on real data: the
// holdout split is a perfect "synthetic" table, a column-wise shuffle keeps
// the marginals and destroys every relationship.
func TestAdultFidelity(t *testing.T) {
	t.Parallel()
	train, hold := loadCSV(t, "adult.train.csv"), loadCSV(t, "adult.holdout.csv")
	p := adultProfile()
	good, err := Evaluate(context.Background(), train, hold, nil, p, noML)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := Evaluate(context.Background(), train, shuffledColumns(train, 7), nil, p, noML)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("holdout:  shapes %.4f trends %.4f overall %.4f accuracy %+v", good.ColumnShapes, good.ColumnPairTrends, good.Overall, good.Accuracy)
	t.Logf("shuffled: shapes %.4f trends %.4f overall %.4f accuracy %+v", bad.ColumnShapes, bad.ColumnPairTrends, bad.Overall, bad.Accuracy)
	checks := []struct {
		name string
		ok   bool
	}{
		{"holdout shapes >= 0.97", good.ColumnShapes >= 0.97},
		{"holdout pair trends >= 0.97", good.ColumnPairTrends >= 0.97},
		{"holdout accuracy >= 0.95", good.Accuracy.Overall >= 0.95},
		{"shuffled shapes >= 0.95", bad.ColumnShapes >= 0.95},
		{"shuffled pair trends at least 0.04 below holdout", bad.ColumnPairTrends <= good.ColumnPairTrends-0.04},
		{"shuffled bivariate accuracy at least 0.03 below holdout", bad.Accuracy.Bivariate <= good.Accuracy.Bivariate-0.03},
		{"shuffled trivariate accuracy below bivariate", bad.Accuracy.Trivariate < bad.Accuracy.Bivariate},
		{"15 columns, 105 pairs, 100 triples", len(good.Columns) == 15 && len(good.Pairs) == 105 && good.Accuracy.Triples == 100},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: failed", c.name)
		}
	}
	// The missing rate of workclass (“?”) is about 5.6% on both splits.
	for _, c := range good.Columns {
		if c.Name == "workclass" && (c.RealMissingRate < 0.04 || c.MissingRateDiff > 0.01) {
			t.Errorf("workclass missing rates = %v vs %v", c.RealMissingRate, c.SyntheticMissingRate)
		}
	}
}
