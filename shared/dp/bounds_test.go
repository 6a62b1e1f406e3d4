package dp

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

// narrowTable is a table of decimal columns whose range is narrow against
// their magnitude, each inside one or two power-of-two buckets of the
// bounds grid: latitudes and longitudes of one city, prices 1000–1100 and
// a negative column.
func narrowTable(rows int, seed uint64) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 7))
	t := &table.Table{Columns: []string{"lat", "lng", "price", "depth"}}
	for range rows {
		t.Rows = append(t.Rows, []string{
			strconv.FormatFloat(48.88+0.015*rng.NormFloat64(), 'f', 5, 64),
			strconv.FormatFloat(2.33+0.04*rng.NormFloat64(), 'f', 5, 64),
			strconv.FormatFloat(1000+100*rng.Float64(), 'f', 2, 64),
			strconv.FormatFloat(-300-20*rng.Float64(), 'f', 1, 64),
		})
	}
	return t
}

// TestNarrowRangeBounds: with the domain discovered at epsilon 1, a column
// whose range is narrow against its magnitude gets bounds near its range,
// not the power-of-two bucket around it, so its values stay near the
// data's and its shape survives. (Before the bounds were refined, the
// latitudes 48.83–48.93 came out up to 53.4 with a shape near 0.3.)
func TestNarrowRangeBounds(t *testing.T) {
	train := narrowTable(5000, 1)
	holdout := narrowTable(5000, 2)
	p := inferProfile(t, train)
	const fits = 3
	shapes := map[string]float64{}
	for i := range fits {
		m, err := Fit(context.Background(), train, p, Options{Epsilon: 1, Delta: 1e-9})
		if err != nil {
			t.Fatal(err)
		}
		syn := sample(t, m, int64(len(train.Rows)), uint64(i+1))
		for j, col := range train.Columns {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range train.Rows {
				v, _ := strconv.ParseFloat(r[j], 64)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			// A margin of twice the range each side: the bounds are
			// refined in sub-buckets of 1/32 of a power of two, and the
			// run takes in a noise sub-bucket at an end one time in six
			// (price: 48 each on a range of 100). Before, the bounds
			// were the power of two: latitudes from 32 to 64.
			margin := 2 * (hi - lo)
			k := slices.Index(syn.Columns, col)
			slo, shi := math.Inf(1), math.Inf(-1)
			for _, r := range syn.Rows {
				v, err := strconv.ParseFloat(r[k], 64)
				if err != nil {
					t.Fatal(err)
				}
				slo, shi = math.Min(slo, v), math.Max(shi, v)
			}
			t.Logf("fit %d: column %s: data [%v, %v], sample [%v, %v]", i, col, lo, hi, slo, shi)
			if slo < lo-margin || shi > hi+margin {
				t.Errorf("fit %d: column %s: sample [%v, %v] outside the data's [%v, %v] by more than %v", i, col, slo, shi, lo, hi, margin)
			}
		}
		rep, err := quality.Evaluate(context.Background(), holdout, syn, nil, p, quality.Options{Triples: -1, DiscriminatorRows: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Columns {
			shapes[c.Name] += c.Shape / fits
		}
	}
	for _, col := range train.Columns {
		t.Logf("%s: mean shape %.3f", col, shapes[col])
		if shapes[col] < 0.85 {
			t.Errorf("column %s: mean shape %.3f < 0.85", col, shapes[col])
		}
	}
}

// TestRefineOnlyLargeTables: the refinement is measured (and charged) only
// when the noisy row count is large against its noise; a small table keeps
// the whole bounds budget on the coarse grid and the rest for the marginals.
func TestRefineOnlyLargeTables(t *testing.T) {
	tests := []struct {
		rows int
		want bool
	}{
		{5000, true},
		{300, false},
	}
	for _, tt := range tests {
		train := narrowTable(tt.rows, 3)
		m, err := Fit(context.Background(), train, inferProfile(t, train), Options{Epsilon: 1, Delta: 1e-9})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(m.Report.Steps, func(s Step) bool { return s.Name == "domain: bounds, refined" })
		if got != tt.want {
			t.Errorf("%d rows: refinement step %v, want %v: %+v", tt.rows, got, tt.want, m.Report.Steps)
		}
		// Charged or not, the steps spend the budget: the refinement
		// takes its rho from the marginals', not on top of epsilon.
		if e := m.Report.Epsilon; e < 0.99 || e > 1+1e-9 {
			t.Errorf("%d rows: the steps spend epsilon %v of 1: %+v", tt.rows, e, m.Report.Steps)
		}
	}
}
