package quality

import (
	"context"
	"testing"

	"synthos.dev/synthos/shared/profile"
)

// TestInferredProfiles evaluates each dataset's holdout against its
// training split with the profile the profile package infers, as production
// does: the scores must be as high as with hand-built profiles.
func TestInferredProfiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"adult", "insurance", "credit"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			train, hold := loadCSV(t, name+".train.csv"), loadCSV(t, name+".holdout.csv")
			p, err := profile.Infer(train, profile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Columns {
				t.Logf("%s: %s %q", c.Name, c.Kind, c.MissingTokens)
			}
			rep, err := Evaluate(context.Background(), train, hold, nil, p, Options{DiscriminatorRows: -1})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("shapes %.4f trends %.4f accuracy %.4f excluded %+v", rep.ColumnShapes, rep.ColumnPairTrends, rep.Accuracy.Overall, rep.Excluded)
			if rep.ColumnShapes < 0.9 || rep.ColumnPairTrends < 0.9 {
				t.Errorf("holdout scores shapes %.4f, trends %.4f; want ≥ 0.9", rep.ColumnShapes, rep.ColumnPairTrends)
			}
		})
	}
}
