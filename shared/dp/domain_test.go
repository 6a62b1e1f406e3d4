package dp

import (
	"context"
	"math"
	"testing"
)

// tailAtLeast is P[Z >= x] for Z discrete Gaussian of variance parameter
// sigma2, summed outwards from the mode over the whole support that
// float64 can see (a different order and range from thresholdFor's).
func tailAtLeast(sigma2 float64, x int64) float64 {
	lim := int64(math.Ceil(60*math.Sqrt(sigma2))) + 2
	var z, tail float64
	for k := int64(0); k <= lim; k++ {
		w := math.Exp(-float64(k*k) / (2 * sigma2))
		if k == 0 {
			z += w
		} else {
			z += 2 * w
		}
		if k >= x {
			tail += w
		}
	}
	if x < 0 {
		// not needed by the thresholds tested here
		panic("negative x")
	}
	return tail / z
}

// TestThresholdCalibration: the release threshold is the least one at which
// a category held by one row passes with probability at most the delta it
// is given: P[1 + Z >= tau] <= delta < P[1 + Z >= tau - 1], for the
// variances and deltas the domain step uses (credit at epsilon 1: sigma²
// about 600, delta 2.5e-11 per column).
func TestThresholdCalibration(t *testing.T) {
	for _, sigma2 := range []float64{1, 4, 37.5, 600, 2400, 25000} {
		for _, delta := range []float64{1e-2, 1e-6, 3e-10 / 12, 1e-10 / 12, 1e-15} {
			tau := thresholdFor(sigma2, delta)
			if p := tailAtLeast(sigma2, tau-1); p > delta {
				t.Errorf("sigma² %v delta %v: tau %d releases a one-row category with probability %g", sigma2, delta, tau, p)
			}
			if tau > 1 {
				if p := tailAtLeast(sigma2, tau-2); p <= delta {
					t.Errorf("sigma² %v delta %v: tau %d is not the least (tau-1 passes with %g)", sigma2, delta, tau, p)
				}
			}
		}
	}
}

// TestThresholdCalibrationSampled checks the same calibration against the
// sampler the domain step draws from: at a delta large enough to count,
// a one-row category passes the threshold no more often than delta allows.
func TestThresholdCalibrationSampled(t *testing.T) {
	t.Parallel()
	const delta, draws = 0.02, 40000
	g, err := NewDiscreteGaussian(4)
	if err != nil {
		t.Fatal(err)
	}
	tau := thresholdFor(g.Sigma2(), delta)
	pass, passBelow := 0, 0
	for range draws {
		z, err := g.Sample()
		if err != nil {
			t.Fatal(err)
		}
		if 1+z >= tau {
			pass++
		}
		if 1+z >= tau-1 {
			passBelow++
		}
	}
	se := math.Sqrt(delta * (1 - delta) / draws)
	// Four standard errors: a correct threshold fails about once in 30,000 runs.
	if f := float64(pass) / draws; f > delta+4*se {
		t.Errorf("tau %d: a one-row category passed in %.4f of draws, delta %v", tau, f, delta)
	}
	if want := tailAtLeast(g.Sigma2(), tau-2); math.Abs(float64(passBelow)/draws-want) > 4*math.Sqrt(want*(1-want)/draws) {
		t.Errorf("tau-1 passed in %.4f of draws, want %.4f", float64(passBelow)/draws, want)
	}
}

// TestDomainDeltaShareNearOptimal: the part of delta an epsilon target
// gives the category release (domainDeltaShareEps) keeps the release
// threshold, in rows, within 1% of the least any share of a grid from
// 0.05 to 0.8 gives, and below the threshold at 0.1 (the share before),
// for epsilon 0.1 to 10 and 1 to 12 discovered categorical columns.
func TestDomainDeltaShareNearOptimal(t *testing.T) {
	const delta = 1e-9
	// The release threshold in rows for a domain budget of a fixed part
	// of rho (its absolute size cancels out of the comparison; a sigma
	// of at least 1,000 keeps the integer rounding of tau below 0.02%).
	tauAt := func(eps float64, nCat int, share float64) float64 {
		rho, err := Rho(eps, delta*(1-share))
		if err != nil {
			t.Fatal(err)
		}
		sigma2 := float64(nCat) / (2 * rho)
		scale := math.Max(1, 1e6/sigma2) // sigma of at least 1,000
		return float64(thresholdFor(sigma2*scale, delta*share/float64(nCat))) / math.Sqrt(scale)
	}
	for _, eps := range []float64{0.1, 0.3, 1, 3, 10} {
		for _, nCat := range []int{1, 3, 12} {
			best := math.Inf(1)
			for _, s := range []float64{0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8} {
				best = math.Min(best, tauAt(eps, nCat, s))
			}
			got, old := tauAt(eps, nCat, domainDeltaShareEps), tauAt(eps, nCat, domainDeltaShare)
			if got > best*1.01 || got >= old {
				t.Errorf("epsilon %v, %d columns: threshold %.4g at share %v, least %.4g, %.4g at %v", eps, nCat, got, domainDeltaShareEps, best, old, domainDeltaShare)
			}
		}
	}
}

// TestDomainBudgetAccounted: a fit on a table of discovered categories
// spends no more rho than the conversion allows at the delta left after
// the release's share, and its reported (epsilon, delta) stays within the
// target; with a zCDP budget the release keeps domainDeltaShare.
func TestDomainBudgetAccounted(t *testing.T) {
	train := loadTable(t, "credit.train.csv")
	p := inferProfile(t, train)
	const delta = 1e-9
	for _, eps := range []float64{0.1, 1, 10} {
		m, err := Fit(context.Background(), train, p, Options{Epsilon: eps, Delta: delta})
		if err != nil {
			t.Fatal(err)
		}
		r := m.Report
		if math.Abs(r.DeltaDomain-delta*domainDeltaShareEps) > 1e-24 || math.Abs(r.DeltaDomain+r.DeltaConversion-delta) > 1e-24 {
			t.Errorf("epsilon %v: delta split %g + %g, want %g of %g", eps, r.DeltaDomain, r.DeltaConversion, domainDeltaShareEps, delta)
		}
		limit, err := Rho(eps, r.DeltaConversion)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rho > limit*(1+1e-9) {
			t.Errorf("epsilon %v: spent rho %v, the conversion allows %v", eps, r.Rho, limit)
		}
		if r.Epsilon > eps*(1+1e-9) || r.Delta > delta*(1+1e-12) {
			t.Errorf("epsilon %v: reported (%v, %v)", eps, r.Epsilon, r.Delta)
		}
		got, err := Delta(r.Rho, eps)
		if err != nil {
			t.Fatal(err)
		}
		if got+r.DeltaDomain > delta*(1+1e-9) {
			t.Errorf("epsilon %v: rho %v converts to delta %g, plus the release's %g exceeds %g", eps, r.Rho, got, r.DeltaDomain, delta)
		}
	}
	rho, err := Rho(1, delta)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Fit(context.Background(), train, p, Options{Rho: rho, Delta: delta})
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Report; math.Abs(r.DeltaDomain-delta*domainDeltaShare) > 1e-24 || r.Rho > rho*(1+1e-9) {
		t.Errorf("rho budget: delta for the release %g, rho spent %v of %v", r.DeltaDomain, r.Rho, rho)
	}
}
