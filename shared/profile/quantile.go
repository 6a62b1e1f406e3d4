package profile

import (
	"cmp"
	"slices"
)

// QuantileProbs are the probabilities Column.Quantiles holds, in order:
// the tails (1%, 5%, 95%, 99%), the quartiles and the median.
var QuantileProbs = []float64{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}

// weighted is a value seen count times.
type weighted struct {
	x     float64
	count int64
}

// exactQuantiles returns the quantiles of pts at QuantileProbs by nearest
// rank: the smallest value whose cumulative count reaches q of the total.
// It sorts pts. nil for no points.
func exactQuantiles(pts []weighted) []float64 {
	var n int64
	for _, p := range pts {
		n += p.count
	}
	if n == 0 {
		return nil
	}
	slices.SortFunc(pts, func(a, b weighted) int { return cmp.Compare(a.x, b.x) })
	out := make([]float64, len(QuantileProbs))
	var cum int64
	k := 0
	for _, p := range pts {
		cum += p.count
		for k < len(out) && float64(cum) >= QuantileProbs[k]*float64(n) {
			out[k] = p.x
			k++
		}
	}
	for ; k < len(out); k++ { // rounding at q near 1
		out[k] = pts[len(pts)-1].x
	}
	return out
}
