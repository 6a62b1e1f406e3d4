package synth

import (
	"context"

	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"synthos.dev/synthos/shared/quality"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// This file measures the models on adult: fidelity with shared/quality's
// metrics against the holdout, and privacy with an internal distance-to-
// closest-record check.

// colView is one column of a table decoded for the metrics.
type colView struct {
	num    bool
	vals   []float64 // numbers (NaN missing)
	cats   []string
	lo, hi float64
}

func views(t *table.Table, p *profile.Profile) []colView {
	out := make([]colView, len(t.Columns))
	for j, name := range t.Columns {
		pc := p.Col(name)
		v := colView{num: pc.Kind == profile.Numeric}
		for _, r := range t.Rows {
			if v.num {
				x, err := strconv.ParseFloat(r[j], 64)
				if err != nil {
					x = math.NaN()
				}
				v.vals = append(v.vals, x)
			} else {
				v.cats = append(v.cats, r[j])
			}
		}
		out[j] = v
	}
	return out
}

type fidelity struct {
	shapes, pairs, bivariate, auc, dcrShare, identical float64
}

// measure scores synth against the holdout with shared/quality's metrics,
// and its privacy against train with the internal DCR check.
func measure(tb testing.TB, train, hold, synth *table.Table, p *profile.Profile) fidelity {
	tb.Helper()
	rep, err := quality.Evaluate(context.Background(), hold, synth, nil, p, quality.Options{Seed: 1})
	if err != nil {
		tb.Fatalf("quality.Evaluate: %v", err)
	}
	f := fidelity{shapes: rep.ColumnShapes, pairs: rep.ColumnPairTrends, bivariate: rep.Accuracy.Bivariate}
	if rep.Discriminator != nil {
		f.auc = rep.Discriminator.AUC
	}
	f.dcrShare, f.identical = dcr(train, hold, synth, p)
	return f
}

// dcr returns the share of synthetic rows closer to a training subsample
// than to the holdout (same size; ties count half; 0.5 is ideal) and the
// share of synthetic rows identical to a training row. Distances are
// Gower's: range-scaled absolute differences and level mismatches.
func dcr(train, hold, synth *table.Table, p *profile.Profile) (float64, float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := views(train, p)
	ho, sy := views(hold, p), views(synth, p)
	nTrain := len(hold.Rows)
	pick := rng.Perm(len(train.Rows))[:nTrain]
	ranges := make([]float64, len(tr))
	for j := range tr {
		if tr[j].num {
			lo, hi := slices.Min(tr[j].vals), slices.Max(tr[j].vals)
			ranges[j] = max(hi-lo, 1e-9)
		}
	}
	dist := func(a []colView, i int, b []colView, k int, limit float64) float64 {
		var d float64
		for j := range a {
			if a[j].num {
				d += math.Abs(a[j].vals[i]-b[j].vals[k]) / ranges[j]
			} else if a[j].cats[i] != b[j].cats[k] {
				d++
			}
			if d > limit {
				return d
			}
		}
		return d
	}
	trainSet := map[string]bool{}
	for _, r := range train.Rows {
		trainSet[rowKey(r)] = true
	}
	var identical int
	for _, r := range synth.Rows {
		if trainSet[rowKey(r)] {
			identical++
		}
	}
	nS := min(len(synth.Rows), dcrRows)
	var closer float64
	for i := 0; i < nS; i++ {
		dt, dh := math.Inf(1), math.Inf(1)
		for _, k := range pick {
			dt = min(dt, dist(sy, i, tr, k, dt))
		}
		for k := range ho[0].vals {
			if len(ho[0].vals) == 0 {
				break
			}
			dh = min(dh, dist(sy, i, ho, k, dh))
		}
		if len(ho[0].vals) == 0 {
			for k := range ho[0].cats {
				dh = min(dh, dist(sy, i, ho, k, dh))
			}
		}
		switch {
		case dt < dh:
			closer++
		case dt == dh:
			closer += 0.5
		}
	}
	return closer / float64(nS), float64(identical) / float64(len(synth.Rows))
}

func rowKey(r []string) string {
	var b []byte
	for _, c := range r {
		b = append(b, c...)
		b = append(b, 0)
	}
	return string(b)
}

func sampleTable(tb testing.TB, m Model, n int64, seed uint64) *table.Table {
	tb.Helper()
	var c collect
	if err := m.Sample(context.Background(), n, 0, 1, seed, SampleOptions{}, &c); err != nil {
		tb.Fatalf("Sample: %v", err)
	}
	cols := m.Columns()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.Name
	}
	return &table.Table{Columns: names, Rows: c.rows}
}

// TestFidelityAdult fits both models on adult.train and checks them against
// adult.holdout with the internal metrics.
func TestFidelityAdult(t *testing.T) {
	if testing.Short() {
		t.Skip("fidelity run is long")
	}
	train, hold := adult(t)
	p := adultProfile()
	tests := []struct {
		kind                          string
		opts                          FitOptions
		minShapes, minPairs, minBivar float64
		maxAUC, maxDCR, maxIdentical  float64
	}{
		{kind: KindTree, minShapes: 0.98, minPairs: 0.975, minBivar: 0.97, maxAUC: 0.60, maxDCR: 0.53, maxIdentical: 0.001},
		// SDV's GaussianCopula scores about 0.88 Column Pair Trends on adult.
		// A copula cannot rule out impossible level combinations (a female
		// husband), so a discriminator finds it easily: its AUC is logged, not checked.
		{kind: KindCopula, opts: FitOptions{Kind: KindCopula}, minShapes: 0.95, minPairs: 0.90, minBivar: 0.88, maxDCR: 0.53, maxIdentical: 0.001},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			m, err := Fit(context.Background(), train, p, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			synth := sampleTable(t, m, int64(len(train.Rows)), 7)
			f := measure(t, train, hold, synth, p)
			t.Logf("%s: column shapes %.4f, column pair trends %.4f, bivariate accuracy %.4f, discriminator AUC %.4f, DCR share %.4f, identical %.5f",
				tc.kind, f.shapes, f.pairs, f.bivariate, f.auc, f.dcrShare, f.identical)
			if f.shapes < tc.minShapes || f.pairs < tc.minPairs || f.bivariate < tc.minBivar || tc.maxAUC > 0 && f.auc > tc.maxAUC || f.dcrShare > tc.maxDCR || f.identical > tc.maxIdentical {
				t.Errorf("%s below target: %+v", tc.kind, f)
			}
		})
	}
}

// dcrRows is how many synthetic rows the DCR check scores (standard error
// of the share about 0.5/sqrt(dcrRows)).
var dcrRows = 3000
