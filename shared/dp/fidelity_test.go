package dp

import (
	"context"
	"testing"

	"synthos.dev/synthos/shared/quality"
)

// TestFidelityAdult fits at epsilon 1, delta 1e-9 on adult.train and scores
// a sample of the training size against the holdout with shared/quality.
func TestFidelityAdult(t *testing.T) {
	if testing.Short() {
		t.Skip("fits adult")
	}
	train := loadTable(t, "adult.train.csv")
	holdout := loadTable(t, "adult.holdout.csv")
	p := inferProfile(t, train)
	m, err := Fit(context.Background(), train, p, Options{Epsilon: 1, Delta: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	syn := sample(t, m, int64(len(train.Rows)), 1)
	rep, err := quality.Evaluate(context.Background(), holdout, syn, nil, p, quality.Options{Triples: -1, DiscriminatorRows: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("eps %.4f delta %.3g rho %.6f; tree %v", m.Report.Epsilon, m.Report.Delta, m.Report.Rho, m.Report.Tree)
	t.Logf("bivariate accuracy %.4f, column pair trends %.4f, column shapes %.4f, univariate accuracy %.4f",
		rep.Accuracy.Bivariate, rep.ColumnPairTrends, rep.ColumnShapes, rep.Accuracy.Univariate)
	for _, c := range rep.Columns {
		t.Logf("  %-16s shape %.3f acc %.3f", c.Name, c.Shape, c.Accuracy)
	}
	for _, pr := range rep.Pairs {
		if pr.Trend < 0.9 || pr.Accuracy < 0.9 {
			t.Logf("  pair %s × %s: %s trend %.3f accuracy %.3f", pr.A, pr.B, pr.Metric, pr.Trend, pr.Accuracy)
		}
	}
	if rep.Accuracy.Bivariate < 0.93 {
		t.Errorf("bivariate accuracy %.4f < 0.93", rep.Accuracy.Bivariate)
	}
	if rep.ColumnPairTrends < 0.92 {
		t.Errorf("column pair trends %.4f < 0.92", rep.ColumnPairTrends)
	}
}
