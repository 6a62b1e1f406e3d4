package dp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// TestWeightOf: a row's second-round weights have L2 norm at most
// weightScale whatever its number k of unreleased values, and stay within
// 0.6% of weightScale/sqrt(k) for the column counts tables have.
func TestWeightOf(t *testing.T) {
	for k := 1; k <= 256; k++ {
		w := weightOf(k)
		if n2 := float64(k) * float64(w) * float64(w); n2 > weightScale*weightScale {
			t.Errorf("k %d: weight %d, L2 norm² %v > %d", k, w, n2, weightScale*weightScale)
		}
		if ideal := weightScale / math.Sqrt(float64(k)); k <= 16 && float64(w) < ideal*(1-0.007) {
			t.Errorf("k %d: weight %d, ideal %.2f", k, w, ideal)
		}
	}
}

// TestThresholdsForMatchesThresholdFor: the one-pass thresholds are
// thresholdFor's, delta by delta.
func TestThresholdsForMatchesThresholdFor(t *testing.T) {
	for _, sigma2 := range []float64{1, 37.5, 600, 2.2e7} {
		deltas := []float64{1e-2, 1e-6, 1.5e-10, 1.5e-10 / 12, 1e-15, 1e-30}
		got := thresholdsFor(sigma2, deltas)
		for i, d := range deltas {
			if want := thresholdFor(sigma2, d); got[i] != want {
				t.Errorf("sigma² %v delta %v: %d, thresholdFor %d", sigma2, d, got[i], want)
			}
		}
	}
}

// TestSecondThreshold: a row with k unreleased values adds at most k keys
// the other table lacks, each of weight weightOf(k); at the second round's
// threshold they pass with probability at most delta together for every k
// up to the number of columns (k · P[weightOf(k) + Z >= tau] <= delta),
// and tau is the least such threshold.
func TestSecondThreshold(t *testing.T) {
	tests := []struct {
		sigma2 float64
		nCat   int
		delta  float64
	}{
		{4e4, 2, 1e-2},
		{4e4, 12, 1e-6},
		{2.2e7, 12, 1.5e-10}, // credit at epsilon 1
		{2.2e7, 3, 1.5e-10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%d/%v", tt.sigma2, tt.nCat, tt.delta), func(t *testing.T) {
			tau := secondThreshold(tt.sigma2, tt.nCat, tt.delta)
			worst := 0.0
			for k := 1; k <= tt.nCat; k++ {
				p := float64(k) * tailAtLeast(tt.sigma2, tau-weightOf(k))
				if p > tt.delta {
					t.Errorf("k %d: %d keys of weight %d pass tau %d with probability %g > %g", k, k, weightOf(k), tau, p, tt.delta)
				}
				worst = max(worst, float64(k)*tailAtLeast(tt.sigma2, tau-1-weightOf(k)))
			}
			if worst <= tt.delta {
				t.Errorf("tau %d is not the least: tau-1 passes with at most %g", tau, worst)
			}
		})
	}
}

// TestSecondRoundSensitivity: adding one row anywhere in a table changes
// the second round's weighted histogram by that row's contribution alone,
// of L2 norm at most weightScale: weightOf(k) on each of its k values
// present and not released (a value the table lacked is one of them).
func TestSecondRoundSensitivity(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	for trial := range 300 {
		nCol, n := 1+rng.IntN(12), rng.IntN(40)
		// Values 0..7, -1 missing; 6 and 7 are never released, and a
		// value no row holds is one the added row may bring.
		u := make([]int32, nCol)
		at := rng.IntN(n + 1)
		crs, more := make([]*catRelease, nCol), make([]*catRelease, nCol)
		for c := range nCol {
			cr := &catRelease{keys: make([]string, 8), released: make([]bool, 8), codes: make([]int32, n)}
			for v := range 6 {
				cr.released[v] = rng.IntN(2) == 0
			}
			for r := range cr.codes {
				cr.codes[r] = int32(rng.IntN(9)) - 1
			}
			u[c] = int32(rng.IntN(9)) - 1
			crs[c] = cr
			m := *cr
			m.codes = slices.Insert(slices.Clone(cr.codes), at, u[c])
			more[c] = &m
		}
		k := 0
		for c := range nCol {
			if u[c] >= 0 && !crs[c].released[u[c]] {
				k++
			}
		}
		h, h2 := secondRoundSums(crs), secondRoundSums(more)
		norm2 := 0.0
		for c := range nCol {
			for v := range h2[c] {
				d := h2[c][v] - h[c][v]
				want := int64(0)
				if u[c] == int32(v) && !crs[c].released[v] {
					want = weightOf(k)
				}
				if d != want {
					t.Fatalf("trial %d: column %d value %d changed by %d, want %d", trial, c, v, d, want)
				}
				norm2 += float64(d * d)
			}
		}
		if norm2 > weightScale*weightScale {
			t.Fatalf("trial %d: L2 norm² %v > %d", trial, norm2, weightScale*weightScale)
		}
	}
}

// TestSecondRoundReleases: on a table where every row holds a released
// value in all but one of its 32 columns, a value of 300 rows in each
// column sits far under the one-round threshold (about 480 rows at this
// budget) and far over the second round's (about 110 at full weight), and
// each column's unreleased rows (300, public through the noisy counts)
// stand well above the latter, so the second round runs: two rounds
// release the value in (nearly) every column, one round in (nearly) none;
// the report names the second round.
func TestSecondRoundReleases(t *testing.T) {
	const nCol, n = 32, 9600
	tb := &table.Table{}
	for c := range nCol {
		tb.Columns = append(tb.Columns, "c"+strconv.Itoa(c))
	}
	for r := range n {
		row := make([]string, nCol)
		for c := range row {
			row[c] = "a"
			if r%nCol == c {
				row[c] = "b"
			}
		}
		tb.Rows = append(tb.Rows, row)
	}
	p := inferProfile(t, tb)
	for _, c := range p.Columns {
		if c.Kind != profile.Categorical {
			t.Fatalf("column %s inferred as %s", c.Name, c.Kind)
		}
	}
	opts := Options{Rho: 6.5e-3, DomainShare: 0.5}
	released := func() int {
		m, err := Fit(context.Background(), tb, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		if secondShare > 0 && !slices.ContainsFunc(m.Report.Steps, func(s Step) bool { return s.Name == "domain: categories, second round" }) {
			t.Errorf("no second round in the report: %+v", m.Report.Steps)
		}
		k := 0
		for _, a := range m.Attrs {
			if slices.Contains(a.Levels, "b") {
				k++
			}
			if !slices.Contains(a.Levels, "a") {
				t.Errorf("column %s: the value of 9300 rows was not released", a.Name)
			}
		}
		return k
	}
	if k := released(); k < nCol-3 {
		t.Errorf("two rounds released the 300-row value in %d of %d columns", k, nCol)
	}
	defer func(s float64) { secondShare = s }(secondShare)
	secondShare = 0
	if k := released(); k > 3 {
		t.Errorf("one round released the 300-row value in %d of %d columns", k, nCol)
	}
}

// TestSecondRoundRemeasures: the second round runs only when a column has
// rows enough left unreleased (public: the noisy row count less the
// released and missing counts) for a value to pass at full weight; else
// its rho measures the released counts again, which lowers their
// variance, and the report names that step.
func TestSecondRoundRemeasures(t *testing.T) {
	const n = 2400
	for _, left := range []int{0, 600} {
		t.Run(strconv.Itoa(left), func(t *testing.T) {
			// Two columns: "a" on n-left rows, "b" on left rows; the
			// first round released "a" with its exact count.
			f := &fitter{plan: plan{rows: n, rowsSigma2: 1}, missingCounts: map[int]int64{}, levelSigma2: 900, m: &Model{}}
			var cats []int
			var crs []*catRelease
			for c := range 2 {
				a := Attr{Name: strconv.Itoa(c), Source: c, Kind: profile.Categorical, NoMissing: true, Levels: []string{"a"}}
				f.m.Attrs = append(f.m.Attrs, a)
				f.levelCounts = append(f.levelCounts, []int64{n - int64(left)})
				cr := &catRelease{keys: []string{"a", "b"}, noisy: []int64{n - int64(left), int64(left)}, released: []bool{true, false}, codes: make([]int32, n)}
				for r := range left {
					cr.codes[r] = 1
				}
				cats, crs = append(cats, c), append(crs, cr)
			}
			if err := f.secondRelease(cats, crs, 0.01, 1e-10); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range f.steps {
				names = append(names, s.Name)
				if s.Rho > 0.01*(1+1e-9) {
					t.Errorf("step %s spent rho %v of 0.01", s.Name, s.Rho)
				}
			}
			want := "domain: categories, second round"
			if left == 0 {
				want = "domain: categories, measured again"
				if f.levelSigma2 >= 900 {
					t.Errorf("counts measured again keep variance %v", f.levelSigma2)
				}
			}
			if !slices.Equal(names, []string{want}) {
				t.Errorf("steps %q, want %q", names, want)
			}
			if left > 0 && !slices.Equal(f.m.Attrs[0].Levels, []string{"a", "b"}) {
				t.Errorf("levels %q: 600 rows at full weight should pass", f.m.Attrs[0].Levels)
			}
		})
	}
}
