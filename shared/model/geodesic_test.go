package model_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// rides is a table of n rides between 30 docks of a city: each dock's
// coordinates (six decimals), a route of 1.15 to 1.55 times the
// great-circle distance between the docks in km (two decimals), a fare
// and a kind.
func rides(n int, seed uint64) *table.Table {
	drng := rand.New(rand.NewPCG(9, 9))
	type dock struct{ lat, lng float64 }
	docks := make([]dock, 30)
	for i := range docks {
		docks[i] = dock{48.85 + 0.06*drng.Float64(), 2.30 + 0.09*drng.Float64()}
	}
	rng := rand.New(rand.NewPCG(seed, 5))
	tb := &table.Table{Columns: []string{"kind", "from_lat", "from_lng", "to_lat", "to_lng", "km", "fare"}}
	f := func(x float64, d int) string { return strconv.FormatFloat(x, 'f', d, 64) }
	for range n {
		a, b := docks[rng.IntN(len(docks))], docks[rng.IntN(len(docks))]
		route := (1.15 + 0.4*rng.Float64()) * relations.GreatCircle(a.lat, a.lng, b.lat, b.lng)
		if a == b {
			route = 0.5 + 2*rng.Float64()
		}
		tb.Rows = append(tb.Rows, []string{[]string{"bike", "scooter"}[rng.IntN(2)], f(a.lat, 6), f(a.lng, 6), f(b.lat, 6), f(b.lng, 6),
			f(route, 2), f(1+0.8*route+2*rng.Float64(), 2)})
	}
	return tb
}

// TestRelationsGeodesic: a route's length is discovered as at least the
// great-circle distance between its two points, and every model keeps the
// bound (tree and dp in 99% of rows, copula in 95%); the tree, which draws
// the length along the derived great-circle distance, also keeps the
// ratio's 10th and 50th percentiles within 5% of the real ones (1.16 and
// 1.37 against 1.19 and 1.34; without the derived distance 1.14 and 1.40).
// Its 90th percentile is held within 35% only (1.99 against 1.51, 2.22
// without): a leaf line adds a residual of the leaf's long trips to its
// short ones, where a detour is proportional to the distance.
func TestRelationsGeodesic(t *testing.T) {
	t.Parallel()
	tb := rides(3000, 1)
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const want = "km >= geodesic(from_lat, from_lng, to_lat, to_lng) in km"
	i := slices.IndexFunc(p.Relations, func(r relations.Relation) bool { return r.String() == want })
	if i < 0 {
		t.Fatalf("relations %v lack %q", p.Relations, want)
	}
	rel := p.Relations[i]
	real := profile.RelationColumns(tb.Rows, p)
	ratioAt := func(cols []relations.Column, q float64) float64 {
		var rs []float64
		for r := range cols[5].Num {
			if g := relations.GreatCircle(cols[1].Num[r], cols[2].Num[r], cols[3].Num[r], cols[4].Num[r]); g > 1 {
				rs = append(rs, cols[5].Num[r]/g)
			}
		}
		slices.Sort(rs)
		return rs[int(q*float64(len(rs)-1))]
	}
	for _, kind := range model.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m, err := model.Fit(context.Background(), tb, p, model.Options{Kind: kind, Seed: 1, Epsilon: 1, Delta: 1e-9})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(model.Relations(m), want) {
				t.Fatalf("%s enforces %q, not %q", kind, model.Relations(m), want)
			}
			out := sample(t, m, 4000, 0, 1, 2, model.SampleOptions{})
			syn := profile.RelationColumns(out, p)
			rs, ss, err := relations.Measure(rel, real, syn)
			if err != nil {
				t.Fatal(err)
			}
			floor := 0.99
			if kind == synth.KindCopula {
				floor = 0.95
			}
			t.Logf("%s: real %.4f, synthetic %.4f; ratio's 10th, 50th, 90th percentiles real %.3f %.3f %.3f, synthetic %.3f %.3f %.3f", want, rs.Rate, ss.Rate,
				ratioAt(real, 0.1), ratioAt(real, 0.5), ratioAt(real, 0.9), ratioAt(syn, 0.1), ratioAt(syn, 0.5), ratioAt(syn, 0.9))
			if rs.Rate < 0.99 || ss.Rate < floor {
				t.Errorf("%s: real %.4f, synthetic %.4f, want ≥ %v", want, rs.Rate, ss.Rate, floor)
			}
			if kind != synth.KindTree {
				return
			}
			for _, c := range []struct{ q, tol float64 }{{0.1, 0.05}, {0.5, 0.05}, {0.9, 0.35}} {
				if r, s := ratioAt(real, c.q), ratioAt(syn, c.q); math.Abs(s-r) > c.tol*r {
					t.Errorf("ratio of the route to the great-circle distance at %v: real %.3f, synthetic %.3f", c.q, r, s)
				}
			}
		})
	}
}
