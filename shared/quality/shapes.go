package quality

import (
	"math"
	"slices"
)

// KSComplement is SDMetrics' KSComplement: 1 minus the two-sample
// Kolmogorov–Smirnov statistic (the largest gap between the empirical CDFs),
// computed exactly on the sorted values. NaNs (missing values) are dropped, as
// SDMetrics drops them. If both sides are empty after that the score is 1; if
// one is, 0.
func KSComplement(real, synth []float64) float64 {
	a, b := sortedFinite(real), sortedFinite(synth)
	return 1 - ksStatistic(a, b)
}

// sortedFinite returns the non-NaN values of x, sorted, in a new slice.
func sortedFinite(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// ksStatistic is sup|F_a − F_b| for sorted a and b. Ties are consumed
// together on both sides before the gap is measured, so the statistic equals
// scipy's ks_2samp.
func ksStatistic(a, b []float64) float64 {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0 || len(b) == 0:
		return 1
	}
	na, nb := float64(len(a)), float64(len(b))
	i, j, d := 0, 0, 0.0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return d
}

// TVComplement is SDMetrics' TVComplement: 1 − ½Σ|p−q| over the categories
// of real and synthetic labels. Every label is a category; callers that
// treat some spelling as missing pass it through unchanged, so missing
// counts as a category of its own.
func TVComplement(real, synth []string) float64 {
	index := map[string]int32{}
	enc := func(vals []string) []int32 {
		out := make([]int32, len(vals))
		for i, v := range vals {
			c, ok := index[v]
			if !ok {
				c = int32(len(index))
				index[v] = c
			}
			out[i] = c
		}
		return out
	}
	rc, sc := enc(real), enc(synth)
	return 1 - jointTVD([][]int32{rc}, [][]int32{sc}, []int{max(1, len(index))})
}

// shapeScore is the Column Shapes score of one column: KSComplement for
// continuous columns, TVComplement (missing as a category) for discrete ones.
func shapeScore(c *column) (score float64, metric string) {
	if c.continuous {
		return 1 - ksStatistic(sortedFinite(c.real), sortedFinite(c.syn)), MetricKS
	}
	return 1 - jointTVD([][]int32{c.realCode}, [][]int32{c.synCode}, []int{len(c.labels)}), MetricTV
}

// Metric names, as SDMetrics spells them.
const (
	MetricKS          = "KSComplement"
	MetricTV          = "TVComplement"
	MetricCorrelation = "CorrelationSimilarity"
	MetricContingency = "ContingencySimilarity"
)
