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
	// The noise is drawn from crypto/rand and cannot be seeded, so one fit's
	// score is a random variable (observed 0.923–0.939 for pair trends over
	// 14 fits). The test holds the mean of three independent fits to the
	// targets: the mean's spread is a third of a single fit's, so a correct
	// mechanism passes reliably and a broken one still fails.
	const fits = 3
	var biv, cpt float64
	for i := range fits {
		m, err := Fit(context.Background(), train, p, Options{Epsilon: 1, Delta: 1e-9})
		if err != nil {
			t.Fatal(err)
		}
		syn := sample(t, m, int64(len(train.Rows)), uint64(i+1))
		rep, err := quality.Evaluate(context.Background(), holdout, syn, nil, p, quality.Options{Triples: -1, DiscriminatorRows: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fit %d: eps %.4f delta %.3g rho %.6f; bivariate accuracy %.4f, column pair trends %.4f, column shapes %.4f",
			i, m.Report.Epsilon, m.Report.Delta, m.Report.Rho, rep.Accuracy.Bivariate, rep.ColumnPairTrends, rep.ColumnShapes)
		for _, pr := range rep.Pairs {
			if pr.Trend < 0.9 || pr.Accuracy < 0.9 {
				t.Logf("  pair %s × %s: %s trend %.3f accuracy %.3f", pr.A, pr.B, pr.Metric, pr.Trend, pr.Accuracy)
			}
		}
		biv += rep.Accuracy.Bivariate / fits
		cpt += rep.ColumnPairTrends / fits
	}
	if biv < 0.93 {
		t.Errorf("mean bivariate accuracy %.4f < 0.93", biv)
	}
	if cpt < 0.92 {
		t.Errorf("mean column pair trends %.4f < 0.92", cpt)
	}
}
