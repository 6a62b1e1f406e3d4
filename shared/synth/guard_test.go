package synth

import (
	"context"
	"math/rand/v2"
	"testing"

	"synthos.dev/synthos/shared/model"
)

// TestNearCopyGuard measures the near-copy guard on the small tables, where
// the tree model used to sit next to training rows (credit DCR share 0.59,
// discriminator AUC below chance): with the guard, the mean DCR share over
// the seeds is at most 0.53, Column Pair Trends stay within 0.01 of the
// holdout ceiling, the discriminator AUC (where measured) lies in
// [0.45, 0.60], and the guard reports how many rows it redrew.
func TestNearCopyGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("fidelity run is long")
	}
	for _, name := range []string{"credit", "insurance"} {
		t.Run(name, func(t *testing.T) {
			train, hold, p, ceil := smallTable(t, name)
			for _, kind := range []string{KindTree, KindCopula} {
				var got [2]scores
				for g, off := range []bool{true, false} {
					m, err := Fit(context.Background(), train, p, FitOptions{Kind: kind, NoGuard: off})
					if err != nil {
						t.Fatal(err)
					}
					var all []scores
					var stats model.SampleStats
					for _, seed := range fidelitySeeds {
						var c collect
						if err := m.Sample(context.Background(), int64(len(train.Rows)), 0, 1, seed, SampleOptions{Stats: &stats}, &c); err != nil {
							t.Fatal(err)
						}
						tab := *train
						tab.Rows = c.rows
						all = append(all, measure(t, train, hold, &tab, p))
					}
					s := meanScores(all)
					got[g] = s
					var guard Guard
					switch mm := m.(type) {
					case *Tree:
						guard = mm.Schema.Guard
					case *Copula:
						guard = mm.Schema.Guard
					}
					t.Logf("%s %s guard=%v (threshold %.3f at q=%.2f of %d held-out rows): trends %.4f (ceiling %.4f), shapes %.4f, AUC %.3f, DCR share %.4f, identical %.5f (holdout %.5f); redrew %d near-copies, %d exact copies in %d rows",
						name, kind, !off, guard.Threshold, guard.Quantile, guard.Holdout, s.pairs, ceil.ColumnPairTrends, s.shapes, s.auc, s.dcrShare, s.identical, s.baseIdentical,
						stats.NearCopies.Load(), stats.ExactCopies.Load(), len(fidelitySeeds)*len(train.Rows))
					if !off && stats.NearCopies.Load() == 0 {
						t.Errorf("%s %s: the guard redrew nothing", name, kind)
					}
				}
				if kind != KindTree {
					continue
				}
				s := got[1]
				if s.dcrShare > 0.53 {
					t.Errorf("%s tree with the guard: DCR share %.4f > 0.53", name, s.dcrShare)
				}
				if s.pairs < ceil.ColumnPairTrends-0.01 {
					t.Errorf("%s tree with the guard: trends %.4f below ceiling %.4f - 0.01", name, s.pairs, ceil.ColumnPairTrends)
				}
				if s.auc > 0 && (s.auc < 0.45 || s.auc > 0.60) {
					t.Errorf("%s tree with the guard: discriminator AUC %.3f outside [0.45, 0.60]", name, s.auc)
				}
			}
		})
	}
}

// BenchmarkGuardNear is the near-copy check alone on adult's rows.
func BenchmarkGuardNear(b *testing.B) {
	train, _ := adult(b)
	m, err := Fit(context.Background(), train, adultProfile(), FitOptions{})
	if err != nil {
		b.Fatal(err)
	}
	tr := m.(*Tree)
	d, err := tr.newDrawer(nil)
	if err != nil {
		b.Fatal(err)
	}
	g := &tr.Schema.Guard
	src := rand.NewPCG(1, 2)
	rng := rand.New(src)
	row := make([]string, len(tr.Schema.Cols))
	a := &arena{}
	var vals [][]float64
	d.startBlock(src)
	for range 4096 {
		d.draw(rng, a, row)
		vals = append(vals, append([]float64(nil), d.values()...))
	}
	enc := make([]float32, len(tr.Schema.Modelled))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.near(vals[i%len(vals)], enc, float32(g.Threshold))
	}
}
