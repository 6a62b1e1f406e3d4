package dp

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"synthos.dev/synthos/shared/profile"
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
// twice the 1/sqrt(12) each column gets in one joint release, and a
// category of ~110 rows then passes where one round needed ~165 (the
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
var (
	// secondShare is the share of the categories' rho the second round
	// gets (zero: one round).
	secondShare = 0.6
	// secondDelta is the share of DeltaDomain the second round gets.
	secondDelta = 0.5
)

// firstReach: two rounds are run only when the first round's threshold is
// at most firstReach of the noisy row count, so that it releases the
// values most rows hold; when it would release next to nothing (credit at
// epsilon 0.3), every row keeps all its values for the second round, whose
// weights are then one joint release's, on less rho.
var firstReach = 0.5

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
	// Past 12 sigma the mass (below e^-72 of the mode's) is under
	// float64's resolution of any tail a delta above 1e-25 asks for, so
	// the sums stop there (40 sigma, thresholdFor's reach, for smaller
	// deltas); the normaliser sums one side, by symmetry.
	s := math.Sqrt(sigma2)
	reach := 12.0
	if slices.Min(deltas) < 1e-25 {
		reach = 40
	}
	lim := int64(math.Ceil(reach*s)) + 2
	z := 1.0
	for x := int64(1); x <= lim; x++ {
		z += 2 * math.Exp(-float64(x*x)/(2*sigma2))
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

// secondRelease runs the second round over the discovered categorical
// attributes cats, whose first-round noisy counts of every present value
// are hidden (in cats' order), with rho and delta. Released values join
// their column's levels with their first-round noisy counts.
func (f *fitter) secondRelease(cats []int, hidden []map[string]int64, rho, delta float64) error {
	nCat := len(cats)
	g, err := NewDiscreteGaussian(weightScale * weightScale / (2 * rho))
	if err != nil {
		return err
	}
	tau := secondThreshold(g.Sigma2(), nCat, delta)
	f.steps = append(f.steps, Step{Name: "domain: categories, second round", Rho: weightScale * weightScale * g.Rho(), Sigma2: g.Sigma2(), Count: 1,
		Note: fmt.Sprintf("each row's weight (L2 norm %d) spread over its values the first round did not release; threshold %d", weightScale, tau)})
	released := make([]map[string]bool, nCat)
	src := make([]int, nCat)
	pcs := make([]*profile.Column, nCat)
	for c, i := range cats {
		released[c] = map[string]bool{}
		for _, l := range f.m.Attrs[i].Levels {
			released[c][l] = true
		}
		src[c] = f.m.Attrs[i].Source
		pcs[c] = &f.p.Columns[src[c]]
	}
	sums := secondRoundSums(f.t.Rows, src, pcs, released)
	for c, i := range cats {
		vals := make([]string, 0, len(sums[c]))
		for v := range sums[c] {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		a := &f.m.Attrs[i]
		for _, v := range vals {
			z, err := g.Sample()
			if err != nil {
				return err
			}
			if sums[c][v]+z >= tau {
				a.Levels = append(a.Levels, v)
				f.levelCounts[i] = append(f.levelCounts[i], hidden[c][v])
			}
		}
		sortLevels(a.Levels, f.levelCounts[i])
	}
	return nil
}

// secondRoundSums is the second round's weighted histogram, one map per
// column (the columns at sources src, profiled as pcs): each row adds
// weightOf(k) to each of its k values that released does not hold
// (missing cells excepted: their key is public and the first round
// measured it). A row's contribution has L2 norm at most weightScale and
// depends on that row and released alone.
func secondRoundSums(rows [][]string, src []int, pcs []*profile.Column, released []map[string]bool) []map[string]int64 {
	n := len(src)
	sums := make([]map[string]int64, n)
	for c := range sums {
		sums[c] = map[string]int64{}
	}
	keys := make([]string, n)
	unrel := make([]bool, n)
	for _, r := range rows {
		k := 0
		for c, j := range src {
			unrel[c] = false
			cell := r[j]
			if profile.IsMissing(cell, pcs[c]) {
				continue
			}
			if v := strings.TrimSpace(cell); !released[c][v] {
				keys[c], unrel[c] = v, true
				k++
			}
		}
		if k == 0 {
			continue
		}
		w := weightOf(k)
		for c := range src {
			if unrel[c] {
				sums[c][keys[c]] += w
			}
		}
	}
	return sums
}

// sortLevels sorts levels and their counts together by level.
func sortLevels(levels []string, counts []int64) {
	idx := make([]int, len(levels))
	for k := range idx {
		idx[k] = k
	}
	sort.Slice(idx, func(x, y int) bool { return levels[idx[x]] < levels[idx[y]] })
	l2, c2 := make([]string, len(levels)), make([]int64, len(levels))
	for k, j := range idx {
		l2[k], c2[k] = levels[j], counts[j]
	}
	copy(levels, l2)
	copy(counts, c2)
}
