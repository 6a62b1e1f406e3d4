package synth

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// TestDatetimeGranularity is a discriminator on one feature: a timestamp
// written with seconds but recorded at whole minutes (or whole hours) in
// the source. A synthetic value off that grid tells a synthetic row from a
// real one with certainty, whatever else the row holds (issue 11,
// deliverable 4: the tree model's discriminator AUC on a table of trips).
func TestDatetimeGranularity(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tb := &table.Table{Columns: []string{"pickup", "hourly", "fare", "zone"}}
	for range 3000 {
		pick := base.Add(time.Duration(rng.IntN(31*24*60)) * time.Minute)
		tb.Rows = append(tb.Rows, []string{
			pick.Format("2006-01-02 15:04:05"),
			base.Add(time.Duration(rng.IntN(31*24)) * time.Hour).Format(time.RFC3339),
			fmt.Sprintf("%.2f", 3+rng.ExpFloat64()*12),
			[]string{"A", "B", "C"}[rng.IntN(3)],
		})
	}
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{KindTree, KindCopula} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m, err := Fit(context.Background(), tb, p, FitOptions{Kind: kind, Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			var out collect
			if err := m.Sample(context.Background(), 3000, 0, 1, 4, SampleOptions{}, &out); err != nil {
				t.Fatal(err)
			}
			for j, unit := range map[int]time.Duration{0: time.Minute, 1: time.Hour} {
				off := 0
				for _, r := range out.rows {
					ts, err := time.Parse(p.Columns[j].Format, r[j])
					if err != nil {
						t.Fatalf("%s: %q: %v", tb.Columns[j], r[j], err)
					}
					if ts.Truncate(unit) != ts {
						off++
					}
				}
				if off > 0 {
					t.Errorf("%s: %d of %d synthetic values are off the source's whole-%s grid", tb.Columns[j], off, len(out.rows), unit)
				}
			}
		})
	}
}
