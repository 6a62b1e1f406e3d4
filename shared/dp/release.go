package dp

import (
	"fmt"
	"math"
	"slices"
)

// The categories are released in two rounds when two or more categorical
// columns are discovered. The first round is the Gaussian thresholding of
// privateLevels with 1 - secondShare of the categories' rho; it releases
// the large categories. In the second, each row spreads a weight of L2
// norm 1 over its values that the first round did not release, and only
// those: a row with k such values adds weightOf(k) ≈ 1/sqrt(k) to each
// (scaled by weightScale to stay on the integers the discrete Gaussian
// needs). A row of credit holds a released value in most of its twelve
// categorical columns, so its weight on the few it does not hold is about
// twice the 1/sqrt(12) each column gets in one joint release: at epsilon
// 1 the categories of 140–160 rows, under one round's threshold of ~165,
// then pass in most fits (those near 110 rows still do not; README) (the
// weighting of Gopi et al. 2020, "Differentially private set union",
// without their adaptive policy: a row's weights depend on the row and the
// first round's public output only).
//
// Privacy: given the first round's output, a row's second-round
// contribution is a vector of L2 norm at most weightScale and every other
// row's is unchanged, so the weighted histogram has L2 sensitivity
// weightScale and the Gaussian costs weightScale²/(2 sigma²). A row holding
// k unreleased values can add at most k keys the other table lacks, each
// with weight weightOf(k), so with tau the least threshold at which
// k · P[weightOf(k) + Z >= tau] <= delta for every k up to the number of
// columns, such a key is released with probability at most delta (the
// second round's share of DeltaDomain). The released keys' first-round
// noisy counts serve as their counts: away from that delta event they are
// Gaussian measurements of keys both tables hold, already charged, and
// whether they are shown is decided by the second round's independent
// noise.
// secondShare is the share of the categories' rho the second round gets
// (zero: one round; a variable so that tests can compare).
var secondShare = 0.6

// secondDelta is the share of DeltaDomain the second round gets.
const secondDelta = 0.5

// firstReach: two rounds are run only when the first round's threshold is
// at most firstReach of the noisy row count, so that it releases the
// values most rows hold; when it would release next to nothing (credit at
// epsilon 0.3), every row keeps all its values for the second round, whose
// weights are then one joint release's, on less rho.
const firstReach = 0.5

// twoRounds decides, from public inputs and the noisy row count alone,
// whether the nCat discovered categorical columns (variance sigma2Cat in
// one round) are released in two rounds.
func (f *fitter) twoRounds(nCat int, sigma2Cat float64) bool {
	if nCat < 2 || secondShare == 0 {
		return false
	}
	tau := thresholdFor(sigma2Cat/(1-secondShare), f.plan.deltaDomain*(1-secondDelta)/float64(nCat))
	return float64(tau) <= firstReach*f.plan.rows
}

// weightScale is a row's L2 norm in the second round: weights are
// integers, floor(weightScale/sqrt(k)), within 0.7% of weightScale/sqrt(k)
// for k up to 16.
const weightScale = 512

// weightOf is the weight a row with k unreleased values adds to each.
func weightOf(k int) int64 { return int64(math.Floor(weightScale / math.Sqrt(float64(k)))) }

// secondThreshold returns the least integer tau at which, for every k in
// 1..nCat, k keys of weight weightOf(k) plus discrete Gaussian noise of
// variance sigma2 pass with probability at most delta together:
// k · P[weightOf(k) + Z >= tau] <= delta.
func secondThreshold(sigma2 float64, nCat int, delta float64) int64 {
	deltas := make([]float64, nCat)
	for k := 1; k <= nCat; k++ {
		deltas[k-1] = delta / float64(k)
	}
	var tau int64
	for k, t := range thresholdsFor(sigma2, deltas) {
		// thresholdFor's tau is for a count of 1: P[1 + Z >= tau] <= delta.
		tau = max(tau, t-1+weightOf(k+1))
	}
	return tau
}

// thresholdsFor is thresholdFor for several deltas at one variance, in one
// pass over the tail.
func thresholdsFor(sigma2 float64, deltas []float64) []int64 {
	// The tail is summed from reach sigma inwards, where what lies beyond
	// (under e^-40 of the smallest delta) is below float64's resolution of
	// it. The normaliser is sigma sqrt(2 pi) by Poisson summation, whose
	// correction terms exp(-2 pi² sigma² k²) are under 1e-34 for sigma² >=
	// 4; smaller variances sum it directly, as thresholdFor does.
	s := math.Sqrt(sigma2)
	reach := math.Sqrt(2 * (math.Log(1/slices.Min(deltas)) + 40))
	lim := int64(math.Ceil(reach*s)) + 2
	z := s * math.Sqrt(2*math.Pi)
	if sigma2 < 4 {
		z = 1.0
		for x := int64(1); x <= lim; x++ {
			z += 2 * math.Exp(-float64(x*x)/(2*sigma2))
		}
	}
	out := make([]int64, len(deltas))
	for i := range out {
		out[i] = 1
	}
	done := 0
	tail := 0.0
	for x := lim; x >= 0 && done < len(deltas); x-- {
		tail += math.Exp(-float64(x*x) / (2 * sigma2))
		for i, d := range deltas {
			if out[i] == 1 && tail/z > d {
				// P[Z >= x] > d, so P[Z >= x+1] <= d: tau - 1 = x + 1.
				out[i] = x + 2
				done++
			}
		}
	}
	return out
}

// catRelease is the first round's release of one discovered categorical
// column, as the second round needs it: every value present, sorted, with
// its noisy count (shown only once the value is released) and whether it
// is released, and each row's value (-1 for a missing cell, whose key is
// public and measured in the first round).
type catRelease struct {
	keys     []string
	noisy    []int64
	released []bool
	codes    []int32
}

// levels are the released values, sorted, and their first-round noisy
// counts.
func (cr *catRelease) levels() ([]string, []int64) {
	var lv []string
	var noisy []int64
	for k, ok := range cr.released {
		if ok {
			lv = append(lv, cr.keys[k])
			noisy = append(noisy, cr.noisy[k])
		}
	}
	return lv, noisy
}

// secondRelease runs the second round over the discovered categorical
// attributes cats, whose first rounds are crs, with rho and delta.
// Released values join their column's levels with their first-round noisy
// counts.
func (f *fitter) secondRelease(cats []int, crs []*catRelease, rho, delta float64) error {
	g, err := NewDiscreteGaussian(weightScale * weightScale / (2 * rho))
	if err != nil {
		return err
	}
	tau := secondThreshold(g.Sigma2(), len(cats), delta)
	// When no column has rows enough left unreleased (the noisy row count
	// less its released and missing counts: public) for any value to pass
	// even at full weight, the round could release next to nothing; its
	// rho measures the released counts again instead (insurance, whose
	// categories pass the first round: 30 three-fit means at epsilon 1,
	// shapes 0.944 without this, 0.946 with it and with one round).
	most := math.Inf(-1)
	for _, i := range cats {
		u := f.plan.rows
		for _, n := range f.levelCounts[i] {
			u -= float64(n)
		}
		if f.m.Attrs[i].missingBin() >= 0 {
			u -= float64(f.missingCounts[f.m.Attrs[i].Source])
		}
		most = max(most, u)
	}
	if most < float64(tau)/weightScale {
		return f.remeasureLevels(cats, crs, rho)
	}
	f.steps = append(f.steps, Step{Name: "domain: categories, second round", Rho: weightScale * weightScale * g.Rho(), Sigma2: g.Sigma2(), Count: 1,
		Note: fmt.Sprintf("each row's weight (L2 norm %d) spread over its values the first round did not release; threshold %d", weightScale, tau)})
	sums := secondRoundSums(crs)
	for c, cr := range crs {
		pass := make([]bool, len(cr.keys))
		for k, ok := range cr.released {
			if ok {
				continue
			}
			// Every value present and not released has a positive sum
			// (its rows have k >= 1): all of them get noise.
			z, err := g.Sample()
			if err != nil {
				return err
			}
			pass[k] = sums[c][k]+z >= tau
		}
		for k, p := range pass {
			cr.released[k] = cr.released[k] || p
		}
		f.m.Attrs[cats[c]].Levels, f.levelCounts[cats[c]] = cr.levels()
	}
	return nil
}

// secondRoundSums is the second round's weighted histogram, per column
// and value of crs: each row adds weightOf(k) to each of its k values
// that are present (not missing) and not released. A row's contribution
// has L2 norm at most weightScale and depends on that row and the first
// round's output alone.
func secondRoundSums(crs []*catRelease) [][]int64 {
	n := len(crs)
	sums := make([][]int64, n)
	for c, cr := range crs {
		sums[c] = make([]int64, len(cr.keys))
	}
	if n == 0 {
		return sums
	}
	w := make([]int64, n+1)
	for k := 1; k <= n; k++ {
		w[k] = weightOf(k)
	}
	open := func(c, r int) bool {
		code := crs[c].codes[r]
		return code >= 0 && !crs[c].released[code]
	}
	for r := range crs[0].codes {
		k := 0
		for c := range crs {
			if open(c, r) {
				k++
			}
		}
		if k == 0 {
			continue
		}
		for c := range crs {
			if open(c, r) {
				sums[c][crs[c].codes[r]] += w[k]
			}
		}
	}
	return sums
}

// remeasureLevels spends rho on the released values' counts (and the
// missing cells') of the columns cats again, one histogram of L2
// sensitivity 1 per column on public keys, and combines them with the
// first round's by inverse variance.
func (f *fitter) remeasureLevels(cats []int, crs []*catRelease, rho float64) error {
	g, err := NewDiscreteGaussian(float64(len(cats)) / (2 * rho))
	if err != nil {
		return err
	}
	f.steps = append(f.steps, Step{Name: "domain: categories, measured again", Rho: float64(len(cats)) * g.Rho(), Sigma2: g.Sigma2(), Count: len(cats),
		Note: "the second round's budget: no column had rows enough left for it to release a value"})
	w1, w2 := 1/f.levelSigma2, 1/g.Sigma2()
	mix := func(first, count int64) (int64, error) {
		z, err := g.Sample()
		if err != nil {
			return 0, err
		}
		return int64(math.Round((float64(first)*w1 + float64(count+z)*w2) / (w1 + w2))), nil
	}
	for c, i := range cats {
		cr := crs[c]
		counts := make([]int64, len(cr.keys))
		var missing int64
		for _, k := range cr.codes {
			if k < 0 {
				missing++
			} else {
				counts[k]++
			}
		}
		j := 0
		for k, ok := range cr.released {
			if !ok {
				continue
			}
			if f.levelCounts[i][j], err = mix(f.levelCounts[i][j], counts[k]); err != nil {
				return err
			}
			j++
		}
		if a := &f.m.Attrs[i]; a.missingBin() >= 0 {
			if f.missingCounts[a.Source], err = mix(f.missingCounts[a.Source], missing); err != nil {
				return err
			}
		}
	}
	f.levelSigma2 = 1 / (w1 + w2)
	return nil
}
