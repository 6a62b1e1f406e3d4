package quality

import (
	"context"
	"testing"

	"synthos.dev/synthos/shared/profile"
)

// TestInferredProfiles evaluates each dataset's holdout against its
// training split with the profile the profile package infers, as production
// does. The small tables (a 200- and a 268-row holdout) score lower from
// sampling noise alone.
func TestInferredProfiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		min  float64
	}{{"adult", 0.97}, {"insurance", 0.88}, {"credit", 0.88}} {
		name := tc.name
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
			if rep.ColumnShapes < tc.min || rep.ColumnPairTrends < tc.min || len(rep.Excluded) != 0 {
				t.Errorf("holdout scores shapes %.4f, trends %.4f, excluded %v; want ≥ %v, none", rep.ColumnShapes, rep.ColumnPairTrends, rep.Excluded, tc.min)
			}
		})
	}
}
