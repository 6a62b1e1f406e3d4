package dp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// The tests below check the two release rounds' guarantee empirically, as
// TestNeighbouringCount does the whole fit's: D, and D' = D plus one row
// whose values D lacks in some columns (the keys only D' holds) and holds
// in others. The budgets and deltas are large so that the events are
// frequent enough to count.

// TestSecondRoundUniqueKeys: given the first round's output, the second
// round releases one of the keys a single added row holds alone with
// probability at most its delta, whatever the number k of the row's
// unreleased values (each gets weightOf(k)): a noise of about 4.6 times
// weightScale, where the k = 3 term of secondThreshold's union bound
// decides tau, and of about weightScale, where k = 1 nearly does. A
// threshold without secondThreshold's union bound over k (delta for each
// k, not delta/k) passes three such keys in 0.060 of trials (against
// 0.025), which fails here. (Weights of L2 norm a little above
// weightScale shift the noise by a few hundredths of sigma, which no
// sample this size sees: TestWeightOf and TestSecondRoundSensitivity
// check the norm.)
func TestSecondRoundUniqueKeys(t *testing.T) {
	t.Parallel()
	const (
		n      = 60 // rows of "a", released by the first round
		rare   = 6  // rows of "r" in every column, not released
		delta  = 0.025
		trials = 3000
	)
	tests := []struct {
		rho float64
		row []string // the added row; "u" is a key only D' holds
	}{
		{0.0236, []string{"u", "u", "u"}},
		{0.0236, []string{"u", "a", "a"}},
		{0.47, []string{"u", "u", "u"}},
		{0.47, []string{"u", "a", "a"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%s", tt.rho, strings.Join(tt.row, "")), func(t *testing.T) {
			t.Parallel()
			code := map[string]int32{"a": 0, "r": 1, "u": 2}
			hits := 0
			for range trials {
				// The noisy row count (public) leaves 100 rows to the
				// unreleased values, so that the second round runs.
				f := &fitter{plan: plan{rows: n + 100}, missingCounts: map[int]int64{}, m: &Model{}}
				var cats []int
				var crs []*catRelease
				for c, v := range tt.row {
					f.m.Attrs = append(f.m.Attrs, Attr{Name: strconv.Itoa(c), Source: c, Kind: profile.Categorical, NoMissing: true, Levels: []string{"a"}})
					f.levelCounts = append(f.levelCounts, []int64{n})
					// The keys present: "u" only where the added row
					// holds it.
					cr := &catRelease{keys: []string{"a", "r"}, noisy: []int64{n, rare}, released: []bool{true, false}, codes: make([]int32, n+rare+1)}
					if v == "u" {
						cr.keys, cr.noisy, cr.released = append(cr.keys, "u"), append(cr.noisy, 1), append(cr.released, false)
					}
					for r := n; r < n+rare; r++ {
						cr.codes[r] = 1
					}
					cr.codes[n+rare] = code[v]
					cats, crs = append(cats, c), append(crs, cr)
				}
				if err := f.secondRelease(cats, crs, tt.rho, delta); err != nil {
					t.Fatal(err)
				}
				if len(f.steps) != 1 || f.steps[0].Name != "domain: categories, second round" {
					t.Fatalf("steps %+v: the second round did not run", f.steps)
				}
				if slices.ContainsFunc(f.m.Attrs, func(a Attr) bool { return slices.Contains(a.Levels, "u") }) {
					hits++
				}
			}
			p := float64(hits) / trials
			// Four standard errors: a correct release fails about once in
			// 30,000 runs.
			if tol := 4*math.Sqrt(delta*(1-delta)/trials) + 1.0/trials; p > delta+tol {
				t.Errorf("a key only the added row holds was released in %.4f of %d trials, delta %v (tolerance %.4f)", p, trials, delta, tol)
			}
		})
	}
}

// domainRelease runs a fit's steps up to the domain step (the row count,
// the budget split, both release rounds) on tb and returns the fitter.
func domainRelease(t *testing.T, tb *table.Table, p *profile.Profile, opts Options) *fitter {
	t.Helper()
	if err := opts.normalise(); err != nil {
		t.Fatal(err)
	}
	f := &fitter{ctx: context.Background(), t: tb, p: p, opts: opts, m: &Model{}, missingCounts: map[int]int64{}}
	for _, step := range []func() error{f.columns, f.budget, f.domain} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestTwoRoundsNeighbours: end to end through the domain step, on D (60
// rows "a a a", 10 rows "r0 r1 r2", 40 rows of four values in column 0)
// and D plus one row, the events "value
// v released in column c", "every value of the added row released" and
// "a value only D' holds released" keep P_D[S] <= e^eps P_D'[S] + delta
// and the reverse, eps the spent rho's at a conversion delta of 0.01 and
// delta that plus DeltaDomain; a value only D' holds is released with
// probability at most DeltaDomain (the two rounds' union bounds: the
// approximate part alone). The rows of r are under the first round's
// threshold (14) and over the second's (6.1 weightScale at weights
// weightOf(3) = 0.577 weightScale), so both rounds release values.
func TestTwoRoundsNeighbours(t *testing.T) {
	t.Parallel()
	const trials = 3000
	opts := Options{Rho: 0.2, Delta: 0.5, DomainShare: 0.8}
	p := &profile.Profile{}
	d := &table.Table{}
	for c := range 3 {
		name := "c" + strconv.Itoa(c)
		p.Columns = append(p.Columns, profile.Column{Name: name, Kind: profile.Categorical})
		d.Columns = append(d.Columns, name)
	}
	for range 60 {
		d.Rows = append(d.Rows, []string{"a", "a", "a"})
	}
	for range 10 {
		d.Rows = append(d.Rows, []string{"r0", "r1", "r2"})
	}
	// Rows of values of ten rows each in column 0: enough rows there that
	// the first round does not release (public through the noisy counts)
	// for the second round to run.
	for i := range 40 {
		d.Rows = append(d.Rows, []string{"j" + strconv.Itoa(i/10), "a", "a"})
	}
	// released counts, per column and value, the fits in which the
	// added row's values were all released and those in which a value
	// only D' holds was.
	type tally struct {
		released []map[string]int
		// levels are each fit's released values, per column.
		levels      [][][]string
		all, unique int
		// second counts the fits whose second round ran (the others
		// measured the released counts again: a noisy row count far
		// under the true one).
		second      int
		rho, deltaD float64
	}
	run := func(t *testing.T, tb *table.Table, extra []string) tally {
		tl := tally{released: make([]map[string]int, 3)}
		for c := range tl.released {
			tl.released[c] = map[string]int{}
		}
		for range trials {
			f := domainRelease(t, tb, p, opts)
			if slices.ContainsFunc(f.steps, func(s Step) bool { return s.Name == "domain: categories, second round" }) {
				tl.second++
			}
			all, unique := extra != nil, false
			for c := range 3 {
				lv := f.m.Attrs[c].Levels
				if c == 0 {
					tl.levels = append(tl.levels, make([][]string, 3))
				}
				tl.levels[len(tl.levels)-1][c] = lv
				for _, v := range lv {
					tl.released[c][v]++
				}
				if extra != nil {
					has := slices.Contains(lv, extra[c])
					all = all && has
					unique = unique || has && !slices.ContainsFunc(d.Rows, func(r []string) bool { return r[c] == extra[c] })
				}
			}
			if all {
				tl.all++
			}
			if unique {
				tl.unique++
			}
			tl.rho = 0
			for _, s := range f.steps {
				tl.rho += s.Rho
			}
			tl.deltaD = f.plan.deltaDomain
			// The domain steps spend the domain's rho, no more, and
			// (but for the noise variances' rounding up) no less.
			if dom := tl.rho - f.steps[0].Rho; dom > f.plan.rhoDomain*(1+1e-9) || dom < f.plan.rhoDomain*(1-1e-2) {
				t.Fatalf("domain steps spent %v of rho %v: %+v", dom, f.plan.rhoDomain, f.steps)
			}
		}
		if tl.second < trials*9/10 {
			t.Fatalf("the second round ran in %d of %d fits", tl.second, trials)
		}
		return tl
	}
	base := run(t, d, nil)
	const deltaConv = 0.01
	eps, err := Epsilon(base.rho, deltaConv)
	if err != nil {
		t.Fatal(err)
	}
	bound, delta := math.Exp(eps), deltaConv+base.deltaD
	check := func(t *testing.T, name string, a, b int) {
		t.Helper()
		p, q := float64(a)/trials, float64(b)/trials
		// Five standard errors of each estimate, scaled by the bound.
		tol := 5 * (math.Sqrt(p*(1-p)/trials) + bound*math.Sqrt(q*(1-q)/trials) + 1.0/trials)
		if p > bound*q+delta+tol {
			t.Errorf("%s: P_D %.4f > e^%.3f P_D' %.4f + %.3g (tolerance %.4f)", name, p, eps, q, delta, tol)
		}
		if q > bound*p+delta+tol {
			t.Errorf("%s: P_D' %.4f > e^%.3f P_D %.4f + %.3g (tolerance %.4f)", name, q, eps, p, delta, tol)
		}
	}
	for _, extra := range [][]string{
		{"u0", "u1", "u2"}, // only D' holds its three values
		{"r0", "r1", "r2"}, // D holds them all
		{"u0", "r1", "a"},  // one of each
	} {
		t.Run(strings.Join(extra, "-"), func(t *testing.T) {
			d2 := &table.Table{Columns: d.Columns, Rows: append(slices.Clone(d.Rows), extra)}
			other := run(t, d2, extra)
			for c := range 3 {
				for _, v := range []string{"a", "r" + strconv.Itoa(c), extra[c]} {
					check(t, fmt.Sprintf("column %d value %s released", c, v), base.released[c][v], other.released[c][v])
				}
			}
			baseAll := 0
			for _, lv := range base.levels {
				if !slices.ContainsFunc([]int{0, 1, 2}, func(c int) bool { return !slices.Contains(lv[c], extra[c]) }) {
					baseAll++
				}
			}
			check(t, "every value of the added row released", baseAll, other.all)
			t.Logf("eps %.3f delta %.3g: P[every value of the row] %.4f on D, %.4f on D'; P[a value only D' holds] %.4f, DeltaDomain %.3g; r0 released %.4f / %.4f",
				eps, delta, float64(baseAll)/trials, float64(other.all)/trials, float64(other.unique)/trials, base.deltaD, float64(base.released[0]["r0"])/trials, float64(other.released[0]["r0"])/trials)
			if pu, tol := float64(other.unique)/trials, 4*math.Sqrt(base.deltaD/trials)+1.0/trials; pu > base.deltaD+tol {
				t.Errorf("a value only D' holds was released in %.4f of %d fits, DeltaDomain %v (tolerance %.4f)", pu, trials, base.deltaD, tol)
			}
		})
	}
}
